"""ThingsBoard PE 4.4's solution export/import (``/api/solution/export|import|validate``): a set of a
tenant's entities as one portable JSON (``SolutionData``: ``{"entities": {<entity type>: [EntityExportData]}}``)
that imports into the same or another tenant.

Each entity is read and saved by version control's exporter and importer (transfer/vc/entities.py), so
its JSON is the one a version holds, its ids are external ids (an entity loaded from elsewhere keeps the
id it came with) and a second import updates what the first created instead of duplicating it.

    shape.py      the request and the solution's JSON: checks, attribute rows, entity references
    exporting.py  the export: entities by internal and/or external id, dependency warnings
    plan.py       what an import would do: targets, conflicts, entity limits, missing dependencies
    importing.py  the import (one transaction) and the validation (the plan, nothing written)
"""
