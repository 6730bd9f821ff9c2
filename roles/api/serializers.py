"""JSON of roles and group permissions as tb-pe-client's ``Role``, ``GroupPermission`` and ``GroupPermissionInfo``."""

from django.http import Http404
from rest_framework import serializers

from devices.api.lookups import visible_customer
from devices.models import EntityGroup
from roles import protection, validation
from roles.choices import RoleType
from roles.models import GroupPermission, Role
from tbproject.api.ids import entity_id, parse_uuid
from tbproject.api.serializers import TbEntitySerializer

__all__ = ["RoleSerializer", "GroupPermissionSerializer", "permission_info"]


class RoleSerializer(TbEntitySerializer):
    entity_type = "ROLE"

    name = serializers.CharField(max_length=255, error_messages={
        "required": "Role name should be specified!", "blank": "Role name should be specified!"})
    type = serializers.ChoiceField(choices=RoleType.choices, error_messages={
        "required": "Role type should be specified!", "invalid_choice": "Unsupported role type \"{input}\"; "
                                                                         "use GENERIC or GROUP"})
    permissions = serializers.JSONField(required=False, allow_null=True)
    excludedPermissions = serializers.JSONField(source="excluded_permissions", required=False, allow_null=True)
    customerId = serializers.JSONField(required=False, allow_null=True, write_only=True)
    ownerId = serializers.SerializerMethodField()

    class Meta:
        model = Role
        fields = TbEntitySerializer.base_fields + ("name", "type", "permissions", "excludedPermissions",
                                                   "customerId", "ownerId")

    def to_representation(self, instance):
        out = super().to_representation(instance)
        out["customerId"] = entity_id("CUSTOMER", None)
        return out

    def get_ownerId(self, obj) -> dict:
        return entity_id("TENANT", obj.tenant_id)

    def validate_name(self, value: str) -> str:
        if not value.strip():
            raise serializers.ValidationError("Role name should be specified!")
        return value.strip()

    def validate_type(self, value: str) -> str:
        if self.instance is not None and value != self.instance.type:
            raise serializers.ValidationError("Role type can't be changed!")
        return value

    def validate_customerId(self, value):
        """Roles are tenant-owned here: a customer's id is refused (another tenant's: 404)."""
        raw = value.get("id") if isinstance(value, dict) else value
        if raw in (None, "", "13814000-1dd2-11b2-8080-808080808080"):
            return None
        visible_customer(self.context["request"].user, raw)
        raise serializers.ValidationError("Customer-owned roles are not supported")

    def validate(self, attrs):
        kind = attrs.get("type") or getattr(self.instance, "type", None)
        if "permissions" not in attrs and self.instance is None:
            raise serializers.ValidationError({"permissions": "Role permissions should be specified!"})
        if "permissions" in attrs:
            attrs["permissions"] = (validation.generic_permissions(attrs["permissions"]) if kind == RoleType.GENERIC
                                    else validation.group_permissions(attrs["permissions"]))
        excluded = attrs.get("excluded_permissions")
        if kind == RoleType.GROUP and excluded:
            raise serializers.ValidationError("Excluded permissions apply to generic roles only")
        if "excluded_permissions" in attrs:
            attrs["excluded_permissions"] = validation.generic_permissions(excluded, "excludedPermissions")
        attrs.pop("customerId", None)
        return attrs

    def save(self, **kwargs):
        if self.instance is None:
            kwargs["tenant"] = self.tenant
        return super().save(**kwargs)


def _group_id(value, what: str):
    raw = value.get("id") if isinstance(value, dict) else value
    if raw in (None, ""):
        return None
    if isinstance(value, dict) and value.get("entityType") not in (None, "ENTITY_GROUP"):
        raise serializers.ValidationError(f"{what} must be an ENTITY_GROUP id")
    return parse_uuid(raw, what)


class GroupPermissionSerializer(TbEntitySerializer):
    entity_type = "GROUP_PERMISSION"

    userGroupId = serializers.JSONField(write_only=True, error_messages={
        "required": "User group should be specified!"})
    roleId = serializers.JSONField(write_only=True, error_messages={"required": "Role should be specified!"})
    entityGroupId = serializers.JSONField(write_only=True, required=False, allow_null=True)
    isPublic = serializers.BooleanField(source="is_public", required=False)

    class Meta:
        model = GroupPermission
        fields = ("id", "createdTime", "tenantId", "userGroupId", "roleId", "entityGroupId", "isPublic")

    def to_representation(self, instance):
        out = super().to_representation(instance)
        out.update({
            "userGroupId": entity_id("ENTITY_GROUP", instance.user_group_id),
            "roleId": entity_id("ROLE", instance.role_id),
            "entityGroupId": entity_id("ENTITY_GROUP", instance.entity_group_id) if instance.entity_group_id else None,
            "entityGroupType": instance.entity_group.type if instance.entity_group_id else None,
            "public": instance.is_public,
            "name": f"{instance.role.name} for {instance.user_group.name}",
        })
        return out

    def _tenant_groups(self):
        return EntityGroup.objects.filter(tenant=self.tenant)

    def validate_userGroupId(self, value) -> EntityGroup:
        group_id = _group_id(value, "userGroupId")
        if group_id is None:
            raise serializers.ValidationError("User group should be specified!")
        group = self._tenant_groups().filter(pk=group_id).first()
        if group is None:
            raise Http404(f"User group with id [{group_id}] is not found")
        if group.type != "USER":
            raise serializers.ValidationError(f"Entity group [{group.name}] is not a user group")
        return group

    def validate_roleId(self, value) -> Role:
        raw = value.get("id") if isinstance(value, dict) else value
        if raw in (None, ""):
            raise serializers.ValidationError("Role should be specified!")
        role = Role.objects.filter(tenant=self.tenant, pk=parse_uuid(raw, "roleId")).first()
        if role is None:
            raise Http404(f"Role with id [{raw!s:.40}] is not found")
        return role

    def validate_entityGroupId(self, value) -> EntityGroup | None:
        group_id = _group_id(value, "entityGroupId")
        if group_id is None:
            return None
        group = self._tenant_groups().filter(pk=group_id).first()
        if group is None:
            raise Http404(f"Entity group with id [{group_id}] is not found")
        return group

    def validate(self, attrs):
        role = attrs.pop("roleId", None) or getattr(self.instance, "role", None)
        user_group = attrs.pop("userGroupId", None) or getattr(self.instance, "user_group", None)
        entity_group = attrs.pop("entityGroupId", None)
        if role.type == RoleType.GENERIC and entity_group is not None:
            raise serializers.ValidationError("Generic role can't be assigned to an entity group: leave "
                                              "entityGroupId empty")
        if role.type == RoleType.GROUP and entity_group is None:
            raise serializers.ValidationError("Entity group should be specified for a group role!")
        attrs.update(role=role, user_group=user_group, entity_group=entity_group)
        return attrs

    def save(self, **kwargs):
        if self.instance is None:
            kwargs["tenant"] = self.tenant
        return super().save(**kwargs)


def _owner(group, tenant) -> tuple[dict, str]:
    if group.customer_id:
        return entity_id("CUSTOMER", group.customer_id), group.customer.title
    return entity_id("TENANT", tenant.pk), tenant.title


def permission_info(permission: GroupPermission, request) -> dict:
    """GroupPermissionInfo: the permission with its role and the names and owners of both groups."""
    out = GroupPermissionSerializer(permission, context={"request": request}).data
    entity_group = permission.entity_group
    user_owner, user_owner_name = _owner(permission.user_group, permission.tenant)
    group_owner, group_owner_name = _owner(entity_group, permission.tenant) if entity_group else (None, None)
    out.update({
        "role": RoleSerializer(permission.role, context={"request": request}).data,
        "userGroupName": permission.user_group.name, "userGroupOwnerId": user_owner,
        "userGroupOwnerName": user_owner_name,
        "entityGroupName": entity_group.name if entity_group else None,
        "entityGroupOwnerId": group_owner, "entityGroupOwnerName": group_owner_name,
        "readOnly": protection.is_read_only(permission),
    })
    return out
