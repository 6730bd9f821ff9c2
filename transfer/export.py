"""An integration as one JSON package: its ThingsBoard JSON, its uplink and downlink converters,
and the rule chains whose "integration downlink" node sends to it (``{ruleChain, metadata}``, the
shape of ``GET /api/ruleChain/{id}/export``). Every secret is replaced by null and its path listed
under ``requiredSecrets``: a package can be shared without them and asks for them on import."""

from converters.api.serializers import ConverterSerializer
from integrations.api.serializers import IntegrationSerializer
from integrations.models import Integration
from rulechains.api.serializers import RuleChainSerializer
from rulechains.metadata import export_metadata
from rulechains.models import RuleChain, RuleNode
from rulechains.nodes import INTEGRATION_DOWNLINK
from tbproject.clock import now_ms
from transfer.secrets import get_path, put_path, secret_paths
from vault.resolution import is_reference

__all__ = ["PACKAGE_VERSION", "export_package", "downlink_chains", "converters_json", "stored_secrets"]

PACKAGE_VERSION = 1
#: the server's or the running system's: meaningless in another tenant
DROPPED = ("remoteStatus", "routingKey")


def downlink_chains(integration: Integration) -> list[RuleChain]:
    chain_ids = (RuleNode.objects.filter(tenant_id=integration.tenant_id, type=INTEGRATION_DOWNLINK,
                                         configuration__integrationId=str(integration.pk))
                 .values_list("rule_chain_id", flat=True))
    return list(RuleChain.objects.filter(pk__in=chain_ids).order_by("created_time", "pk"))


def converters_json(integration: Integration) -> dict[str, dict]:
    """``{"uplink": ..., "downlink": ...}``: each converter the integration has, as
    ``GET /api/converter/{id}`` answers it."""
    pairs = (("uplink", integration.default_converter), ("downlink", integration.downlink_converter))
    return {direction: dict(ConverterSerializer(c).data) for direction, c in pairs if c is not None}


def stored_secrets(package: dict) -> list[str]:
    """The secret paths of ``package`` (transfer.secrets) that hold a stored secret: the serializers
    show a stored one masked, an unset one empty. A ``${secret:name;type:TEXT}`` placeholder is no secret
    (it names one of the importing tenant's vault): it goes as it is."""
    return [path for path in secret_paths(package)
            if get_path(package, path) not in (None, "") and not is_reference(get_path(package, path))]


def export_package(integration: Integration) -> dict:
    body = dict(IntegrationSerializer(integration).data)
    for key in DROPPED:
        body.pop(key, None)
    package = {
        "packageVersion": PACKAGE_VERSION, "exportedTime": now_ms(), "integration": body,
        "converters": list(converters_json(integration).values()),
        "ruleChains": [{"ruleChain": dict(RuleChainSerializer(chain).data), "metadata": export_metadata(chain)}
                       for chain in downlink_chains(integration)],
    }
    required = stored_secrets(package)
    for path in required:
        put_path(package, path, None)
    package["requiredSecrets"] = required
    return package
