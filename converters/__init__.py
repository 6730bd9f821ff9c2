"""Uplink and downlink converters: user scripts run in a sandboxed QuickJS-ng pool (issue 3)."""
