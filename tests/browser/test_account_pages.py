"""Users' one-time links in a real browser: a new customer user opens its activation link and sets
its password; a tenant administrator who forgot its password follows the admin login page's
"Forgotten your password?" link, gets the mail (the embedded server writes mail to its log) and sets
a new one."""

import json
import os
import re
import time
import urllib.request
import uuid

import pytest

from tests.browser.conftest import CHROMIUM, SKIP_REASON, TENANT_ADMIN, server_logs

pytestmark = [pytest.mark.server, pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=SKIP_REASON)]


def _api(server, method, path, body=None, token=None):
    request = urllib.request.Request(server + path, method=method, data=None if body is None else json.dumps(
        body).encode(), headers={"Content-Type": "application/json"})
    if token:
        request.add_header("X-Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=10) as response:
        text = response.read().decode()
    return json.loads(text) if text.startswith(("{", "[")) else text


def _login(server, email, password):
    return _api(server, "POST", "/api/auth/login", {"username": email, "password": password})["token"]


@pytest.fixture
def tab(browser, server):
    context = browser.new_context(base_url=server)
    context.set_default_timeout(30000)
    yield context.new_page()
    context.close()


def test_a_new_user_sets_its_password_from_the_activation_link(tab, server):
    admin = _login(server, *TENANT_ADMIN)
    customer = _api(server, "POST", "/api/customer", {"title": f"ui-acc-{uuid.uuid4().hex[:6]}"}, admin)
    email = f"ui-{uuid.uuid4().hex[:8]}@example.com"
    user = _api(server, "POST", "/api/user?sendActivationMail=false",
                {"email": email, "authority": "CUSTOMER_USER", "customerId": customer["id"]}, admin)
    link = _api(server, "GET", f"/api/user/{user['id']['id']}/activationLink", token=admin)

    tab.goto(link)  # the API's 303 takes the browser to the set-password page
    assert "/login/createPassword?activateToken=" in tab.url
    tab.fill("input[name=password]", "ui-pass-1")
    tab.fill("input[name=confirm]", "ui-pass-2")
    tab.click("button[type=submit]")
    assert "differ" in tab.locator("#errors").inner_text()
    tab.fill("input[name=password]", "ui-pass-1")
    tab.fill("input[name=confirm]", "ui-pass-1")
    tab.click("button[type=submit]")
    assert "Your account is active" in tab.locator("#done").inner_text()
    assert _api(server, "GET", "/api/auth/user", token=_login(server, email, "ui-pass-1"))["email"] == email

    response = tab.goto(link)  # used up: the API answers 409 with a text the browser shows
    assert response.status == 409 and "not valid" in tab.content()
    tab.goto(f"/login/createPassword?activateToken={link.rsplit('=', 1)[1]}")
    assert "not valid" in tab.locator("#invalid").inner_text()


def _mailed_reset_token(email: str, timeout: float = 10.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = re.findall(rf"To: {re.escape(email)}.*?resetToken=([A-Za-z0-9]+)",
                           server_logs[-1].read_text(errors="replace"), re.S)
        if found:
            return found[-1]
        time.sleep(0.2)
    raise AssertionError(f"no reset mail to {email} in the server log")


def test_a_forgotten_password_is_reset_from_the_admin_login_page(tab, server):
    admin = _login(server, *TENANT_ADMIN)
    email = f"ui-admin-{uuid.uuid4().hex[:8]}@example.com"
    me = _api(server, "GET", "/api/auth/user", token=admin)
    created = _api(server, "POST", "/api/user?sendActivationMail=false", {"email": email, "authority": "TENANT_ADMIN",
                                                                          "tenantId": me["tenantId"]}, admin)
    link = _api(server, "GET", f"/api/user/{created['id']['id']}/activationLink", token=admin)
    _api(server, "POST", "/api/noauth/activate", {"activateToken": link.rsplit("=", 1)[1], "password": "first-pass-1"})

    tab.goto("/admin/login/")
    tab.click("text=Forgotten your password")
    tab.fill("input[name=email]", email)
    tab.click("button[type=submit]")
    assert "on its way" in tab.locator("#done").inner_text()
    tab.goto(f"/api/noauth/resetPassword?resetToken={_mailed_reset_token(email)}")
    assert "/login/resetPassword?resetToken=" in tab.url
    tab.fill("input[name=password]", "second-pass-2")
    tab.fill("input[name=confirm]", "second-pass-2")
    tab.click("button[type=submit]")
    assert "Your password is changed" in tab.locator("#done").inner_text()

    tab.click("#login-link")
    tab.wait_for_url("**/admin/login/?next=/admin/")
    tab.fill("input[name=username]", email)
    tab.fill("input[name=password]", "second-pass-2")
    tab.click("button[type=submit]")
    tab.wait_for_url("**/admin/")
