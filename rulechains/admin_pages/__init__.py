"""The rule chain admin's own pages beside its ModelAdmins (rulechains/admin.py): the graph editor."""
