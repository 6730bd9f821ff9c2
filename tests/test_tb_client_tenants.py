"""ThingsBoard's own generated client (tb-pe-client) provisioning a tenant on the real server, as a
system administrator's script does it: a tenant, its administrator (activated through the link),
that administrator creating a device, "login as", user infos and settings, then the tenant deleted.

Reuses the server fixture of tests/test_tb_client.py (a fresh server for this module), whose
database holds a system administrator.
"""

import json

import pytest
from tb_pe_client.exceptions import ApiException
from tb_pe_client.models import ActivateUserRequest, Device, Tenant, TenantId, User

from tests.test_tb_client import SYSADMIN, SYSADMIN_PASSWORD, server_url  # noqa: F401  (fixtures)

pytestmark = pytest.mark.server

ADMIN, ADMIN_PASSWORD = "admin@provisioned.test", "provisioned-1"


def _status(call, *args, **kwargs) -> int:
    with pytest.raises(ApiException) as caught:
        call(*args, **kwargs)
    assert isinstance(json.loads(caught.value.body)["errorCode"], int)
    return caught.value.status


@pytest.fixture(scope="module")
def root(server_url):  # noqa: F811
    from tb_pe_client.client import ThingsboardClient

    with ThingsboardClient(server_url, SYSADMIN, SYSADMIN_PASSWORD, retry_on_rate_limit=False) as tb:
        yield tb


def test_a_system_admin_provisions_a_tenant_that_works(root, server_url):  # noqa: F811
    from tb_pe_client.client import ThingsboardClient

    tenant = root.save_tenant(Tenant(title="Provisioned Co", city="Leiden", country="NL", email="ops@prov.test"))
    assert tenant is not None and tenant.id.entity_type == "TENANT" and tenant.version == 1
    tenant_id = str(tenant.id.id)
    tenant.phone = "+31 71"
    assert root.save_tenant(tenant).phone == "+31 71"  # a round trip of the whole object updates it
    page = root.get_tenants(page_size=10, page=0, text_search="provisioned", sort_property="title")
    assert [t.title for t in page.data] == ["Provisioned Co"] and page.has_next is False
    infos = root.get_tenant_infos(page_size=10, page=0, sort_property="createdTime", sort_order="DESC")
    assert infos.data[0].title == "Provisioned Co" and infos.data[0].tenant_profile_name
    assert [t.title for t in root.get_tenants_by_ids([tenant_id])] == ["Provisioned Co"]
    assert root.get_tenant_info_by_id(tenant_id).city == "Leiden"

    profile_id = str(tenant.tenant_profile_id.id)
    assert root.get_tenant_profile_info_by_id(profile_id).name == infos.data[0].tenant_profile_name
    assert profile_id in [str(p.id.id) for p in root.get_tenant_profile_infos(page_size=10, page=0).data]
    assert [str(p.id.id) for p in root.get_tenant_profile_list([profile_id])] == [profile_id]

    admin = root.save_user(User(email=ADMIN, authority="TENANT_ADMIN", first_name="Ada",
                                tenant_id=TenantId(id=tenant_id, entity_type="TENANT")),
                           send_activation_mail="false")
    assert admin.tenant_id.id == tenant.id.id
    assert [u.email for u in root.get_tenant_admins(tenant_id, page_size=10, page=0).data] == [ADMIN]
    link = root.get_activation_link(str(admin.id.id))
    root.activate_user(ActivateUserRequest(activate_token=link.rsplit("=", 1)[1], password=ADMIN_PASSWORD))

    with ThingsboardClient(server_url, ADMIN, ADMIN_PASSWORD, retry_on_rate_limit=False) as ada:
        device = ada.save_device(Device(name="first-meter", type="default"))
        assert device is not None and device.tenant_id.id == tenant.id.id
        assert ada.get_device_credentials_by_device_id(str(device.id.id)).credentials_id
        assert ada.get_default_device_profile_info().name == "default"
        assert ada.get_user_info_by_id(str(admin.id.id)).owner_name == "Provisioned Co"
        assert [u.email for u in ada.get_all_user_infos(page_size=10, page=0).data] == [ADMIN]
        assert [u.email for u in ada.find_users_by_query(page_size=10, page=0, text_search="ada").data] == [ADMIN]
        assert [u.email for u in ada.get_users_by_ids([str(admin.id.id)])] == [ADMIN]
        assert _status(ada.get_tenants, page_size=10, page=0) == 403

        ada.put_general_user_settings({"lang": "nl_NL", "home": {"dashboard": "x", "toolbar": True}})
        ada.put_general_user_settings({"home.toolbar": False})
        assert ada.get_general_user_settings() == {"lang": "nl_NL", "home": {"dashboard": "x", "toolbar": False}}
        ada.delete_general_user_settings("home.dashboard,lang")
        assert ada.get_general_user_settings() == {"home": {"toolbar": False}}
        ada.put_user_settings("quick_links", {"links": ["devices"]})
        assert ada.get_user_settings("QUICK_LINKS") == {"links": ["devices"]}

    pair = root.get_user_token(str(admin.id.id))
    assert pair.token and pair.refresh_token
    with ThingsboardClient(server_url, token=pair.token, refresh_token=pair.refresh_token,
                           retry_on_rate_limit=False) as as_ada:
        assert as_ada.get_user().email == ADMIN
    assert root.is_user_token_access_enabled() is True

    root.delete_tenant(tenant_id)
    assert _status(root.get_tenant_by_id, tenant_id) == 404
    with pytest.raises(ApiException) as caught:
        ThingsboardClient(server_url, ADMIN, ADMIN_PASSWORD, retry_on_rate_limit=False).__enter__()
    assert caught.value.status == 401
