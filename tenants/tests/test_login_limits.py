"""Failed logins per client (tenants/limits/login.py): past LOGIN_FAILURES_PER_CLIENT_RATE_LIMIT wrong
names or passwords from one client address, its logins answer 429 (ThingsBoard's rate-limit error,
errorCode 33, Retry-After) before any password is checked, on /api/auth/login and the admin's sign-in
page alike; successful logins are not counted. Buckets are emptied before each test
(tbproject/testing/fixtures.py)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tbproject.testing.api import assert_error
from tbproject.testing.fixtures import PASSWORD
from tbproject.testing.limits import forget_account_limits
from tenants.limits import login as login_limits
from tenants.models import User

BAD = "Invalid username or password"


def _login(anon, email, password, ip="10.0.0.1"):
    return anon.post("/api/auth/login", {"username": email, "password": password}, format="json", REMOTE_ADDR=ip)


@pytest.fixture
def three_a_minute(settings):
    settings.LOGIN_FAILURES_PER_CLIENT_RATE_LIMIT = "3:60"


def test_the_default_is_ten_failures_a_minute(settings):
    assert settings.LOGIN_FAILURES_PER_CLIENT_RATE_LIMIT == "10:60"


def test_a_client_past_its_failures_gets_429_even_with_the_right_password(anon, customer_user, three_a_minute):
    assert_error(_login(anon, "carol@example.com", "wrong"), 401, BAD)
    assert_error(_login(anon, "nobody@example.com", "wrong"), 401, BAD)  # unknown names count alike
    assert_error(_login(anon, "carol@example.com", "wrong"), 401, BAD)
    res = _login(anon, "carol@example.com", "wrong")
    body = assert_error(res, 429)
    assert body["errorCode"] == 33 and 1 <= int(res["Retry-After"]) <= 20  # a token of 3:60 every 20 s
    res = _login(anon, "carol@example.com", PASSWORD)  # not even checked: guessing on gains nothing
    assert assert_error(res, 429)["errorCode"] == 33 and "token" not in res.json()
    assert _login(anon, "carol@example.com", PASSWORD, ip="10.0.0.2").status_code == 200  # another client


def test_successful_logins_are_not_counted(anon, customer_user, settings):
    settings.LOGIN_FAILURES_PER_CLIENT_RATE_LIMIT = "2:60"
    assert {_login(anon, "carol@example.com", PASSWORD).status_code for _ in range(12)} == {200}
    assert [_login(anon, "carol@example.com", "wrong").status_code for _ in range(3)] == [401, 401, 429]


def test_the_limit_counts_apart_from_the_users_lockout(anon, customer_user, settings):
    settings.LOGIN_FAILURES_PER_CLIENT_RATE_LIMIT, settings.USER_MAX_FAILED_LOGIN_ATTEMPTS = "2:60", 0
    for i in range(6):  # from six clients: nobody is refused, nor is carol locked
        assert_error(_login(anon, "carol@example.com", "wrong", ip=f"10.0.1.{i}"), 401, BAD)
    assert User.objects.get(pk=customer_user.pk).is_active
    assert _login(anon, "carol@example.com", PASSWORD).status_code == 200


def test_an_ipv6_client_is_counted_by_its_64(anon, customer_user, settings):
    settings.LOGIN_FAILURES_PER_CLIENT_RATE_LIMIT = "1:60"
    assert_error(_login(anon, "carol@example.com", "wrong", ip="2001:db8:1:2::1"), 401)
    assert_error(_login(anon, "carol@example.com", "wrong", ip="2001:db8:1:2::2"), 429)
    assert_error(_login(anon, "carol@example.com", "wrong", ip="2001:db8:1:3::1"), 401)


def test_an_empty_setting_sets_no_limit(anon, customer_user, settings):
    settings.LOGIN_FAILURES_PER_CLIENT_RATE_LIMIT = ""
    assert {_login(anon, "carol@example.com", "wrong").status_code for _ in range(15)} == {401}
    assert login_limits.blocked(type("R", (), {"META": {"REMOTE_ADDR": "10.0.0.1"}})) == 0


def test_bad_input_is_refused_before_it_is_counted(anon, customer_user, settings):
    settings.LOGIN_FAILURES_PER_CLIENT_RATE_LIMIT = "1:60"
    assert_error(anon.post("/api/auth/login", {"username": "carol@example.com"}, format="json",
                           REMOTE_ADDR="10.0.0.1"), 400)
    assert_error(_login(anon, "carol@example.com", "wrong"), 401, BAD)


def test_the_admin_sign_in_page_answers_429_past_the_limit(client, tenant_admin, three_a_minute):
    def sign_in(password, ip="10.0.0.1"):
        return client.post("/admin/login/?next=/admin/", {"username": "alice@example.com", "password": password},
                           REMOTE_ADDR=ip)

    assert [sign_in("wrong").status_code for _ in range(3)] == [200, 200, 200]  # the form again, with its error
    res = sign_in(PASSWORD)
    assert res.status_code == 429 and 1 <= int(res["Retry-After"]) <= 20
    assert "Too many failed logins" in res.content.decode()
    assert "_auth_user_id" not in client.session
    assert sign_in(PASSWORD, ip="10.0.0.2").status_code == 302  # another client signs in


def test_rest_and_admin_failures_share_one_count(anon, client, tenant_admin, settings):
    settings.LOGIN_FAILURES_PER_CLIENT_RATE_LIMIT = "2:60"
    assert_error(_login(anon, "alice@example.com", "wrong"), 401)
    assert client.post("/admin/login/", {"username": "alice@example.com", "password": "wrong"},
                       REMOTE_ADDR="10.0.0.1").status_code == 200
    assert_error(_login(anon, "alice@example.com", "wrong"), 429)


def test_processes_share_one_count_through_redis(anon, customer_user, settings):
    """The peek before the password check asks the shared store (Redis) without taking from it: another
    process's failures refuse this one's client, and this one's right password is then not checked."""
    redis_url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/8"  # as test_account_mail_limits.py
    try:
        import redis

        redis.Redis.from_url(redis_url, socket_connect_timeout=1).ping()
    except Exception as exc:
        pytest.skip(f"needs a Redis server at {redis_url} (apt-get install redis-server): {exc}")
    settings.REDIS_URL = redis_url  # the limiter follows the setting (tenants/limits/limiter.py)
    forget_account_limits()  # this client's failures in this Redis outlive a run by a minute
    settings.LOGIN_FAILURES_PER_CLIENT_RATE_LIMIT = "3:60"
    ip = "198.51.100.77"
    assert _login(anon, "carol@example.com", PASSWORD, ip=ip).status_code == 200
    assert _login(anon, "carol@example.com", PASSWORD, ip=ip).status_code == 200  # peeks take nothing
    assert_error(_login(anon, "carol@example.com", "wrong", ip=ip), 401)
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tbproject.settings", "REDIS_URL": redis_url,
           "LOGIN_FAILURES_PER_CLIENT_RATE_LIMIT": "3:60"}
    code = ("import django; django.setup()\n"
            "from tenants.limits import login\n"
            "class R: META = {'REMOTE_ADDR': '198.51.100.77'}\n"
            "import json; print(json.dumps([login.blocked(R), login.count_failure(R), login.count_failure(R), "
            "login.blocked(R)]))")
    out = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[2], env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    before, first, second, after = json.loads(out.stdout.strip().splitlines()[-1])
    assert before == first == second == 0 and after >= 1  # 1 here + 2 there: the bucket is empty
    res = _login(anon, "carol@example.com", PASSWORD, ip=ip)
    assert assert_error(res, 429)["errorCode"] == 33 and int(res["Retry-After"]) >= 1
