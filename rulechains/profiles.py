"""Device and asset profiles' default rule chains (ThingsBoard's ``defaultRuleChainId``).

As in ThingsBoard, a message whose originator is a device or an asset whose profile names a
default rule chain starts in that chain instead of the tenant's root chain (engine.process), and
the rule chain node's ``forwardMsgToDefaultRuleChain`` sends a message there. The profile API
keeps ``defaultRuleChainId`` in the profile's ``additional_info`` (devices/api/profiles.py).
"""

import uuid

from devices.models import Asset, AssetProfile, Device, DeviceProfile

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


def _profile_chains(profile_model, tenant_ids) -> dict:
    rows = profile_model.objects.filter(tenant_id__in=list(tenant_ids)).values_list("pk", "additional_info")
    return {pk: chain for pk, info in rows if (chain := chain_ref(info)) is not None}


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
