"""Integrations: transports that receive raw uplinks and send downlinks (issue 4)."""
