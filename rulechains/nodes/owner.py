"""ThingsBoard PE's "change owner" node (action.TbChangeOwnerNode).

The originator device or asset gets a new owner: the tenant (``ownerType`` TENANT) or the
customer titled ``ownerNamePattern`` (CUSTOMER), created first when missing and
``createOwnerIfNotExists`` is set. It is the "assign to customer" node's work
(rulechains/nodes/entity_owners.py) with the owner chosen by type; customers here have no
sub-customers, so ``createOwnerOnOriginatorLevel`` creates the customer at the tenant level too.
"""

from rulechains.nodes.base import ConfigError, bool_option, field
from rulechains.nodes.entities import cache_seconds, pattern
from rulechains.nodes.entity_owners import AssignToCustomerNode, UnassignFromCustomerNode

__all__ = ["ChangeOwnerNode"]

OWNER_TYPES = ("TENANT", "CUSTOMER")


class ChangeOwnerNode(AssignToCustomerNode):
    """Changes the owner of the originator (a device or asset of the tenant); an entity already
    owned by the target stays as it is (Success). A missing customer without
    ``createOwnerIfNotExists`` is a Failure with ThingsBoard's "Customer with title ..." text."""

    label = "change owner"
    originator_types = ("DEVICE", "ASSET")
    defaults = {"ownerType": "TENANT", "ownerNamePattern": "", "createOwnerIfNotExists": False,
                "createOwnerOnOriginatorLevel": False, "ownerCacheExpiration": 300}
    fields = (field("ownerType", "select", "Owner type", choices=OWNER_TYPES),
              field("ownerNamePattern", label="Customer title", help="${metadataKey}, $[dataKey]; CUSTOMER only"),
              field("createOwnerIfNotExists", "bool", "Create new customer if it doesn't exist"),
              field("createOwnerOnOriginatorLevel", "bool", "Create new customer on the same level as the originator"))

    @classmethod
    def clean_config(cls, configuration):
        owner = configuration.get("ownerType") or "TENANT"
        if owner not in OWNER_TYPES:
            raise ConfigError(f"ownerType must be TENANT or CUSTOMER, got {str(owner)[:40]!r}")
        cache_seconds(configuration, "ownerCacheExpiration")
        name = pattern(configuration, "ownerNamePattern")
        if owner == "CUSTOMER" and not name.strip():
            raise ConfigError("ownerNamePattern: Customer title should be specified!")
        bool_option(configuration, "createOwnerOnOriginatorLevel")
        # the assign node's keys, so that its prepare/resolve/apply run unchanged
        return {"ownerType": owner, "customerNamePattern": name,
                "createCustomerIfNotExists": bool_option(configuration, "createOwnerIfNotExists")}

    def prepare(self, ctx, msgs):
        if self.config["ownerType"] == "CUSTOMER":
            super().prepare(ctx, msgs)

    def resolve(self, ctx, msg):
        return super().resolve(ctx, msg) if self.config["ownerType"] == "CUSTOMER" else None

    def apply(self, entity, target):
        if target is None:
            UnassignFromCustomerNode.apply(self, entity, target)
        else:
            super().apply(entity, target)
