"""The tenant profile's entity count limits (maxAssets, maxCustomers, maxUsers, maxDashboards, maxRuleChains,
maxIntegrations, maxConverters, maxSchedulerEvents: tenants/limits/entities.py) and resource byte limits, as
ThingsBoard enforces them: one past the limit is a 400 with ThingsBoard's "<Entity type>s limit reached" and
nothing written; 0 is unlimited; another tenant's rows do not count; the admin, sign-up and OAuth refuse too;
``GET /api/usage`` counts what the limits count."""

import base64
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, connections, transaction

from converters.models import Converter
from dashboards.models import Dashboard, Resource
from devices.models import Asset
from integrations.models import Integration
from integrations.tests.factories import DECODER, make_uplink_converter
from rulechains.models import RuleChain
from scheduler.models import SchedulerEvent
from tbproject.clock import now_ms
from tbproject.testing.api import assert_error
from tbproject.testing.factories import make_asset
from tbproject.testing.limits import limit_tenant
from tenants.limits import entities
from tenants.limits.entities import EntitiesLimitReached
from tenants.models import Customer, User

pytestmark = pytest.mark.django_db


def _converter(api, tenant, i):
    body = {"name": f"conv-{i}", "type": "UPLINK", "configuration": {"scriptLang": "JS", "decoder": DECODER}}
    return api.post("/api/converter", body, format="json")


def _integration(api, tenant, i):
    conv = Converter.objects.filter(tenant=tenant, name="limits-uplink").first() \
        or make_uplink_converter(tenant, "limits-uplink")
    body = {"name": f"int-{i}", "type": "HTTP", "defaultConverterId": {"entityType": "CONVERTER", "id": str(conv.pk)},
            "configuration": {"baseUrl": "http://localhost:8080"}}
    return api.post("/api/integration", body, format="json")


def _event(api, tenant, i):
    body = {"name": f"event-{i}", "type": "updateAttributes",
            "schedule": {"timezone": "UTC", "startTime": now_ms() + 3_600_000,
                         "repeat": {"type": "DAILY", "endsOn": 0}},
            "configuration": {"msgType": "POST_ATTRIBUTES_REQUEST", "msgBody": {"mode": "night"},
                              "metadata": {"scope": "SERVER_SCOPE"}}}
    return api.post("/api/schedulerEvent", body, format="json")


#: entity type -> (profile key, its normal name, the model, a REST creation of the i-th one)
KINDS = {
    "ASSET": ("maxAssets", "Asset", Asset,
              lambda api, t, i: api.post("/api/asset", {"name": f"a-{i}", "type": "building"}, format="json")),
    "CUSTOMER": ("maxCustomers", "Customer", Customer,
                 lambda api, t, i: api.post("/api/customer", {"title": f"c-{i}"}, format="json")),
    "USER": ("maxUsers", "User", User,
             lambda api, t, i: api.post("/api/user?sendActivationMail=false",
                                        {"email": f"u-{i}@limits.test", "authority": "TENANT_ADMIN"}, format="json")),
    "DASHBOARD": ("maxDashboards", "Dashboard", Dashboard,
                  lambda api, t, i: api.post("/api/dashboard", {"title": f"d-{i}"}, format="json")),
    "RULE_CHAIN": ("maxRuleChains", "Rule chain", RuleChain,
                   lambda api, t, i: api.post("/api/ruleChain", {"name": f"r-{i}", "type": "CORE"}, format="json")),
    "CONVERTER": ("maxConverters", "Converter", Converter, _converter),
    "INTEGRATION": ("maxIntegrations", "Integration", Integration, _integration),
    "SCHEDULER_EVENT": ("maxSchedulerEvents", "Scheduler event", SchedulerEvent, _event),
}


def _count(model, tenant) -> int:
    return model.objects.filter(tenant=tenant).count()


@pytest.mark.parametrize("kind", list(KINDS))
def test_one_past_the_limit_is_refused_with_thingsboards_text_and_nothing_written(api, tenant, kind):
    key, name, model, create = KINDS[kind]
    if kind == "INTEGRATION":
        make_uplink_converter(tenant, "limits-uplink")
    before = _count(model, tenant)
    limit_tenant(tenant, **{key: before + 1})
    res = create(api, tenant, 1)
    assert res.status_code == 200, res.content
    assert_error(create(api, tenant, 2), 400, f"{name}s limit reached")
    assert _count(model, tenant) == before + 1
    assert entities.count(tenant.pk, kind) == before + 1


@pytest.mark.parametrize("kind", ["ASSET", "CUSTOMER", "DASHBOARD", "SCHEDULER_EVENT"])
def test_zero_or_unset_is_unlimited_and_an_update_is_no_creation(api, tenant, kind):
    key, _, model, create = KINDS[kind]
    limit_tenant(tenant, **{key: 0})
    made = [create(api, tenant, i) for i in range(3)]
    assert [r.status_code for r in made] == [200] * 3
    limit_tenant(tenant, **{key: 1})  # now over it: saving an existing one still works
    body = made[0].json()
    field = "title" if kind in ("CUSTOMER", "DASHBOARD") else "name"
    path = {"ASSET": "/api/asset", "CUSTOMER": "/api/customer", "DASHBOARD": "/api/dashboard",
            "SCHEDULER_EVENT": "/api/schedulerEvent"}[kind]
    assert api.post(path, {**body, field: "renamed"}, format="json").status_code == 200
    assert _count(model, tenant) == 3


def test_another_tenants_rows_are_not_counted(api, tenant, other_tenant):
    for i in range(3):
        make_asset(other_tenant, f"theirs-{i}")
        Customer.objects.create(tenant=other_tenant, title=f"theirs-{i}")
    limit_tenant(tenant, maxAssets=1, maxCustomers=1)
    limit_tenant(other_tenant, maxAssets=1, maxCustomers=1)
    assert KINDS["ASSET"][3](api, tenant, 1).status_code == 200
    assert KINDS["CUSTOMER"][3](api, tenant, 1).status_code == 200
    with pytest.raises(EntitiesLimitReached):
        make_asset(other_tenant, "one more")  # the model path (scripts, imports) too


def test_an_oauth_user_past_max_users_is_refused_with_the_reason(tenant, tenant_admin):
    from oauth import mapper
    from oauth.mapper import LoginError
    from oauth.models import OAuth2Client

    limit_tenant(tenant, maxUsers=1)
    client = OAuth2Client(title="IdP", mapper_config={"allowUserCreation": True, "activateUser": True})
    mapped = mapper.OAuth2User(email="new@idp.test", tenant_name=tenant.title)
    with pytest.raises(LoginError, match="Users limit reached"):
        mapper.user_for(client, mapped)
    assert not User.objects.filter(email="new@idp.test").exists()


def test_the_admin_says_so_on_the_page(client, tenant, tenant_admin):
    limit_tenant(tenant, maxCustomers=1)
    Customer.objects.create(tenant=tenant, title="first")
    client.force_login(tenant_admin)
    res = client.post("/admin/tenants/customer/add/", {"title": "second", "additional_info": "{}"}, follow=True)
    assert res.status_code == 200
    assert "Customers limit reached" in res.content.decode()
    assert list(Customer.objects.filter(tenant=tenant).values_list("title", flat=True)) == ["first"]


def test_resources_past_the_profiles_bytes_are_refused(api, tenant):
    limit_tenant(tenant, maxResourcesInBytes=2048, maxResourceSize=1536)

    def save(name, size):
        return api.post("/api/resource", {"title": name, "resourceType": "JS_MODULE", "fileName": f"{name}.js",
                                          "data": base64.b64encode(b"x" * size).decode()}, format="json")

    assert save("big", 1537).json()["message"] == "Resource exceeds the maximum size of 1 KB"
    assert save("first", 1500).status_code == 200
    assert_error(save("second", 600), 400, "Resources total size exceeds the maximum of 2 KB")
    assert save("third", 548).status_code == 200
    assert sorted(Resource.objects.filter(tenant=tenant).values_list("title", flat=True)) == ["first", "third"]


def test_usage_info_counts_what_the_limits_count(api, tenant, other_tenant):
    limit_tenant(tenant, maxDashboards=5, maxAssets=7)
    for i in range(2):
        assert KINDS["DASHBOARD"][3](api, tenant, i).status_code == 200
    Dashboard.objects.create(tenant=other_tenant, title="theirs")
    make_asset(tenant, "plant")
    usage = api.get("/api/usage").json()
    assert (usage["dashboards"], usage["maxDashboards"]) == (2, 5)
    assert (usage["assets"], usage["maxAssets"], usage["users"], usage["maxUsers"]) == (1, 7, 1, 0)
    from tb_pe_client.models import UsageInfo

    assert UsageInfo.from_dict(usage).dashboards == 2


@pytest.mark.postgres
@pytest.mark.parametrize("atomic", [True, False])
def test_concurrent_creations_cannot_pass_the_limit_together(transactional_db, tenant, atomic):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (SQLite writes one transaction at a time)")
    limit_tenant(tenant, maxCustomers=3)

    def one(i):
        try:
            if atomic:  # the REST API's and the pipeline's way: the tenant's row locked until commit
                with transaction.atomic():
                    Customer.objects.create(tenant=tenant, title=f"race-{i}")
            else:  # a script's save in autocommit: checked before its insert only (an overshoot is accepted)
                Customer.objects.create(tenant=tenant, title=f"race-{i}")
            return "ok"
        except EntitiesLimitReached:
            return "refused"
        finally:
            connections.close_all()

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(one, range(8)))
    kept = Customer.objects.filter(tenant=tenant).count()
    assert kept == results.count("ok")  # never a refused row kept, nor an allowed one deleted
    if atomic:
        assert kept == 3


@pytest.mark.parametrize("kind", ["CUSTOMER", "DEVICE"])
def test_a_save_in_autocommit_is_checked_before_its_insert_and_never_deleted_after(transactional_db, tenant, kind):
    """A script's save (no transaction to lock the tenant in): a racing creation that passed with the same room is
    an accepted overshoot; the committed row, and what others linked to it meanwhile, are never deleted."""
    from django.db.models.signals import pre_save

    from devices.models import Device, DeviceProfile

    profile = DeviceProfile.objects.create(tenant=tenant, name="p")
    model, key = (Customer, "maxCustomers") if kind == "CUSTOMER" else (Device, "maxDevices")

    def new(name):
        if kind == "CUSTOMER":
            return Customer(tenant=tenant, title=name)
        return Device(tenant=tenant, name=name, profile=profile)

    limit_tenant(tenant, **{key: 1})

    def racer(sender, instance, **kwargs):  # another request's creation, between our check and our insert
        if getattr(instance, "title", getattr(instance, "name", "")) == "mine":
            model.objects.bulk_create([new("theirs")])

    pre_save.connect(racer, sender=model, dispatch_uid="test.racer")
    try:
        assert not transaction.get_connection().in_atomic_block
        mine = new("mine")
        mine.save()
    finally:
        pre_save.disconnect(sender=model, dispatch_uid="test.racer")
    assert model.objects.filter(pk=mine.pk).exists() and _count(model, tenant) == 2  # the overshoot, both kept
    with pytest.raises(EntitiesLimitReached, match=f"{KINDS.get(kind, ('', 'Device'))[1]}s limit reached"):
        new("one more").save()  # past the limit: refused before its insert
    assert _count(model, tenant) == 2


def test_a_tenant_without_limits_pays_no_query_for_them(tenant):
    from django.db.models.signals import post_save, pre_save
    from django.test.utils import CaptureQueriesContext

    from devices.models import AssetProfile
    from tenants.limits import limits_of

    profile = AssetProfile.objects.create(tenant=tenant, name="p")
    limits_of(tenant.pk)  # the profile's limits, cached (read at most every few seconds)
    guarded = {Customer: "CUSTOMER", Asset: "ASSET"}

    def creations(tag):
        with CaptureQueriesContext(connection) as ctx:
            Customer.objects.create(tenant=tenant, title=f"c-{tag}")
            make_asset(tenant, f"a-{tag}", profile=profile)
        return [q["sql"].replace(tag, "") for q in ctx.captured_queries]

    creations("warm")  # other per-process caches (e.g. whether the tenant has groups on edges) read once
    with_limits = creations("on")
    for model in guarded:
        label = model._meta.label_lower
        pre_save.disconnect(sender=model, dispatch_uid=f"tenants.limits.entities.pre.{label}")
        post_save.disconnect(sender=model, dispatch_uid=f"tenants.limits.entities.post.{label}")
    try:
        without = creations("off")
    finally:
        for model, entity_type in guarded.items():
            entities.guard(model, entity_type)
    assert len(with_limits) == len(without)
    assert not any("COUNT(" in sql or "tenants_tenant" in sql for sql in with_limits)
