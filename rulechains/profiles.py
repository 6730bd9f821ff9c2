"""Device and asset profiles' default rule chains (ThingsBoard's ``defaultRuleChainId``).

As in ThingsBoard, a message whose originator is a device or an asset whose profile names a
default rule chain starts in that chain instead of the tenant's root chain (engine.process), and
the rule chain node's ``forwardMsgToDefaultRuleChain`` sends a message there. The profile API
keeps ``defaultRuleChainId`` in the profile's ``additional_info`` (devices/api/profiles.py).
"""

import time
import uuid

from django.db.models.signals import post_delete, post_save

from devices.models import Asset, AssetProfile, Device, DeviceProfile
from tbproject.process_cache import ProcessCache

__all__ = ["chain_ref", "default_chains", "tenant_has_default_chains"]

_KINDS = (("DEVICE", Device, DeviceProfile), ("ASSET", Asset, AssetProfile))


def chain_ref(additional_info) -> uuid.UUID | None:
    """The rule chain id a profile's ``defaultRuleChainId`` names, if any."""
    ref = (additional_info or {}).get("defaultRuleChainId") if isinstance(additional_info, dict) else None
    ref = ref.get("id") if isinstance(ref, dict) else ref
    try:
        return uuid.UUID(str(ref)) if ref else None
    except ValueError:
        return None


#: Seconds a tenant's profiles with a default rule chain are reused by this process, as its root
#: chain is (engine.CHAIN_CACHE_SECONDS): the lookup was a query per rule-engine batch, about a tenth
#: of a batch of 16 downlinks. Saving or deleting a profile here drops them at once.
CACHE_SECONDS = 2.0
#: (profile model, tenant id) -> {profile id: chain id}
_CACHE = ProcessCache(10_000)


def _profile_chains(profile_model, tenant_ids) -> dict:
    """{profile id: chain id} of the tenants' profiles that name a default rule chain."""
    now, found, missing = time.monotonic(), {}, []
    for tenant in {str(t) for t in tenant_ids}:
        hit = _CACHE.get((profile_model, tenant), now)
        if hit is None:
            missing.append(tenant)
        else:
            found.update(hit)
    if missing:
        generation = _CACHE.generation  # a load that raced with a change does not keep what it read
        loaded: dict[str, dict] = {tenant: {} for tenant in missing}
        rows = profile_model.objects.filter(tenant_id__in=missing).values_list("tenant_id", "pk", "additional_info")
        for tenant_id, pk, info in rows:
            if (chain := chain_ref(info)) is not None:
                loaded[str(tenant_id)][pk] = chain
                found[pk] = chain
        _CACHE.put_many((((profile_model, t), chains) for t, chains in loaded.items()), generation, CACHE_SECONDS,
                        now=now)
    return found


def _forget(sender, **kwargs) -> None:
    _CACHE.forget_now_and_on_commit()


for _model in (DeviceProfile, AssetProfile):
    post_save.connect(_forget, sender=_model, dispatch_uid=f"rulechains.profiles.saved.{_model.__name__}")
    post_delete.connect(_forget, sender=_model, dispatch_uid=f"rulechains.profiles.deleted.{_model.__name__}")


def default_chains(messages) -> dict:
    """{(tenant id, originator id): chain id} for the messages whose originator's profile has a
    default rule chain: one query per entity kind, two when a profile of the tenants has one."""
    tenants = {m.tenant_id for m in messages}
    found = {}
    for kind, model, profile_model in _KINDS:
        ids = {m.originator_id for m in messages if m.originator_type == kind}
        chains = _profile_chains(profile_model, tenants) if ids else {}
        if chains:
            rows = model.objects.filter(pk__in=ids, profile_id__in=list(chains), tenant_id__in=list(tenants))
            for pk, tenant_id, profile_id in rows.values_list("pk", "tenant_id", "profile_id"):
                found[(tenant_id, pk)] = chains[profile_id]
    return found


def tenant_has_default_chains(tenant_id) -> bool:
    return any(_profile_chains(profile_model, [tenant_id]) for _, _, profile_model in _KINDS)
