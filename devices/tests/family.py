"""Tests every device/asset-family endpoint once, for a kind named by the subclass (NetBox-style mixin).

test_api_devices.py and test_api_assets.py subclass :class:`EntityFamilyTests` with their ``kind``.
Responses are parsed with ThingsBoard's own generated client models, so a shape the client cannot
read fails here.
"""

from dataclasses import dataclass
from typing import Any

import pytest

from devices.models import EntityGroup
from tbproject.testing.api import assert_error, assert_isolated, assert_unchanged, page_names, snapshot
from tbproject.testing.factories import make_customer, make_group
from tenants.choices import NULL_UUID

__all__ = ["Kind", "EntityFamilyTests", "BAD_PAGING"]

BAD_PAGING = [
    ("page=0", "Required request parameter 'pageSize' is not present"),
    ("pageSize=10", "Required request parameter 'page' is not present"),
    ("pageSize=abc&page=0", "Parameter 'pageSize' must be an integer"),
    ("pageSize=10&page=-1", "Parameter 'page' must be >= 0"),
    ("pageSize=0&page=0", "Parameter 'pageSize' must be >= 1"),
    ("pageSize=10&page=0&sortProperty=password", "Unsupported sortProperty 'password'"),
    ("pageSize=10&page=0&sortProperty=name&sortOrder=UP", "Parameter 'sortOrder' must be ASC or DESC"),
]


@dataclass(frozen=True)
class Kind:
    single: str  # "device"
    plural: str  # "devices"
    entity_type: str  # "DEVICE"
    label: str  # "Device"
    profile_field: str  # "deviceProfileId"
    model: Any
    profile_model: Any
    make: Any  # factory(tenant, name, profile=None, customer=None)
    client_model: Any  # tb_pe_client model, e.g. Device
    client_info_model: Any
    client_page_model: Any
    client_info_page_model: Any


class EntityFamilyTests:
    kind: Kind

    # --- helpers -------------------------------------------------------------------------------
    def url(self, path: str) -> str:
        return "/api/" + path.format(s=self.kind.single, p=self.kind.plural)

    def save(self, client, body, query=""):
        return client.post(self.url("{s}") + query, body, format="json")

    # --- save ----------------------------------------------------------------------------------
    def test_it_creates_with_a_new_type_and_answers_200_with_the_saved_json(self, api, tenant):
        res = self.save(api, {"name": "A-1", "type": "thermometer", "label": "Hall"})
        assert res.status_code == 200, res.content
        body = res.json()
        parsed = self.kind.client_model.from_dict(body)
        assert parsed.name == "A-1" and parsed.type == "thermometer" and parsed.label == "Hall"
        assert body["id"]["entityType"] == self.kind.entity_type
        assert body["tenantId"] == {"entityType": "TENANT", "id": str(tenant.pk)}
        assert body["customerId"]["id"] == NULL_UUID
        assert body["ownerId"] == {"entityType": "TENANT", "id": str(tenant.pk)}
        assert isinstance(body["createdTime"], int) and isinstance(body["version"], int)
        profile = self.kind.profile_model.objects.get(tenant=tenant, name="thermometer")
        profile_id = {"entityType": f"{self.kind.entity_type}_PROFILE", "id": str(profile.pk)}
        assert body[self.kind.profile_field] == profile_id

    def test_it_uses_the_default_profile_without_type_or_profile_id(self, api, tenant):
        body = self.save(api, {"name": "plain"}).json()
        assert body["type"] == "default"

    def test_it_uses_the_profile_id_over_the_type(self, api, tenant):
        profile = self.kind.profile_model.objects.create(tenant=tenant, name="special")
        body = self.save(api, {"name": "p", "type": "ignored",
                               self.kind.profile_field: {"id": str(profile.pk)}}).json()
        assert body["type"] == "special"
        assert not self.kind.profile_model.objects.filter(name="ignored").exists()

    def test_it_round_trips_a_fetched_object_and_ignores_server_owned_fields(self, api, tenant, other_tenant):
        obj = self.kind.make(tenant, "rt")
        fetched = api.get(self.url(f"{{s}}/{obj.pk}")).json()
        posted = self.kind.client_model.from_dict(fetched).to_dict()
        posted.update(label="new label", createdTime=1, version=99,
                      tenantId={"entityType": "TENANT", "id": str(other_tenant.pk)})
        res = self.save(api, posted)
        assert res.status_code == 200, res.content
        body = res.json()
        assert body["label"] == "new label"
        assert body["createdTime"] == fetched["createdTime"]
        assert body["version"] == fetched["version"] + 1
        assert body["tenantId"]["id"] == str(tenant.pk)
        assert self.kind.model.objects.count() == 1

    def test_it_refuses_a_duplicate_name_and_creates_nothing(self, api, tenant):
        self.kind.make(tenant, "dup")
        res = self.save(api, {"name": "dup", "type": "brand-new-type"})
        assert_error(res, 400, f"{self.kind.label} with such name already exists!")
        assert self.kind.model.objects.count() == 1
        assert not self.kind.profile_model.objects.filter(name="brand-new-type").exists()

    @pytest.mark.parametrize("body", [{}, {"name": ""}, {"name": "   "}, {"name": None}])
    def test_it_requires_a_name(self, api, body):
        assert_error(self.save(api, body), 400, f"{self.kind.label} name should be specified!")

    def test_it_uniquifies_a_conflicting_name_when_asked(self, api, tenant):
        self.kind.make(tenant, "twin")
        query = "?nameConflictPolicy=UNIQUIFY&uniquifyStrategy=INCREMENTAL&uniquifySeparator=-"
        assert self.save(api, {"name": "twin"}, query).json()["name"] == "twin-1"
        assert self.save(api, {"name": "twin"}, query).json()["name"] == "twin-2"
        random_name = self.save(api, {"name": "twin"}, "?nameConflictPolicy=UNIQUIFY").json()["name"]
        assert random_name.startswith("twin_") and len(random_name) == len("twin_") + 6
        assert_error(self.save(api, {"name": "twin"}, "?nameConflictPolicy=MAYBE"), 400, "nameConflictPolicy")

    def test_it_adds_the_saved_entity_to_the_named_groups(self, api, tenant):
        first, second = (make_group(tenant, n, self.kind.entity_type) for n in ("g1", "g2"))
        res = self.save(api, {"name": "grouped"}, f"?entityGroupId={first.pk}&entityGroupIds={second.pk}")
        assert res.status_code == 200, res.content
        obj = self.kind.model.objects.get(name="grouped")
        assert set(obj.groups.filter(group_all=False)) == {first, second}

    def test_it_refuses_groups_of_another_tenant_or_kind_and_creates_nothing(self, api, tenant, other_tenant):
        other_kind = "ASSET" if self.kind.entity_type == "DEVICE" else "DEVICE"
        foreign = make_group(other_tenant, "theirs", self.kind.entity_type)
        wrong = make_group(tenant, "wrong", other_kind)
        assert_error(self.save(api, {"name": "x"}, f"?entityGroupId={foreign.pk}"), 404)
        assert_error(self.save(api, {"name": "x"}, f"?entityGroupId={wrong.pk}"), 400, f"not {self.kind.entity_type}")
        assert not self.kind.model.objects.exists()

    # --- tenant isolation and bad ids ----------------------------------------------------------
    def test_it_answers_404_for_another_tenants_entity_and_changes_nothing(self, api, other_tenant):
        theirs = self.kind.make(other_tenant, "theirs")
        assert_isolated(api, theirs, single=self.kind.single, update={"name": "stolen"})

    def test_it_answers_404_for_another_tenants_profile_or_customer_and_creates_nothing(self, api, other_tenant):
        profile = self.kind.profile_model.objects.get(tenant=other_tenant, is_default=True)
        customer = make_customer(other_tenant, "Their customer")
        res = self.save(api, {"name": "x", self.kind.profile_field: {"id": str(profile.pk)}})
        assert_error(res, 404)
        assert_error(self.save(api, {"name": "x", "customerId": {"id": str(customer.pk)}}), 404)
        assert not self.kind.model.objects.exists()

    def test_it_does_not_move_an_entity_to_another_tenants_customer(self, api, tenant, other_tenant):
        obj = self.kind.make(tenant, "mine")
        before = snapshot(obj)
        customer = make_customer(other_tenant, "Their customer")
        body = {"id": {"id": str(obj.pk)}, "name": "mine", "customerId": {"id": str(customer.pk)}}
        assert_error(self.save(api, body), 404)
        assert_error(api.post(self.url(f"customer/{customer.pk}/{{s}}/{obj.pk}")), 404)
        assert_unchanged(obj, before)

    @pytest.mark.parametrize("path", ["{s}/nope", "{s}/info/nope", "customer/nope/{p}?pageSize=1&page=0",
                                      "{p}?{s}Ids=nope"])
    def test_it_answers_400_for_a_malformed_id(self, api, path):
        assert_error(api.get(self.url(path)), 400, "Invalid UUID string: nope")

    def test_it_answers_400_for_malformed_ids_in_the_body(self, api):
        assert_error(self.save(api, {"id": {"id": "12"}, "name": "x"}), 400, "Invalid UUID string")
        assert_error(self.save(api, {"name": "x", self.kind.profile_field: "zz"}), 400, "Invalid UUID string")
        assert_error(self.save(api, ["not", "an", "object"]), 400, "must be a JSON object")
        assert not self.kind.model.objects.exists()

    # --- read ----------------------------------------------------------------------------------
    def test_it_gets_and_deletes_by_id(self, api, tenant):
        obj = self.kind.make(tenant, "gone")
        assert self.kind.client_model.from_dict(api.get(self.url(f"{{s}}/{obj.pk}")).json()).name == "gone"
        assert api.delete(self.url(f"{{s}}/{obj.pk}")).status_code == 200
        assert not self.kind.model.objects.exists()
        assert_error(api.get(self.url(f"{{s}}/{obj.pk}")), 404)

    def test_it_pages_filters_and_sorts_the_tenant_list(self, api, tenant, other_tenant):
        other_profile = self.kind.profile_model.objects.create(tenant=tenant, name="meter")
        for name in ("b-two", "a-one", "c-three"):
            self.kind.make(tenant, name)
        self.kind.make(tenant, "meter-x", profile=other_profile)
        self.kind.make(other_tenant, "a-theirs")
        res = api.get(self.url("tenant/{p}?pageSize=2&page=0"))
        page = self.kind.client_page_model.from_dict(res.json())
        assert [d.name for d in page.data] == ["a-one", "b-two"]
        assert (page.total_elements, page.total_pages, page.has_next) == (4, 2, True)
        assert page_names(api.get(self.url("tenant/{p}?pageSize=2&page=1"))) == ["c-three", "meter-x"]
        assert page_names(api.get(self.url("tenant/{p}?pageSize=10&page=5"))) == []
        assert page_names(api.get(self.url("tenant/{p}?pageSize=10&page=0&type=meter"))) == ["meter-x"]
        assert page_names(api.get(self.url("tenant/{p}?pageSize=10&page=0&textSearch=TH"))) == ["c-three"]
        desc = api.get(self.url("tenant/{p}?pageSize=10&page=0&sortProperty=name&sortOrder=DESC"))
        assert page_names(desc) == ["meter-x", "c-three", "b-two", "a-one"]

    @pytest.mark.parametrize(("query", "message"), BAD_PAGING)
    def test_it_answers_400_for_bad_paging(self, api, query, message):
        assert_error(api.get(self.url("tenant/{p}?") + query), 400, message)

    def test_it_finds_one_by_name(self, api, tenant, other_tenant):
        obj = self.kind.make(tenant, "Named One")
        self.kind.make(other_tenant, "Theirs")
        param = f"{self.kind.single}Name"
        for path in ("tenant/{s}", "tenant/{p}"):
            assert api.get(self.url(path), {param: "Named One"}).json()["id"]["id"] == str(obj.pk)
            assert_error(api.get(self.url(path), {param: "Theirs"}), 404)
        assert_error(api.get(self.url("tenant/{s}")), 400, f"'{param}' is not present")

    def test_it_lists_by_ids_only_what_the_caller_may_see(self, api, tenant, other_tenant):
        a, b = self.kind.make(tenant, "a"), self.kind.make(tenant, "b")
        theirs = self.kind.make(other_tenant, "theirs")
        param = f"{self.kind.single}Ids"
        res = api.get(self.url("{p}"), {param: f"{b.pk},{theirs.pk},{a.pk}"})
        assert [row["name"] for row in res.json()] == ["b", "a"]
        repeated = api.get(self.url("{p}") + f"?{param}={a.pk}&{param}={b.pk}")
        assert [self.kind.client_model.from_dict(row).name for row in repeated.json()] == ["a", "b"]
        assert_error(api.get(self.url("{p}")), 400, f"'{param}' is not present")

    def test_it_lists_one_customers_entities(self, api, tenant, customer, other_tenant):
        self.kind.make(tenant, "theirs-1", customer=customer)
        self.kind.make(tenant, "unassigned")
        assert page_names(api.get(self.url(f"customer/{customer.pk}/{{p}}?pageSize=10&page=0"))) == ["theirs-1"]
        foreign = make_customer(other_tenant, "Foreign")
        assert_error(api.get(self.url(f"customer/{foreign.pk}/{{p}}?pageSize=10&page=0")), 404)

    def test_it_serves_infos_with_owner_and_profile_names(self, api, tenant, customer):
        assigned = self.kind.make(tenant, "assigned", customer=customer)
        self.kind.make(tenant, "own")
        group = make_group(tenant, "grp", self.kind.entity_type, members=[assigned])
        info = api.get(self.url(f"{{s}}/info/{assigned.pk}")).json()
        parsed = self.kind.client_info_model.from_dict(info)
        assert parsed.owner_name == "Customer A" and info["customerTitle"] == "Customer A"
        assert info["customerIsPublic"] is False
        assert info[f"{self.kind.single}ProfileName"] == "default"
        everything = EntityGroup.objects.get(customer=customer, type=self.kind.entity_type, group_all=True)
        assert sorted(info["groups"], key=lambda g: g["name"]) == [  # its owner's "All" group too
            {"id": {"entityType": "ENTITY_GROUP", "id": str(everything.pk)}, "name": "All"},
            {"id": {"entityType": "ENTITY_GROUP", "id": str(group.pk)}, "name": "grp"}]
        page = api.get(self.url("tenant/{s}Infos?pageSize=10&page=0")).json()
        assert [row["name"] for row in self.kind.client_info_page_model.from_dict(page).to_dict()["data"]] == [
            "assigned", "own"]
        # PE's /infos/all: the tenant's own entities unless includeCustomers=true
        assert page_names(api.get(self.url("{s}Infos/all?pageSize=10&page=0"))) == ["own"]
        everything = api.get(self.url("{s}Infos/all?pageSize=10&page=0&includeCustomers=true"))
        assert page_names(everything) == ["assigned", "own"]
        by_customer = api.get(self.url(f"customer/{customer.pk}/{{s}}Infos?pageSize=10&page=0"))
        assert page_names(by_customer) == ["assigned"]
        assert_error(api.get(self.url("{s}Infos/all?pageSize=10&page=0&includeCustomers=yes")), 400, "true or false")

    def test_it_lists_types_as_entity_subtypes(self, api, tenant, other_tenant):
        self.kind.profile_model.objects.create(tenant=tenant, name="zeta")
        self.kind.profile_model.objects.create(tenant=other_tenant, name="theirs")
        res = api.get(self.url("{s}/types"))
        assert res.json() == [{"tenantId": {"entityType": "TENANT", "id": str(tenant.pk)},
                               "entityType": self.kind.entity_type, "type": name} for name in ("default", "zeta")]

    def test_it_lists_a_groups_members(self, api, tenant, other_tenant):
        inside, _ = self.kind.make(tenant, "in"), self.kind.make(tenant, "out")
        group = make_group(tenant, "g", self.kind.entity_type, members=[inside])
        assert page_names(api.get(self.url(f"entityGroup/{group.pk}/{{p}}?pageSize=10&page=0"))) == ["in"]
        theirs = make_group(other_tenant, "g", self.kind.entity_type)
        assert_error(api.get(self.url(f"entityGroup/{theirs.pk}/{{p}}?pageSize=10&page=0")), 404)

    # --- assignment ----------------------------------------------------------------------------
    def test_it_assigns_and_unassigns_a_customer(self, api, tenant, customer):
        obj = self.kind.make(tenant, "x")
        res = api.post(self.url(f"customer/{customer.pk}/{{s}}/{obj.pk}"))
        assert res.status_code == 200 and res.json()["customerId"]["id"] == str(customer.pk)
        res = api.delete(self.url(f"customer/{{s}}/{obj.pk}"))
        assert res.status_code == 200 and res.json()["customerId"]["id"] == NULL_UUID
        assert_error(api.delete(self.url(f"customer/{{s}}/{obj.pk}")), 400, "isn't assigned to any customer")

    def test_it_changes_the_owner_the_pe_way(self, api, tenant, customer, other_tenant):
        obj = self.kind.make(tenant, "x")
        kind = self.kind.entity_type
        tenants_group = make_group(tenant, "before", kind, [obj])
        group = EntityGroup.objects.create(tenant=tenant, customer=customer, name="after", type=kind)
        res = api.post(f"/api/owner/CUSTOMER/{customer.pk}/{kind}/{obj.pk}", [str(group.pk)], format="json")
        assert res.status_code == 200, res.content
        obj.refresh_from_db()
        # out of the tenant's groups, into the named ones of its new owner (devices/group_owners.py)
        assert obj.customer == customer and list(obj.groups.filter(group_all=False)) == [group]
        assert_error(api.post(f"/api/owner/TENANT/{tenant.pk}/{kind}/{obj.pk}", [str(group.pk)], format="json"),
                     400, f"Entity [{obj.pk}] is not owned by the owner of entity group [after]")
        assert api.post(f"/api/owner/TENANT/{tenant.pk}/{kind}/{obj.pk}", [str(tenants_group.pk)], format="json") \
            .status_code == 200
        obj.refresh_from_db()
        assert obj.customer is None and list(obj.groups.filter(group_all=False)) == [tenants_group]
        assert obj.groups.get(group_all=True).customer_id is None  # the tenant's "All" group again
        before = snapshot(obj)
        foreign = make_customer(other_tenant, "Foreign")
        assert_error(api.post(f"/api/owner/CUSTOMER/{foreign.pk}/{kind}/{obj.pk}"), 404)
        assert_error(api.post(f"/api/owner/TENANT/{other_tenant.pk}/{kind}/{obj.pk}"), 404)
        assert_error(api.post(f"/api/owner/TENANT/{tenant.pk}/DASHBOARD/{obj.pk}"), 400, "Unsupported entity type")
        assert_unchanged(obj, before)

    # --- who may do what -----------------------------------------------------------------------
    def test_a_customer_user_reads_only_their_customers_entities(self, customer_api, tenant, customer):
        mine = self.kind.make(tenant, "mine", customer=customer)
        other = self.kind.make(tenant, "tenant-owned")
        assert customer_api.get(self.url(f"{{s}}/{mine.pk}")).status_code == 200
        assert_error(customer_api.get(self.url(f"{{s}}/{other.pk}")), 404)
        assert_error(customer_api.get(self.url(f"{{s}}/info/{other.pk}")), 404)
        assert page_names(customer_api.get(self.url("user/{p}?pageSize=10&page=0"))) == ["mine"]
        assert page_names(customer_api.get(self.url("{s}Infos/all?pageSize=10&page=0"))) == ["mine"]
        assert page_names(customer_api.get(self.url(f"customer/{customer.pk}/{{p}}?pageSize=10&page=0"))) == ["mine"]
        ids = customer_api.get(self.url("{p}"), {f"{self.kind.single}Ids": f"{mine.pk},{other.pk}"}).json()
        assert [row["name"] for row in ids] == ["mine"]
        sibling = make_customer(tenant, "Sibling")
        assert_error(customer_api.get(self.url(f"customer/{sibling.pk}/{{p}}?pageSize=10&page=0")), 404)
        assert_error(customer_api.get(self.url("tenant/{p}?pageSize=10&page=0")), 403)

    def test_a_customer_user_gets_403_on_writes_and_nothing_changes(self, customer_api, tenant, customer):
        mine = self.kind.make(tenant, "mine", customer=customer)
        before = snapshot(mine)
        assert_error(self.save(customer_api, {"name": "new"}), 403)
        assert_error(self.save(customer_api, {"id": {"id": str(mine.pk)}, "name": "renamed"}), 403)
        assert_error(customer_api.delete(self.url(f"{{s}}/{mine.pk}")), 403)
        assert_error(customer_api.delete(self.url(f"customer/{{s}}/{mine.pk}")), 403)
        assert_unchanged(mine, before)
        assert self.kind.model.objects.count() == 1

    def test_a_sysadmin_gets_403_on_tenant_data(self, sysadmin, tenant):
        from tbproject.testing.fixtures import api_as

        obj = self.kind.make(tenant, "x")
        client = api_as(sysadmin)
        assert_error(client.get(self.url("tenant/{p}?pageSize=10&page=0")), 403)
        assert_error(client.get(self.url(f"{{s}}/{obj.pk}")), 403)
        assert_error(self.save(client, {"name": "y"}), 403)
        assert_error(client.delete(self.url(f"{{s}}/{obj.pk}")), 403)
        assert self.kind.model.objects.count() == 1

    def test_it_answers_401_without_a_token(self, anon):
        assert_error(anon.get(self.url("tenant/{p}?pageSize=10&page=0")), 401)

    def test_deleting_an_entity_leaves_its_groups(self, api, tenant):
        obj = self.kind.make(tenant, "x")
        group = make_group(tenant, "g", self.kind.entity_type, members=[obj])
        api.delete(self.url(f"{{s}}/{obj.pk}"))
        assert EntityGroup.objects.filter(pk=group.pk).exists()
        assert group.members.count() == 0
