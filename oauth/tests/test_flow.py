"""The authorization-code login against a mocked cloud identity provider (oauth/tests/fake_idp.py: a real
local HTTP server; Google, GitHub or Azure cannot run here)."""

import base64
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client

from dashboards.models import Dashboard
from devices.models import EntityGroup
from oauth.models import Domain
from tbproject.api.tokens import decode_access
from tbproject.testing.fixtures import api_as
from tenants.choices import Authority
from tenants.models import CredentialsToken, Customer, Tenant, User

pytestmark = pytest.mark.django_db


def _authorize(browser, client, host="testserver"):
    answer = browser.get(f"/oauth2/authorization/{client.pk}", HTTP_HOST=host)
    assert answer.status_code == 302
    return answer["Location"]


def _login(idp, client, *, state=None, browser=None):
    """Start at our server, 'sign in' at the provider, come back with its code; the final redirect."""
    starter = browser or Client()
    location = _authorize(starter, client)
    query = parse_qs(urlsplit(location).query)
    code = idp.issue_code(query["redirect_uri"][0], query["code_challenge"][0])
    back = Client() if browser is False else starter
    answer = back.get("/login/oauth2/code/", {"code": code, "state": state or query["state"][0]})
    assert answer.status_code == 302
    return answer["Location"], code


def _tokens(location: str) -> dict:
    parts = urlsplit(location)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "http://testserver/", location
    query = parse_qs(parts.query)
    return {"token": query["accessToken"][0], "refreshToken": query["refreshToken"][0]}


def _error(location: str) -> str:
    parts = urlsplit(location)
    assert parts.path == "/login", location
    return parse_qs(parts.query)["loginError"][0]


def test_it_redirects_to_the_provider_with_state_and_pkce(idp, make_client):
    client = make_client()
    location = _authorize(Client(), client)
    parts, query = urlsplit(location), parse_qs(urlsplit(location).query)
    assert location.startswith(f"{idp.url}/authorize?")
    assert query["client_id"] == ["tb-client"] and query["response_type"] == ["code"]
    assert query["redirect_uri"] == ["http://testserver/login/oauth2/code/"]
    assert query["scope"] == ["openid email"] and query["code_challenge_method"] == ["S256"]
    assert len(query["state"][0]) >= 32 and parts.netloc.startswith("127.0.0.1")


def test_it_creates_a_tenant_admin_in_the_email_domain_tenant(idp, make_client):
    client = make_client()
    location, _ = _login(idp, client)
    claims = decode_access(_tokens(location)["token"])
    user = User.objects.get(email="jane@example.org")
    assert claims["userId"] == str(user.pk) and user.authority == Authority.TENANT_ADMIN
    assert user.tenant.title == "example.org" and (user.first_name, user.last_name) == ("Jane", "Doe")
    assert not user.has_usable_password()
    # activateUser off: pending activation (a password may be set later), the provider login still works
    assert CredentialsToken.objects.filter(user=user, purpose="ACTIVATE").exists()
    # the tokens are real ones: the API knows the user
    assert api_as(user).get("/api/auth/user").json()["email"] == "jane@example.org"
    # the secret went in the form (POST), the user info was read with the bearer token
    token_call = next(r for r in idp.requests if r[0] == "/token")
    assert "client_secret=tb-secret-value" in token_call[2] and "code_verifier=" in token_call[2]


def test_it_logs_an_existing_user_in_without_creating_anything(idp, make_client, tenant_admin):
    idp.user["email"] = tenant_admin.email.upper()
    client = make_client(allowUserCreation=False)
    tenants = Tenant.objects.count()
    location, _ = _login(idp, client)
    assert decode_access(_tokens(location)["token"])["userId"] == str(tenant_admin.pk)
    assert Tenant.objects.count() == tenants


def test_a_state_mismatch_is_refused_and_the_code_never_spent(idp, make_client):
    client = make_client()
    location, code = _login(idp, client, state="forged-state-value")
    assert "authorization_request_not_found" in _error(location)
    assert code in idp.codes and not any(r[0] == "/token" for r in idp.requests)
    assert not User.objects.filter(email="jane@example.org").exists()


def test_a_callback_in_another_browser_is_refused(idp, make_client):
    client = make_client()
    location, _ = _login(idp, client, browser=False)  # the code comes back to a browser without the cookie
    assert "authorization_request_not_found" in _error(location)


def test_a_wrong_client_secret_is_a_clear_login_error(idp, make_client):
    client = make_client()
    client.client_secret = "not-the-secret"
    client.save()
    location, _ = _login(idp, client)
    assert _error(location) == "[invalid_client] Client authentication failed"
    assert not User.objects.filter(email="jane@example.org").exists()


def test_the_provider_refusing_is_a_login_error(idp, make_client):
    browser = Client()
    location = _authorize(browser, make_client())
    state = parse_qs(urlsplit(location).query)["state"][0]
    answer = browser.get("/login/oauth2/code/", {"error": "access_denied", "error_description": "User said no",
                                                  "state": state})
    assert _error(answer["Location"]) == "[access_denied] User said no"


def test_an_unknown_user_without_user_creation_is_refused(idp, make_client):
    location, _ = _login(idp, make_client(allowUserCreation=False))
    assert _error(location) == "User not found: jane@example.org"
    assert not User.objects.filter(email="jane@example.org").exists()
    assert not Tenant.objects.filter(title="example.org").exists()


def test_custom_tenant_and_customer_patterns_make_a_customer_user(idp, make_client):
    tenant = Tenant.objects.create(title="Acme Sales")
    board = Dashboard.objects.create(tenant=tenant, title="Welcome")
    client = make_client(activateUser=True, basic={
        "tenantNameStrategy": "CUSTOM", "tenantNamePattern": "Acme %{dept}", "customerNamePattern": "%{sub} team",
        "defaultDashboardName": "Welcome", "alwaysFullScreen": True, "userGroupsNamePattern": ["%{dept} users"]})
    _tokens(_login(idp, client)[0])
    user = User.objects.get(email="jane@example.org")
    assert user.authority == Authority.CUSTOMER_USER and user.tenant == tenant
    assert user.customer == Customer.objects.get(tenant=tenant, title="jane-1 team")
    assert user.additional_info == {"defaultDashboardId": str(board.pk), "defaultDashboardFullscreen": True}
    assert EntityGroup.objects.get(tenant=tenant, type="USER", name="Sales users").users.filter(pk=user.pk).exists()
    assert not CredentialsToken.objects.filter(user=user, purpose="ACTIVATE").exists()  # activateUser on


def test_the_email_strategy_names_the_tenant_after_the_email(idp, make_client):
    _tokens(_login(idp, make_client(basic={"tenantNameStrategy": "EMAIL"}))[0])
    assert User.objects.get(email="jane@example.org").tenant.title == "jane@example.org"


def test_the_custom_mapper_posts_the_attributes_and_maps_its_answer(idp, make_client):
    idp.mapper_answer = {"email": "mapped@example.net", "firstName": "Map", "tenantName": "Mapped Co",
                         "customerName": "Mapped customer"}
    client = make_client(type="CUSTOM", basic=None, custom={"url": f"{idp.url}/mapper", "username": "mapper",
                                                            "password": "mapper-pass", "sendToken": True})
    _tokens(_login(idp, client)[0])
    user = User.objects.get(email="mapped@example.net")
    assert (user.tenant.title, user.customer.title, user.first_name) == ("Mapped Co", "Mapped customer", "Map")
    path, headers, body = next(r for r in idp.requests if r[0] == "/mapper")
    assert headers["Authorization"] == "Basic " + base64.b64encode(b"mapper:mapper-pass").decode()
    assert headers["provider-access-token"] in idp.tokens and '"Jane@Example.org"' in body


def test_basic_client_authentication_sends_the_secret_in_the_header(idp, make_client):
    client = make_client()
    client.client_authentication_method = "BASIC"
    client.save()
    _tokens(_login(idp, client)[0])
    headers, body = next((r[1], r[2]) for r in idp.requests if r[0] == "/token")
    assert headers["Authorization"].startswith("Basic ") and "client_secret" not in body


def test_only_clients_of_the_requests_domain_start_a_login(idp, make_client):
    client = make_client(domain="other.example.com")
    assert "not available at testserver" in _error(_authorize(Client(), client))
    Domain.objects.create(name="testserver", oauth2_enabled=False).oauth2_clients.add(client)
    assert "not available" in _error(_authorize(Client(), client))
    assert "Invalid OAuth2 client id" in _error(_authorize(Client(), type("C", (), {"pk": "nope"})))


def test_a_disabled_user_cannot_log_in(idp, make_client, tenant_admin):
    tenant_admin.is_active = False
    tenant_admin.save()
    idp.user["email"] = tenant_admin.email
    assert _error(_login(idp, make_client())[0]) == "User account is not active"
