"""ThingsBoard's own client (tb-pe-client) on the real server as a system administrator: the admin settings,
the test mail (to a local SMTP server), security and JWT settings, the info pages, and an API key's life
cycle with the key then used as the credential. Reuses the server fixture of tests/test_tb_client.py."""

import json
import socket

import pytest
import urllib3
from aiosmtpd.controller import Controller
from tb_pe_client.exceptions import ApiException
from tb_pe_client.models import AdminSettings, ApiKeyInfo, JwtSettings, SecuritySettings, UserId

from tests.test_tb_client import SYSADMIN, SYSADMIN_PASSWORD, server_url  # noqa: F401  (fixtures)

pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def root(server_url):  # noqa: F811
    from tb_pe_client.client import ThingsboardClient

    with ThingsboardClient(server_url, SYSADMIN, SYSADMIN_PASSWORD, retry_on_rate_limit=False) as tb:
        yield tb


class _Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope.rcpt_tos)
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_admin_settings_and_the_test_mail_through_the_client(root):
    inbox = _Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    try:
        mail = {"mailFrom": "iot@example.com", "smtpProtocol": "smtp", "smtpHost": "127.0.0.1",
                "smtpPort": str(controller.port), "timeout": "5000", "enableTls": False, "username": "",
                "password": "pw-never-shown"}
        saved = root.save_admin_settings(AdminSettings(key="mail", json_value=mail))
        assert saved.key == "mail" and "password" not in saved.json_value
        assert root.get_admin_settings("mail").json_value["smtpPort"] == str(controller.port)
        root.send_test_mail(AdminSettings(key="mail", json_value=root.get_admin_settings("mail").json_value))
        assert inbox.messages == [[SYSADMIN]]
    finally:
        controller.stop()
    general = root.get_admin_settings("general")
    assert general.json_value["baseUrl"]
    with pytest.raises(ApiException) as caught:
        root.send_test_mail(AdminSettings(key="mail", json_value={**mail, "smtpPort": str(_free_port())}))
    assert caught.value.status == 400 and "Unable to send mail" in json.loads(caught.value.body)["message"]
    assert root.get_features_info().email_enabled is True


def test_security_jwt_and_info_pages_through_the_client(root):
    security = root.get_security_settings()
    security.max_failed_login_attempts = 7
    saved = root.save_security_settings(SecuritySettings.from_dict(security.to_dict()))
    assert saved.max_failed_login_attempts == 7 and saved.password_policy.minimum_length == 6
    jwt = root.get_jwt_settings()
    assert jwt.token_signing_key is None and jwt.token_expiration_time == 9000
    pair = root.save_jwt_settings(JwtSettings(token_expiration_time=9000, refresh_token_exp_time=604800,
                                              token_issuer="thingsboard.io"))
    assert pair.token and pair.refresh_token
    assert root.get_system_info().system_data[0].cpu_count >= 1
    assert root.get_license_usage_info().max_devices == 0
    assert root.check_updates().update_available is False


def test_an_api_keys_life_cycle_and_use_through_the_client(root, server_url):  # noqa: F811
    me = root.get_user()
    made = root.save_api_key(ApiKeyInfo(description="script", user_id=UserId(id=str(me.id.id), entity_type="USER")))
    assert made.value and made.enabled is True
    http = urllib3.PoolManager()
    res = http.request("GET", f"{server_url}/api/auth/user", headers={"X-Authorization": f"ApiKey {made.value}"})
    assert res.status == 200 and res.json()["email"] == SYSADMIN
    page = root.get_user_api_keys(str(me.id.id), 10, 0)
    assert page.total_elements == 1 and page.data[0].description == "script"
    assert root.update_api_key_description(made.id.id, "renamed").description == "renamed"
    assert root.enable_api_key(made.id.id, False).enabled is False
    res = http.request("GET", f"{server_url}/api/auth/user", headers={"X-Authorization": f"ApiKey {made.value}"})
    assert res.status == 401
    root.delete_api_key(made.id.id)
    assert root.get_user_api_keys(str(me.id.id), 10, 0).total_elements == 0
