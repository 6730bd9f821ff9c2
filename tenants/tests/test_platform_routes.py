"""The help URL, mail presets, EDQS state, the user's customers and mobile push sessions (tenants/api/platform.py,
user_extras.py): answers read by tb_pe_client's models, who may call them, bad input."""

import pytest
from django.test import override_settings
from tb_pe_client.models import EdqsState, MobileSessionInfo, PageDataCustomer

from tbproject.testing.factories import make_customer
from tbproject.testing.fixtures import api_as
from tenants import mobile_sessions


def test_the_help_base_url_is_thingsboards_unless_set(api, customer_api):
    answer = api.get("/api/uiSettings/helpBaseUrl")
    assert answer.status_code == 200 and answer.content == b"https://thingsboard.io"
    assert answer["Content-Type"].startswith("text/plain")
    with override_settings(UI_HELP_BASE_URL="https://help.example.com"):
        assert customer_api.get("/api/uiSettings/helpBaseUrl").content == b"https://help.example.com"


def test_mail_presets_are_the_administrators(api, customer_api, sysadmin):
    presets = api.get("/api/mail/config/template").json()
    assert {p["providerId"] for p in presets} == {"OFFICE_365", "GOOGLE", "SENDGRID"}
    assert all(p["smtpHost"] and isinstance(p["smtpPort"], int) for p in presets)
    assert api_as(sysadmin).get("/api/mail/config/template").status_code == 200
    assert customer_api.get("/api/mail/config/template").status_code == 403


def test_edqs_answers_disabled_to_the_system_administrator_only(api, sysadmin):
    root = api_as(sysadmin)
    state = EdqsState.from_dict(root.get("/api/edqs/state").json())
    assert state.edqs_ready is False and state.api_mode == "DISABLED" and state.sync_status is None
    assert api.get("/api/edqs/state").status_code == 403
    assert api.post("/api/edqs/system/request", {"apiEnabled": True}, format="json").status_code == 403
    for body in ([], {}, {"apiEnabled": "yes"}, {"syncRequest": 3}):
        answer = root.post("/api/edqs/system/request", body, format="json")
        assert answer.status_code == 400 and answer.json()["errorCode"] == 31, body
    refused = root.post("/api/edqs/system/request", {"syncRequest": {}}, format="json")
    assert refused.status_code == 400 and "not enabled" in refused.json()["message"]


def test_user_customers_are_the_ones_the_user_may_see(tenant, other_tenant, customer, api, customer_api, mallory_api):
    make_customer(tenant, title="Customer B")
    make_customer(other_tenant, title="Theirs")
    mine = PageDataCustomer.from_dict(api.get("/api/user/customers", {"pageSize": 10, "page": 0,
                                                                     "sortProperty": "title"}).json())
    assert [c.title for c in mine.data] == ["Customer A", "Customer B"]
    own = customer_api.get("/api/user/customers", {"pageSize": 10, "page": 0}).json()
    assert [c["title"] for c in own["data"]] == ["Customer A"]
    assert [c["title"] for c in mallory_api.get("/api/user/customers", {"pageSize": 10, "page": 0}).json()["data"]] \
        == ["Theirs"]
    assert api.get("/api/user/customers", {"page": 0}).status_code == 400


def test_mobile_sessions_are_each_users_own(api, customer_api, sysadmin):
    token = {"HTTP_X_MOBILE_TOKEN": "fcm-token-1"}
    assert api.get("/api/user/mobile/session", **token).content == b""  # none kept: Spring's null
    assert api.post("/api/user/mobile/session", {"fcmTokenTimestamp": 1700000000000}, format="json",
                    **token).status_code == 200
    info = MobileSessionInfo.from_dict(api.get("/api/user/mobile/session", **token).json())
    assert info.fcm_token_timestamp == 1700000000000
    assert customer_api.get("/api/user/mobile/session", **token).content == b""  # another user's: not seen
    root = api_as(sysadmin)
    assert root.post("/api/user/mobile/session", {}, format="json", **token).status_code == 200
    assert api.delete("/api/user/mobile/session", **token).status_code == 200
    assert api.get("/api/user/mobile/session", **token).content == b""
    assert root.get("/api/user/mobile/session", **token).json() == {"fcmTokenTimestamp": None}


@pytest.mark.parametrize("headers, body", [({}, {"fcmTokenTimestamp": 1}),
                                           ({"HTTP_X_MOBILE_TOKEN": "x" * 2000}, {"fcmTokenTimestamp": 1}),
                                           ({"HTTP_X_MOBILE_TOKEN": "t"}, {"fcmTokenTimestamp": "soon"}),
                                           ({"HTTP_X_MOBILE_TOKEN": "t"}, {"fcmTokenTimestamp": -1}),
                                           ({"HTTP_X_MOBILE_TOKEN": "t"}, [1])])
def test_a_bad_mobile_session_is_a_400(api, tenant_admin, headers, body):
    answer = api.post("/api/user/mobile/session", body, format="json", **headers)
    assert answer.status_code == 400 and answer.json()["errorCode"] == 31
    assert mobile_sessions.tokens(tenant_admin) == []


def test_a_user_keeps_the_newest_sessions_only(tenant_admin):
    for i in range(mobile_sessions.MAX_SESSIONS + 3):
        mobile_sessions.save(tenant_admin, f"token-{i}", {"fcmTokenTimestamp": 1000 + i})
    kept = mobile_sessions.tokens(tenant_admin)
    assert len(kept) == mobile_sessions.MAX_SESSIONS and kept[0] == f"token-{mobile_sessions.MAX_SESSIONS + 2}"
    assert "token-0" not in kept
