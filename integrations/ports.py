"""Ports of server-type integrations (TCP, UDP, CoAP): one enabled integration per port.

The listener hosts of a deployment listen on the same hosts, so a port is shared by all tenants:
saving an integration whose port an enabled integration already holds is refused, naming it when
it is the same tenant's and saying only "another integration" when it is not (never another
tenant's names). Integrations of one share group (CoAP) may listen on one port together.
"""

from integrations.models import Integration
from integrations.types import TYPES
from integrations.types.base import BaseIntegration, ConfigError

__all__ = ["conflict"]


def _server_kinds() -> list[str]:
    return [kind for kind in TYPES.kinds() if TYPES.load(kind).listen_ports.__func__ is not
            BaseIntegration.listen_ports.__func__]


def _ports(kind: str, configuration: dict) -> set[tuple[str, int, str]]:
    type_class = TYPES.load(kind)
    try:
        return type_class.listen_ports(type_class.parse(configuration))
    except ConfigError:  # a stored configuration an older schema accepted: it holds nothing checkable
        return set()


def conflict(tenant_id, kind: str, configuration: dict, *, exclude_pk=None) -> str | None:
    """Why an enabled integration of ``kind`` with ``configuration`` cannot listen, or None."""
    wanted = _ports(kind, configuration)
    if not wanted:
        return None
    others = (Integration.objects.filter(type__in=_server_kinds(), enabled=True, remote=False)
              .exclude(pk=exclude_pk).only("pk", "tenant_id", "name", "type", "configuration"))
    for other in others:
        for transport, port, group in _ports(other.type, other.configuration):
            for w_transport, w_port, w_group in wanted:
                if (transport, port) == (w_transport, w_port) and not (group and group == w_group):
                    who = f"integration '{other.name}'" if other.tenant_id == tenant_id else "another integration"
                    return f"{transport.upper()} port {port} is already used by {who}"
    return None
