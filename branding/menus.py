"""Custom menus (ThingsBoard 4.x): who may make which, assigning them, and the menu a user gets.

    create(owner, info, assign_to, force)   CustomMenuInfo -> a menu without config, assigned as it says
    assign(menu, assignee_type, ids, force) an entity has one menu per owner level and scope: taking it from
                                            another menu (or taking ALL from one) needs ``force``, else 400
    end_user(user)                          the config the user's UI shows, most specific first: a menu
        assigned to the user; its customer's ALL menu; the tenant's menu for its customer (CUSTOMERS); the
        tenant's USER_GROUPS menu of one of its groups; the tenant's ALL menu; the system's ALL menu of its
        scope; None (the UI's default menu)
"""

from django.db import transaction
from django.http import Http404
from rest_framework.exceptions import ValidationError

from branding.choices import AssigneeType as AT
from branding.levels import Owner, user_owner
from branding.menu_config import clean_config
from branding.models import CustomMenu, CustomMenuAssignee
from devices.models import EntityGroup
from tbproject.api.ids import entity_id, parse_uuid
from tenants.choices import Authority
from tenants.models import Customer, User

__all__ = ["create", "assign", "delete", "rename", "set_config", "info_json", "menu_json", "assignee_list",
           "end_user", "visible", "SCOPE_OF"]

SCOPES = {"SYSTEM": ("SYSTEM", "TENANT", "CUSTOMER"), "TENANT": ("TENANT", "CUSTOMER"), "CUSTOMER": ("CUSTOMER",)}
ASSIGNEES = {
    ("SYSTEM", "SYSTEM"): (AT.NO_ASSIGN, AT.ALL, AT.USERS), ("SYSTEM", "TENANT"): (AT.NO_ASSIGN, AT.ALL),
    ("SYSTEM", "CUSTOMER"): (AT.NO_ASSIGN, AT.ALL),
    ("TENANT", "TENANT"): (AT.NO_ASSIGN, AT.ALL, AT.USERS, AT.USER_GROUPS),
    ("TENANT", "CUSTOMER"): (AT.NO_ASSIGN, AT.ALL, AT.CUSTOMERS, AT.USERS),
    ("CUSTOMER", "CUSTOMER"): (AT.NO_ASSIGN, AT.ALL, AT.USERS),
}
SCOPE_OF = {Authority.SYS_ADMIN: "SYSTEM", Authority.TENANT_ADMIN: "TENANT", Authority.CUSTOMER_USER: "CUSTOMER"}
_TYPES = {AT.CUSTOMERS: "CUSTOMER", AT.USERS: "USER", AT.USER_GROUPS: "ENTITY_GROUP"}


def visible(owner: Owner):
    return CustomMenu.objects.filter(**owner.filter())


def _owner(menu: CustomMenu) -> Owner:
    return Owner(menu.tenant_id, menu.customer_id)


def _key(menu: CustomMenu) -> str:
    return f"{menu.level}:{menu.scope}"


def _name(value) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError("Custom menu name should be specified!")
    if len(value) > 255:
        raise ValidationError("Custom menu name is longer than 255 characters")
    return value.strip()


def _entities(menu: CustomMenu, assignee_type: str, ids: list) -> dict:
    """id -> (entity type, name) of the assignees, each among what the menu's owner may assign (else 404)."""
    ids = list(dict.fromkeys(parse_uuid(i) for i in ids))
    owner = _owner(menu)
    if assignee_type == AT.CUSTOMERS:
        rows = {c.pk: c.title for c in Customer.objects.filter(tenant_id=owner.tenant_id, pk__in=ids)}
    elif assignee_type == AT.USER_GROUPS:
        rows = {g.pk: g.name for g in EntityGroup.objects.filter(tenant_id=owner.tenant_id, type="USER", pk__in=ids)}
    else:
        users = User.objects.filter(pk__in=ids, authority={"SYSTEM": Authority.SYS_ADMIN, "TENANT":
                                    Authority.TENANT_ADMIN}.get(menu.scope, Authority.CUSTOMER_USER))
        users = users.filter(tenant_id=owner.tenant_id) if owner.tenant_id else users
        users = users.filter(customer_id=owner.customer_id) if owner.customer_id else users
        rows = {u.pk: u.email for u in users}
    missing = [i for i in ids if i not in rows]
    if missing:
        raise Http404(f"Requested item wasn't found: {missing[0]}")
    return {i: (_TYPES[assignee_type], rows[i]) for i in ids}


def assign(menu: CustomMenu, assignee_type: str, ids: list, force: bool) -> None:
    if assignee_type not in ASSIGNEES[(menu.level, menu.scope)]:
        allowed = ", ".join(ASSIGNEES[(menu.level, menu.scope)])
        raise ValidationError(f"Assignee type {assignee_type} is not allowed for a {menu.scope} menu here; "
                              f"use one of: {allowed}")
    entities = _entities(menu, assignee_type, ids) if assignee_type in _TYPES else {}
    if assignee_type in _TYPES and not entities:
        raise ValidationError(f"Assignee type {assignee_type} needs a list of ids")
    with transaction.atomic():
        if assignee_type == AT.ALL:
            others = visible(_owner(menu)).filter(scope=menu.scope, assignee_type=AT.ALL).exclude(pk=menu.pk)
            if others and not force:
                raise ValidationError(f"Custom menu '{others[0].name}' is already assigned to all {menu.scope.lower()} "
                                      "users: use force=true to reassign")
            others.update(assignee_type=AT.NO_ASSIGN)
        taken = CustomMenuAssignee.objects.filter(key=_key(menu), entity_id__in=entities).exclude(menu=menu)
        if taken and not force:
            first = taken.select_related("menu")[0]
            raise ValidationError(f"{entities[first.entity_id][1]} is already assigned to custom menu "
                                  f"'{first.menu.name}': use force=true to reassign")
        taken.delete()
        menu.assignees.all().delete()
        CustomMenuAssignee.objects.bulk_create(CustomMenuAssignee(menu=menu, entity_type=kind, entity_id=pk,
                                                                  key=_key(menu)) for pk, (kind, _) in entities.items())
        menu.assignee_type = assignee_type
        menu.save(update_fields=["assignee_type", "version"])


def create(owner: Owner, info, assign_to: list, force: bool) -> CustomMenu:
    if not isinstance(info, dict):
        raise ValidationError("Request body must be a JSON object")
    if info.get("id"):
        raise ValidationError("A custom menu is created without an id: use PUT /api/customMenu/{id}/config")
    scope = info.get("scope")
    if scope not in SCOPES[owner.level]:
        raise ValidationError(f"'scope' must be one of: {', '.join(SCOPES[owner.level])}")
    assignee_type = info.get("assigneeType") or AT.NO_ASSIGN
    if assignee_type not in AT.values:
        raise ValidationError(f"'assigneeType' must be one of: {', '.join(AT.values)}")
    with transaction.atomic():
        menu = CustomMenu.objects.create(name=_name(info.get("name")), scope=scope, config={"items": []},
                                         **owner.filter())
        assign(menu, assignee_type, assign_to, force)
    return menu


def delete(menu: CustomMenu, force: bool) -> dict:
    """CustomMenuDeleteResult; a menu with assignees stays unless ``force``."""
    assignees = assignee_list(menu)
    if assignees and not force:
        return {"success": False, "assigneeType": menu.assignee_type, "assigneeList": assignees}
    menu.delete()
    return {"success": True, "assigneeType": None, "assigneeList": None}


def rename(menu: CustomMenu, name) -> None:
    menu.name = _name(name)
    menu.save(update_fields=["name", "version"])


def set_config(menu: CustomMenu, config) -> CustomMenu:
    menu.config = clean_config(config, menu.tenant_id)
    menu.save(update_fields=["config", "version"])
    return menu


def info_json(menu: CustomMenu) -> dict:
    groups = []
    if menu.assignee_type == AT.USER_GROUPS:
        ids = menu.assignees.values_list("entity_id", flat=True)
        groups = list(EntityGroup.objects.filter(pk__in=ids).values_list("name", flat=True))
    return {"id": entity_id("CUSTOM_MENU", menu.pk), "createdTime": menu.created_time,
            "tenantId": entity_id("TENANT", menu.tenant_id), "customerId": entity_id("CUSTOMER", menu.customer_id),
            "name": menu.name, "scope": menu.scope, "assigneeType": menu.assignee_type, "userGroupNames": groups}


def menu_json(menu: CustomMenu) -> dict:
    return {**info_json(menu), "config": menu.config or {"items": []}}


def assignee_list(menu: CustomMenu) -> list[dict]:
    rows = list(menu.assignees.all())
    names = {}
    for kind, model, field in (("CUSTOMER", Customer, "title"), ("USER", User, "email"),
                               ("ENTITY_GROUP", EntityGroup, "name")):
        ids = [r.entity_id for r in rows if r.entity_type == kind]
        if ids:
            names.update(dict(model.objects.filter(pk__in=ids).values_list("pk", field)))
    return [{"id": entity_id(r.entity_type, r.entity_id), "name": names.get(r.entity_id, "")} for r in rows]


def end_user(user) -> dict | None:
    mine = CustomMenu.objects.filter(scope=SCOPE_OF[user.authority]).order_by("created_time")
    owner, tenant, system = user_owner(user), Owner(user.tenant_id), Owner()
    assigned = mine.filter(assignees__entity_type="USER", assignees__entity_id=user.pk)
    candidates = [assigned.filter(**owner.filter())]
    if owner.customer_id:
        candidates += [assigned.filter(**tenant.filter()), mine.filter(assignee_type=AT.ALL, **owner.filter()),
                       mine.filter(assignee_type=AT.CUSTOMERS, assignees__entity_id=user.customer_id,
                                   **tenant.filter())]
    if user.tenant_id:
        if user.authority == Authority.TENANT_ADMIN:
            groups = list(user.entity_groups.values_list("pk", flat=True))
            candidates.append(mine.filter(assignee_type=AT.USER_GROUPS, assignees__entity_id__in=groups,
                                          **tenant.filter()))
        candidates.append(mine.filter(assignee_type=AT.ALL, **tenant.filter()))
    candidates.append(mine.filter(assignee_type=AT.ALL, **system.filter()))
    for queryset in candidates:
        menu = queryset.first()
        if menu is not None:
            return menu.config or {"items": []}
    return None
