"""The converter admin's own pages beside its ModelAdmins (converters/admin.py): "Create converter
from library"."""
