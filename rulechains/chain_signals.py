"""Signals about rule chains that the apps above answer (rulechains may not import them):

- :data:`deleting`: sent (sender: RuleChain, ``chain``) by ``DELETE /api/ruleChain/{id}`` before the chain is
  deleted; a receiver refuses the deletion by raising rest_framework's ValidationError (the client's 400,
  nothing deleted). A tenant's deletion (tenants/deletion.py) deletes rows, not through the API: never vetoed.
- :data:`edge_roots`: sent (sender: RuleChain, ``tenant_id``) to learn which of a tenant's EDGE chains render
  ``"root": true`` (ThingsBoard's edge template root, kept by edges/); each receiver answers a set of chain ids.
"""

from django.dispatch import Signal

__all__ = ["deleting", "edge_roots", "edge_root_ids"]

deleting = Signal()
edge_roots = Signal()


def edge_root_ids(tenant_id) -> set:
    """The ids of the tenant's EDGE chains shown as root (empty when no app answers)."""
    from rulechains.models import RuleChain

    ids: set = set()
    for _, answer in edge_roots.send(sender=RuleChain, tenant_id=tenant_id):
        ids.update(answer or ())
    return ids
