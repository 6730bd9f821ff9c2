"""Secrets (ThingsBoard PE)."""
