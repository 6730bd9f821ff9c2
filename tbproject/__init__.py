try:
    from tbproject.celery import app as celery_app
except ModuleNotFoundError as exc:
    # The remote runner's distribution (packaging/remote) ships only tbproject's Django-free helpers.
    if exc.name != "tbproject.celery":
        raise

__all__ = ["celery_app"]
