"""Rule chains: the engine that routes messages after storage and drives downlinks (issue 6)."""
