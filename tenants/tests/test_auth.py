import time

import jwt
import pytest
from django.conf import settings

from tbproject.testing.fixtures import PASSWORD


def login(client, username, password):
    return client.post("/api/auth/login", {"username": username, "password": password}, format="json")


def test_it_logs_in_and_returns_a_token_pair(anon, tenant_admin):
    res = login(anon, "alice@example.com", PASSWORD)
    assert res.status_code == 200
    body = res.json()
    assert body["token"] and body["refreshToken"]
    claims = jwt.decode(body["token"], options={"verify_signature": False})
    assert claims["sub"] == "alice@example.com"
    assert claims["scopes"] == ["TENANT_ADMIN"]
    assert claims["tenantId"] == str(tenant_admin.tenant_id)
    assert isinstance(claims["exp"], int) and isinstance(claims["iat"], int)


def test_it_reads_the_current_user_with_the_x_authorization_header(anon, tenant_admin):
    token = login(anon, "alice@example.com", PASSWORD).json()["token"]
    res = anon.get("/api/auth/user", HTTP_X_AUTHORIZATION=f"Bearer {token}")
    assert res.status_code == 200
    body = res.json()
    assert body["email"] == "alice@example.com"
    assert body["authority"] == "TENANT_ADMIN"
    assert body["id"] == {"entityType": "USER", "id": str(tenant_admin.id)}


def test_it_refreshes_a_token_pair(anon, tenant_admin):
    pair = login(anon, "alice@example.com", PASSWORD).json()
    res = anon.post("/api/auth/token", {"refreshToken": pair["refreshToken"]}, format="json")
    assert res.status_code == 200
    assert res.json()["token"]


@pytest.mark.parametrize("password", ["wrong", ""])
def test_it_refuses_a_wrong_password_with_401(anon, tenant_admin, password):
    res = login(anon, "alice@example.com", password)
    assert res.status_code in (400, 401)
    body = res.json()
    assert body["status"] == res.status_code
    assert body["message"]
    assert isinstance(body["errorCode"], int)


def test_it_refuses_an_unknown_user_with_401(anon, db):
    res = login(anon, "nobody@example.com", "x")
    assert res.status_code == 401
    assert res.json()["message"] == "Invalid username or password"
    assert res.json()["errorCode"] == 10


def test_it_answers_401_without_a_token(anon, db):
    res = anon.get("/api/auth/user")
    assert res.status_code == 401
    assert res.json()["errorCode"] == 10


def test_it_answers_401_with_code_11_for_an_expired_token(anon, tenant_admin):
    now = int(time.time())
    token = jwt.encode(
        {"sub": tenant_admin.email, "userId": str(tenant_admin.id), "scopes": ["TENANT_ADMIN"],
         "iss": settings.JWT_ISSUER, "iat": now - 100, "exp": now - 10},
        settings.JWT_SIGNING_KEY, algorithm="HS512",
    )
    res = anon.get("/api/auth/user", HTTP_X_AUTHORIZATION=f"Bearer {token}")
    assert res.status_code == 401
    assert res.json()["errorCode"] == 11
    assert "expired" in res.json()["message"]


def test_it_answers_401_for_a_forged_token(anon, tenant_admin):
    now = int(time.time())
    token = jwt.encode(
        {"sub": tenant_admin.email, "userId": str(tenant_admin.id), "scopes": ["SYS_ADMIN"],
         "iss": settings.JWT_ISSUER, "iat": now, "exp": now + 100},
        "not-the-server-key", algorithm="HS512",
    )
    res = anon.get("/api/auth/user", HTTP_X_AUTHORIZATION=f"Bearer {token}")
    assert res.status_code == 401
    assert res.json()["errorCode"] == 10


def test_it_refuses_a_refresh_token_as_an_access_token(anon, tenant_admin):
    pair = login(anon, "alice@example.com", PASSWORD).json()
    res = anon.get("/api/auth/user", HTTP_X_AUTHORIZATION=f"Bearer {pair['refreshToken']}")
    assert res.status_code == 401


def test_it_refuses_an_access_token_as_a_refresh_token(anon, tenant_admin):
    pair = login(anon, "alice@example.com", PASSWORD).json()
    res = anon.post("/api/auth/token", {"refreshToken": pair["token"]}, format="json")
    assert res.status_code == 401


def test_it_answers_400_on_malformed_json(anon, db):
    res = anon.post("/api/auth/login", "{not json", content_type="application/json")
    assert res.status_code == 400
    assert res.json()["message"].startswith("Invalid request body")


def test_it_answers_401_for_a_disabled_user(anon, tenant_admin):
    token = login(anon, "alice@example.com", PASSWORD).json()["token"]
    tenant_admin.is_active = False
    tenant_admin.save()
    res = anon.get("/api/auth/user", HTTP_X_AUTHORIZATION=f"Bearer {token}")
    assert res.status_code == 401
