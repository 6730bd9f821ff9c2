"""The browser side of the admin: sidebar navigation and the admin views behind the integration
center's pages (converter editor tests, dead-letter replay, device charts)."""
