import pytest

from oauth import services
from oauth.models import Domain
from oauth.tests.fake_idp import FakeIdp


@pytest.fixture
def idp():
    """The mocked cloud identity provider (a real local HTTP server)."""
    server = FakeIdp(user={"email": "Jane@Example.org", "given_name": "Jane", "family_name": "Doe",
                           "sub": "jane-1", "dept": "Sales"}).start()
    yield server
    server.stop()


def client_body(idp, **mapper) -> dict:
    basic = {"emailAttributeKey": "email", "firstNameAttributeKey": "given_name",
             "lastNameAttributeKey": "family_name", "tenantNameStrategy": "DOMAIN"}
    basic.update(mapper.pop("basic", None) or {})
    config = {"type": "BASIC", "allowUserCreation": True, "activateUser": False, "basic": basic, **mapper}
    return {"title": "Mocked cloud", "additionalInfo": {"providerName": "Mocked cloud"}, "clientId": idp.client_id,
            "clientSecret": idp.client_secret, "authorizationUri": f"{idp.url}/authorize",
            "accessTokenUri": f"{idp.url}/token", "userInfoUri": f"{idp.url}/userinfo", "scope": ["openid", "email"],
            "userNameAttributeName": "email", "clientAuthenticationMethod": "POST", "loginButtonLabel": "Mocked cloud",
            "loginButtonIcon": "mdi:cloud", "platforms": [], "mapperConfig": config}


@pytest.fixture
def make_client(db, idp):
    """An OAuth2 client of the mocked provider, offered at the test client's host ("testserver")."""
    def make(domain: str = "testserver", **mapper):
        body = client_body(idp, **mapper)
        client = services.save_client(body)
        Domain.objects.get_or_create(name=domain)[0].oauth2_clients.add(client)
        return client
    return make
