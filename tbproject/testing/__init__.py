"""Shared test helpers: the standard tenants and users, and an authenticated API client."""
