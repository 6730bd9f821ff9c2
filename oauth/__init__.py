"""OAuth 2.0 clients, domains and mobile apps (ThingsBoard PE)."""
