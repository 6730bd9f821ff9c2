"""ThingsBoard's entities version control (git sync): a tenant's repository settings, versions
(commits) of its entities laid out as ThingsBoard lays them out, and loading a version back.

    git.py          the repository, through dulwich (pure Python): fetch, read, commit and push
    layout.py       where an entity lives in the repository, commit trailers, tenant filter
    entities.py     one entity to and from its file (ThingsBoard's EntityExportData)
    calls.py        the REST endpoints the entities are read and saved through
    versions.py     creating a version (SINGLE_ENTITY, COMPLEX), listing versions and entities
    loading.py      loading a version (SINGLE_ENTITY, ENTITY_TYPE)
    requests.py     the asynchronous requests and their status
    repository.py   repository and auto-commit settings
    autocommit.py   auto-commit of saved entities of the configured types
"""
