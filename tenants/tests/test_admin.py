"""Admin scoping: each authority sees, edits and is offered only what it owns."""

import pytest

from devices.models import Asset, AssetProfile, Device, DeviceProfile, EntityGroup
from tenants.choices import Authority
from tenants.models import Customer, User

NEW_PASSWORD = "Another-pass-92"


def make_world(tenant, other_tenant):
    """One named row of every kind in each tenant; names say whose they are."""
    rows = {}
    for t, who in ((tenant, "alice"), (other_tenant, "mallory")):
        customer = Customer.objects.create(tenant=t, title=f"{who}-customer")
        profile = DeviceProfile.objects.create(tenant=t, name=f"{who}-profile")
        aprofile = AssetProfile.objects.create(tenant=t, name=f"{who}-aprofile")
        device = Device.objects.create(tenant=t, name=f"{who}-device", profile=profile, customer=customer)
        asset = Asset.objects.create(tenant=t, name=f"{who}-asset", profile=aprofile)
        group = EntityGroup.objects.create(tenant=t, name=f"{who}-group", type="DEVICE")
        rows[who] = {"customer": customer, "deviceprofile": profile, "assetprofile": aprofile,
                     "device": device, "asset": asset, "entitygroup": group}
    return rows


@pytest.fixture
def world(tenant, other_tenant):
    return make_world(tenant, other_tenant)


def change_url(obj) -> str:
    return f"/admin/{obj._meta.app_label}/{obj._meta.model_name}/{obj.pk}/change/"


def list_url(model_name: str) -> str:
    app = "tenants" if model_name in ("customer", "user", "tenant") else "devices"
    return f"/admin/{app}/{model_name}/"


MODELS = ["customer", "deviceprofile", "assetprofile", "device", "asset", "entitygroup"]


@pytest.mark.parametrize("model_name", MODELS)
def test_it_lists_only_the_tenant_admins_own_rows(client, tenant_admin, world, model_name):
    client.force_login(tenant_admin)
    res = client.get(list_url(model_name))
    assert res.status_code == 200
    html = res.content.decode()
    assert str(world["alice"][model_name]) in html
    assert "mallory" not in html


@pytest.mark.parametrize("model_name", MODELS)
def test_it_never_shows_another_tenants_object(client, tenant_admin, world, model_name):
    client.force_login(tenant_admin)
    foreign = world["mallory"][model_name]
    for url in (change_url(foreign), change_url(foreign).replace("/change/", "/delete/"),
                change_url(foreign).replace("/change/", "/history/")):
        res = client.get(url, follow=True)
        assert res.redirect_chain == [("/admin/", 302)], url
        html = res.content.decode()
        assert "doesn’t exist" in html
        assert str(foreign) not in html


def test_it_does_not_change_another_tenants_object_on_post(client, tenant_admin, world):
    client.force_login(tenant_admin)
    foreign = world["mallory"]["customer"]
    res = client.post(change_url(foreign), {"title": "hijacked", "additional_info": "{}"})
    assert res.status_code == 302
    foreign.refresh_from_db()
    assert foreign.title == "mallory-customer"


def test_it_offers_only_own_tenant_choices_for_foreign_keys(client, tenant_admin, world):
    client.force_login(tenant_admin)
    res = client.get("/admin/devices/device/add/")
    assert res.status_code == 200
    form = res.context["adminform"].form
    assert set(form.fields["profile"].queryset.values_list("name", flat=True)) == {"default", "alice-profile"}
    assert list(form.fields["customer"].queryset) == [world["alice"]["customer"]]
    assert "tenant" not in form.fields


def test_it_offers_only_own_tenant_choices_for_many_to_many(client, tenant_admin, world):
    client.force_login(tenant_admin)
    res = client.get(change_url(world["alice"]["entitygroup"]))
    form = res.context["adminform"].form
    assert list(form.fields["devices"].queryset) == [world["alice"]["device"]]
    assert list(form.fields["assets"].queryset) == [world["alice"]["asset"]]


def test_it_rejects_a_foreign_choice_and_creates_new_rows_in_the_own_tenant(client, tenant_admin, tenant, world):
    client.force_login(tenant_admin)
    data = {"name": "new-device", "label": "", "customer": "", "additional_info": "{}"}
    res = client.post("/admin/devices/device/add/", {**data, "profile": world["mallory"]["deviceprofile"].pk})
    assert res.status_code == 200 and res.context["adminform"].form.errors["profile"]
    assert not Device.objects.filter(name="new-device").exists()

    res = client.post("/admin/devices/device/add/", {**data, "profile": world["alice"]["deviceprofile"].pk})
    assert res.status_code == 302
    assert Device.objects.get(name="new-device").tenant == tenant


def test_it_reports_a_duplicate_name_in_the_tenant_as_a_form_error(client, tenant_admin, world):
    client.force_login(tenant_admin)
    res = client.post("/admin/tenants/customer/add/", {"title": "alice-customer", "additional_info": "{}"})
    assert res.status_code == 200
    assert "already exists" in str(res.context["adminform"].form.errors)
    # the same title in another tenant is fine
    res = client.post("/admin/tenants/customer/add/", {"title": "mallory-customer", "additional_info": "{}"})
    assert res.status_code == 302


def test_it_keeps_tenant_admins_out_of_the_tenant_admin(client, tenant_admin, tenant):
    client.force_login(tenant_admin)
    assert client.get("/admin/tenants/tenant/").status_code == 403
    res = client.get(f"/admin/tenants/tenant/{tenant.pk}/change/", follow=True)
    assert res.status_code == 403
    index = client.get("/admin/").content.decode()
    assert "/admin/tenants/tenant/" not in index
    assert "/admin/devices/device/" in index


def test_it_sends_customer_users_to_the_login_page(client, customer_user):
    client.force_login(customer_user)
    for url in ("/admin/", "/admin/devices/device/"):
        res = client.get(url)
        assert res.status_code == 302
        assert res["Location"].startswith("/admin/login/")


def test_it_shows_everything_to_the_sysadmin(client, sysadmin, world):
    client.force_login(sysadmin)
    for model_name in [*MODELS, "tenant"]:
        html = client.get(list_url(model_name)).content.decode()
        if model_name == "tenant":
            assert "Alice Corp" in html and "Mallory Ltd" in html
        else:
            assert str(world["alice"][model_name]) in html and str(world["mallory"][model_name]) in html
    assert client.get(change_url(world["mallory"]["device"])).status_code == 200


def test_it_lets_the_sysadmin_pick_the_tenant_of_a_new_row(client, sysadmin, other_tenant, world):
    client.force_login(sysadmin)
    adminform = client.get("/admin/devices/device/add/").context["adminform"]
    assert adminform.fieldsets[0][1]["fields"][0] == "tenant"
    assert set(adminform.form.fields["tenant"].queryset) == {world["alice"]["device"].tenant, other_tenant}
    data = {"tenant": other_tenant.pk, "name": "sys-made", "label": "", "customer": "", "additional_info": "{}"}
    res = client.post("/admin/devices/device/add/", {**data, "profile": world["alice"]["deviceprofile"].pk})
    assert res.status_code == 200
    assert "same tenant" in str(res.context["adminform"].form.errors["profile"])
    res = client.post("/admin/devices/device/add/", {**data, "profile": world["mallory"]["deviceprofile"].pk})
    assert res.status_code == 302
    assert Device.objects.get(name="sys-made").tenant == other_tenant


# --- users ---------------------------------------------------------------------------------


def test_it_lists_only_the_tenants_users(client, tenant_admin, customer_user, mallory, sysadmin):
    client.force_login(tenant_admin)
    html = client.get("/admin/tenants/user/").content.decode()
    assert tenant_admin.email in html and customer_user.email in html
    assert mallory.email not in html and sysadmin.email not in html
    for foreign in (mallory, sysadmin):
        assert client.get(f"/admin/tenants/user/{foreign.pk}/password/").status_code == 404


def test_it_creates_a_customer_user_in_the_own_tenant(client, tenant_admin, tenant, customer):
    client.force_login(tenant_admin)
    form = client.get("/admin/tenants/user/add/").context["adminform"].form
    assert [c[0] for c in form.fields["authority"].choices if c[0]] == ["TENANT_ADMIN", "CUSTOMER_USER"]
    assert "tenant" not in form.fields
    data = {"email": "New.User@Example.com", "usable_password": "true", "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD, "authority": "CUSTOMER_USER", "customer": customer.pk,
            "first_name": "", "last_name": ""}
    res = client.post("/admin/tenants/user/add/", data)
    assert res.status_code == 302, res.context["adminform"].form.errors
    user = User.objects.get(email="new.user@example.com")
    assert (user.tenant, user.customer, user.authority) == (tenant, customer, Authority.CUSTOMER_USER)
    assert user.check_password(NEW_PASSWORD)


def test_it_refuses_a_sysadmin_made_by_a_tenant_admin_or_a_customer_user_without_customer(client, tenant_admin):
    client.force_login(tenant_admin)
    base = {"email": "x@example.com", "usable_password": "true", "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD, "customer": "", "first_name": "", "last_name": ""}
    for authority, field in (("SYS_ADMIN", "authority"), ("CUSTOMER_USER", "customer")):
        res = client.post("/admin/tenants/user/add/", {**base, "authority": authority})
        assert res.status_code == 200
        assert field in res.context["adminform"].form.errors
    assert not User.objects.filter(email="x@example.com").exists()


def test_it_changes_a_users_password_through_the_admin_form(client, tenant_admin, customer_user):
    client.force_login(tenant_admin)
    url = f"/admin/tenants/user/{customer_user.pk}/password/"
    assert client.get(url).status_code == 200
    res = client.post(url, {"usable_password": "true", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert res.status_code == 302
    customer_user.refresh_from_db()
    assert customer_user.check_password(NEW_PASSWORD)


def test_it_edits_a_user_and_keeps_the_owner_consistent(client, tenant_admin, customer_user, tenant):
    client.force_login(tenant_admin)
    url = f"/admin/tenants/user/{customer_user.pk}/change/"
    data = {"email": customer_user.email, "first_name": "Carol", "last_name": "", "authority": "CUSTOMER_USER",
            "customer": customer_user.customer_id, "is_active": "on"}
    res = client.post(url, data)
    assert res.status_code == 302, res.context["adminform"].form.errors
    customer_user.refresh_from_db()
    assert (customer_user.first_name, customer_user.tenant) == ("Carol", tenant)
    res = client.post(url, {**data, "authority": "TENANT_ADMIN"})
    assert "customer" in res.context["adminform"].form.errors


def test_it_lets_the_sysadmin_create_a_tenant_admin_for_any_tenant(client, sysadmin, other_tenant):
    client.force_login(sysadmin)
    data = {"email": "boss@example.com", "usable_password": "true", "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD, "authority": "TENANT_ADMIN", "tenant": other_tenant.pk, "customer": "",
            "first_name": "", "last_name": ""}
    res = client.post("/admin/tenants/user/add/", data)
    assert res.status_code == 302, res.context["adminform"].form.errors
    assert User.objects.get(email="boss@example.com").tenant == other_tenant
    html = client.get("/admin/devices/device/add/").content.decode()
    assert "Mallory Ltd" in html
