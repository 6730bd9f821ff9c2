"""Operations endpoints of the production processes: health, readiness, metrics, the worker heartbeat."""
