"""The integration admin's own pages beside its ModelAdmins (integrations/admin.py): the integration
page's schemas, URL and status, and dead-letter replay."""
