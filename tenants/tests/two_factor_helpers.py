"""Shared steps of the two-factor tests: platform settings, a user's TOTP set up through the API, logins."""

from urllib.parse import parse_qs, urlsplit

import pyotp
from rest_framework.test import APIClient

from tbproject.testing.fixtures import PASSWORD, api_as

SETTINGS = {"providers": [{"providerType": "TOTP", "issuerName": "TB 2FA"},
                          {"providerType": "EMAIL", "verificationCodeLifetime": 120},
                          {"providerType": "BACKUP_CODE", "codesQuantity": 10}],
            "minVerificationCodeSendPeriod": 30, "verificationCodeCheckRateLimit": None,
            "maxVerificationFailuresBeforeUserLockout": 0, "totalAllowedTimeForVerification": 600}


def enable(sysadmin, **changes) -> dict:
    res = api_as(sysadmin).post("/api/2fa/settings", {**SETTINGS, **changes}, format="json")
    assert res.status_code == 200, res.content
    return res.json()


def secret_of(auth_url: str) -> str:
    return parse_qs(urlsplit(auth_url).query)["secret"][0]


def set_up_totp(client: APIClient) -> str:
    """Generate, verify and save a TOTP config; the secret (as the authenticator app holds it)."""
    config = client.post("/api/2fa/account/config/generate?providerType=TOTP").json()
    secret = secret_of(config["authUrl"])
    code = pyotp.TOTP(secret).now()
    res = client.post(f"/api/2fa/account/config?verificationCode={code}", config, format="json")
    assert res.status_code == 200, res.content
    return secret


def login(email: str, password: str = PASSWORD):
    return APIClient().post("/api/auth/login", {"username": email, "password": password}, format="json")


def bearer(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_X_AUTHORIZATION=f"Bearer {token}")
    return client
