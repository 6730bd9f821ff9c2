"""OAuth2 clients, provider templates and the login page's list: sysadmin-only CRUD, write-only secrets,
bad input 400, and answers that tb_pe_client's models read."""

import pytest
from tb_pe_client.models import (
    OAuth2Client,
    OAuth2ClientLoginInfo,
    OAuth2ClientRegistrationTemplate,
    PageDataOAuth2ClientInfo,
)

from oauth.models import Domain
from oauth.models import OAuth2Client as Client
from oauth.tests.conftest import client_body
from tbproject.testing.api import assert_error
from tbproject.testing.fixtures import api_as

NO = "You don't have permission to perform this operation!"


@pytest.fixture
def root(sysadmin):
    return api_as(sysadmin)


def _save(root, body, status=200):
    answer = root.post("/api/oauth2/client", body, format="json")
    assert answer.status_code == status, answer.content
    return answer.json()


def test_it_saves_reads_and_lists_a_client_without_its_secret(root, idp):
    saved = _save(root, client_body(idp))
    OAuth2Client.from_dict(saved)
    assert saved["id"]["entityType"] == "OAUTH2_CLIENT" and saved["clientSecret"] == "******"
    assert saved["tenantId"]["id"] == "13814000-1dd2-11b2-8080-808080808080"
    assert saved["mapperConfig"]["basic"]["tenantNameStrategy"] == "DOMAIN"
    pk = saved["id"]["id"]
    assert Client.objects.get(pk=pk).client_secret == "tb-secret-value"
    fetched = root.get(f"/api/oauth2/client/{pk}").json()
    assert fetched == saved and "tb-secret-value" not in str(fetched)
    page = root.get("/api/oauth2/client/infos?pageSize=10&page=0&textSearch=mock").json()
    PageDataOAuth2ClientInfo.from_dict(page)
    assert page["totalElements"] == 1 and page["data"][0]["providerName"] == "Mocked cloud"
    assert root.get("/api/oauth2/client/infos?pageSize=10&page=0&textSearch=zzz").json()["totalElements"] == 0
    listed = root.get(f"/api/oauth2/client/list?clientIds={pk}").json()
    assert [c["id"]["id"] for c in listed] == [pk]


def test_posting_the_mask_back_keeps_the_secrets(root, idp):
    body = client_body(idp, type="CUSTOM", basic=None, custom={"url": "http://mapper.example/map", "username": "u",
                                                               "password": "mapper-password"})
    saved = _save(root, body)
    assert saved["mapperConfig"]["custom"]["password"] == "******"
    saved["title"] = "Renamed"
    again = _save(root, saved)
    stored = Client.objects.get(pk=saved["id"]["id"])
    assert again["title"] == "Renamed" and stored.client_secret == "tb-secret-value"
    assert stored.mapper_config["custom"]["password"] == "mapper-password"
    again["clientSecret"] = "a-new-secret"
    _save(root, again)
    assert Client.objects.get(pk=saved["id"]["id"]).client_secret == "a-new-secret"


@pytest.mark.parametrize("change, message", [
    ({"title": ""}, "title is required"),
    ({"clientSecret": None}, "clientSecret is required"),
    ({"scope": []}, "scope is required"),
    ({"accessTokenUri": "ftp://x"}, "accessTokenUri must be an http"),
    ({"clientAuthenticationMethod": "MAGIC"}, "clientAuthenticationMethod must be one of"),
    ({"platforms": ["WEB", "PALM"]}, "platforms may hold only"),
    ({"additionalInfo": {}}, "additionalInfo.providerName is required"),
    ({"mapperConfig": None}, "mapperConfig is required"),
    ({"mapperConfig": {"type": "NOPE"}}, "type must be one of"),
    ({"mapperConfig": {"type": "BASIC", "basic": {"tenantNameStrategy": "DOMAIN"}}}, "emailAttributeKey is required"),
    ({"mapperConfig": {"type": "BASIC", "basic": {"emailAttributeKey": "email", "tenantNameStrategy": "CUSTOM"}}},
     "tenantNamePattern is required"),
    ({"mapperConfig": {"type": "CUSTOM", "custom": {}}}, "url is required"),
    ({"mapperConfig": {"type": "BASIC", "allowUserCreation": "yes", "basic": {}}}, "allowUserCreation must be"),
])
def test_bad_clients_are_refused_and_nothing_is_stored(root, idp, change, message):
    assert_error(root.post("/api/oauth2/client", {**client_body(idp), **change}, format="json"), 400, message)
    assert not Client.objects.exists()


def test_bad_ids_and_bodies(root, idp):
    assert_error(root.post("/api/oauth2/client", [1], format="json"), 400, "JSON object")
    assert_error(root.get("/api/oauth2/client/not-a-uuid"), 400, "Invalid UUID")
    missing = "6f1c7f3e-2b4c-4d5e-9f00-000000000001"
    assert_error(root.get(f"/api/oauth2/client/{missing}"), 404)
    assert_error(root.delete(f"/api/oauth2/client/{missing}"), 404)
    assert_error(root.post("/api/oauth2/client", {**client_body(idp), "id": {"id": missing}}, format="json"), 404)
    assert_error(root.get("/api/oauth2/client/infos?page=0"), 400, "pageSize")
    assert_error(root.get("/api/oauth2/client/list?clientIds=x"), 400, "Invalid UUID")


def test_it_deletes_a_client(root, idp):
    pk = _save(root, client_body(idp))["id"]["id"]
    assert root.delete(f"/api/oauth2/client/{pk}").status_code == 200
    assert not Client.objects.filter(pk=pk).exists()


def test_oauth2_is_the_system_administrators(tenant_admin, customer_user, idp, make_client):
    """403 without an id; an id route tells nothing of the system's entities: 404."""
    pk = make_client().pk
    template = "6f1c7f3e-2b4c-4d5e-9f00-000000000002"
    for user in (tenant_admin, customer_user):
        c = api_as(user)
        for answer in (c.post("/api/oauth2/client", client_body(idp), format="json"),
                       c.get("/api/oauth2/client/infos?pageSize=10&page=0"),
                       c.get(f"/api/oauth2/client/list?clientIds={pk}"),
                       c.get("/api/oauth2/loginProcessingUrl"), c.get("/api/oauth2/config/template"),
                       c.post("/api/oauth2/config/template", {"providerId": "X"}, format="json")):
            assert_error(answer, 403, NO)
        for answer in (c.get(f"/api/oauth2/client/{pk}"), c.delete(f"/api/oauth2/client/{pk}"),
                       c.delete(f"/api/oauth2/config/template/{template}")):
            assert_error(answer, 404)
    assert Client.objects.filter(pk=pk).exists()
    assert_error(api_as(None).get(f"/api/oauth2/client/{pk}"), 401)


def test_login_processing_url(root):
    answer = root.get("/api/oauth2/loginProcessingUrl")
    assert answer.content == b'"/login/oauth2/code/"'


def test_the_login_page_lists_the_clients_of_its_host(db, make_client, idp):
    web = make_client()
    mobile_only = make_client()
    mobile_only.platforms, mobile_only.login_button_label = ["ANDROID"], "Phones only"
    mobile_only.save()
    make_client(domain="elsewhere.example.com").login_button_label = "x"
    anonymous = api_as(None)
    listed = anonymous.post("/api/noauth/oauth2Clients").json()
    assert sorted(c["name"] for c in listed) == ["Mocked cloud", "Phones only"]
    [OAuth2ClientLoginInfo.from_dict(c) for c in listed]
    web_only = anonymous.post("/api/noauth/oauth2Clients?platform=WEB").json()
    assert web_only == [{"name": "Mocked cloud", "icon": "mdi:cloud", "url": f"/oauth2/authorization/{web.pk}"}]
    assert anonymous.post("/api/noauth/oauth2Clients", HTTP_HOST="elsewhere.example.com:8080").json()[0]["url"]
    Domain.objects.filter(name="testserver").update(oauth2_enabled=False)
    assert anonymous.post("/api/noauth/oauth2Clients").json() == []


def test_templates_crud(root, tenant_admin):
    body = {"providerId": "Google", "authorizationUri": "https://accounts.google.com/o/oauth2/v2/auth",
            "accessTokenUri": "https://oauth2.googleapis.com/token", "scope": ["email", "openid", "profile"],
            "userInfoUri": "https://openidconnect.googleapis.com/v1/userinfo", "userNameAttributeName": "email",
            "clientAuthenticationMethod": "BASIC", "loginButtonLabel": "Google", "loginButtonIcon": "google-logo",
            "helpLink": "https://developers.google.com/adwords/api/docs/guides/authentication",
            "mapperConfig": {"type": "BASIC", "basic": {"emailAttributeKey": "email", "tenantNameStrategy": "DOMAIN"}}}
    saved = root.post("/api/oauth2/config/template", body, format="json").json()
    OAuth2ClientRegistrationTemplate.from_dict(saved)
    assert saved["providerId"] == "Google" and saved["id"]["entityType"] == "OAUTH2_CLIENT_REGISTRATION_TEMPLATE"
    assert [t["providerId"] for t in root.get("/api/oauth2/config/template").json()] == ["Google"]
    assert_error(root.post("/api/oauth2/config/template", body, format="json"), 400, "already exists")
    assert_error(root.post("/api/oauth2/config/template", {"scope": []}, format="json"), 400, "providerId")
    assert_error(root.post("/api/oauth2/config/template", {**body, "providerId": "G2", "helpLink": "nope"},
                           format="json"), 400, "helpLink")
    assert_error(api_as(tenant_admin).delete(f"/api/oauth2/config/template/{saved['id']['id']}"), 404)
    assert root.delete(f"/api/oauth2/config/template/{saved['id']['id']}").status_code == 200
    assert root.get("/api/oauth2/config/template").json() == []
