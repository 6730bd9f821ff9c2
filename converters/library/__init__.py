"""The converters library: ready-made decoders by vendor and model (reference 3.3, 4.3).

repo.py keeps a checkout of a git repository in ThingsBoard's ``data-converters`` layout,
refreshed by the periodic job ``converters.tasks.refresh_converters_library``; catalogue.py
reads it; service.py creates a tenant's converter from an entry and samples.py runs the
entry's payload/result samples as that converter's tests. The API is converters/api/library.py.
"""
