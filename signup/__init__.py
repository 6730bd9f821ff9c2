"""Self-registration and sign-up (ThingsBoard PE)."""
