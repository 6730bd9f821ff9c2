"""The system administrator's settings (ThingsBoard's AdminSettings: general, mail, security, JWT),
the system's info pages, and users' API keys."""
