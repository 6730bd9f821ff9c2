"""Limits on account mails (tenants/limits/mail.py): per target address, known or not, and per client
for the anonymous reset request; 429 in ThingsBoard's error shape (errorCode 33, Retry-After), and one
count shared by processes through a real Redis.

Mail goes to pytest-django's ``mailoutbox``; the buckets are emptied before each test (conftest.py).
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tbproject.testing.api import assert_error
from tbproject.testing.limits import forget_account_limits
from tenants.limits import mail as mail_limits

ROOT = Path(__file__).resolve().parents[2]
#: the suite's Redis when it has one (CI: db 14/15), else a local one (db 8), as tenants/tests/test_limits.py
REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/8"


def _reset(anon, email, ip="10.0.0.1"):
    return anon.post("/api/noauth/resetPasswordByEmail", {"email": email}, format="json", REMOTE_ADDR=ip)


def _same_refusal(a, b) -> None:
    """Two 429s a caller cannot tell apart (but for the time they were sent)."""
    body_a, body_b = assert_error(a, 429), assert_error(b, 429)
    assert body_a["errorCode"] == body_b["errorCode"] == 33
    assert {**body_a, "timestamp": 0} == {**body_b, "timestamp": 0}
    assert a["Retry-After"] == b["Retry-After"] and int(a["Retry-After"]) >= 1


@pytest.fixture
def two_an_hour(settings):
    settings.ACCOUNT_MAILS_PER_ADDRESS_RATE_LIMIT, settings.ACCOUNT_MAILS_PER_CLIENT_RATE_LIMIT = "2:3600", ""


def test_it_answers_429_past_the_mails_one_address_may_get(anon, customer_user, mailoutbox, two_an_hour):
    # from a new client each time: the address's own budget refuses
    assert [_reset(anon, "carol@example.com", f"10.0.0.{i}").status_code for i in range(2)] == [200, 200]
    res = _reset(anon, " CAROL@example.com ", "10.0.0.9")  # the same address however it is written
    body = assert_error(res, 429, "Too many mails")
    assert body["errorCode"] == 33 and int(res["Retry-After"]) > 60  # a token of 2:3600 comes every 30 minutes
    assert len(mailoutbox) == 2
    assert _reset(anon, "nobody@example.com").status_code == 200  # other addresses keep theirs


def test_an_unknown_address_is_counted_and_refused_as_a_known_one(anon, customer_user, mailoutbox, two_an_hour):
    known = [_reset(anon, "carol@example.com") for _ in range(3)]
    unknown = [_reset(anon, "nobody@example.com") for _ in range(3)]
    assert [r.status_code for r in known] == [r.status_code for r in unknown] == [200, 200, 429]
    assert known[0].content == unknown[0].content
    _same_refusal(known[2], unknown[2])
    assert [m.to for m in mailoutbox] == [["carol@example.com"]] * 2


def test_it_answers_429_past_the_requests_one_client_may_make(anon, customer_user, mailoutbox, settings):
    settings.ACCOUNT_MAILS_PER_ADDRESS_RATE_LIMIT, settings.ACCOUNT_MAILS_PER_CLIENT_RATE_LIMIT = "", "3:60"
    assert [_reset(anon, f"u{i}@example.com").status_code for i in range(3)] == [200, 200, 200]
    _same_refusal(_reset(anon, "nobody@example.com"), _reset(anon, "carol@example.com"))
    assert mailoutbox == []  # the refused known address got nothing
    assert _reset(anon, "carol@example.com", ip="10.0.0.2").status_code == 200  # another client
    assert len(mailoutbox) == 1


def test_a_refused_client_takes_nothing_from_the_address(anon, customer_user, mailoutbox, settings):
    settings.ACCOUNT_MAILS_PER_ADDRESS_RATE_LIMIT, settings.ACCOUNT_MAILS_PER_CLIENT_RATE_LIMIT = "1:3600", "1:60"
    assert _reset(anon, "u1@example.com").status_code == 200
    assert_error(_reset(anon, "carol@example.com"), 429)  # the client's limit
    assert _reset(anon, "carol@example.com", ip="10.0.0.2").status_code == 200  # carol's one mail is still there


def test_an_ipv6_client_is_counted_by_its_64(anon, settings):
    settings.ACCOUNT_MAILS_PER_ADDRESS_RATE_LIMIT, settings.ACCOUNT_MAILS_PER_CLIENT_RATE_LIMIT = "", "2:60"
    assert _reset(anon, "a@example.com", "2001:db8:1:2::1").status_code == 200
    assert _reset(anon, "b@example.com", "2001:db8:1:2:ffff::9").status_code == 200
    assert_error(_reset(anon, "c@example.com", "2001:db8:1:2::abcd"), 429)
    assert _reset(anon, "c@example.com", "2001:db8:1:3::1").status_code == 200  # the next /64


@pytest.mark.parametrize("meta, client", [
    ({"REMOTE_ADDR": "192.0.2.7"}, "192.0.2.7"), ({"REMOTE_ADDR": "::ffff:192.0.2.7"}, "192.0.2.7"),
    ({"REMOTE_ADDR": "2001:db8::5"}, "2001:db8::/64"), ({}, "unknown"),
    ({"REMOTE_ADDR": "192.0.2.7", "HTTP_X_FORWARDED_FOR": "198.51.100.1"}, "192.0.2.7"),  # a client cannot choose
])
def test_the_client_of_a_request(meta, client):
    class Request:
        META = meta

    assert mail_limits.client_of(Request) == client


def test_bad_input_is_refused_before_it_is_counted(anon, settings):
    settings.ACCOUNT_MAILS_PER_ADDRESS_RATE_LIMIT, settings.ACCOUNT_MAILS_PER_CLIENT_RATE_LIMIT = "", "1:60"
    assert_error(anon.post("/api/noauth/resetPasswordByEmail", {"email": 5}, format="json"), 400, "email")
    assert_error(anon.post("/api/noauth/resetPasswordByEmail", ["x"], format="json"), 400)
    assert _reset(anon, "a@example.com", "127.0.0.1").status_code == 200


def test_the_reset_page_answers_429_alike_for_known_and_unknown_addresses(client, customer_user, mailoutbox,
                                                                           two_an_hour):
    def ask(email):
        return client.post("/login/resetPasswordRequest", {"email": email}, REMOTE_ADDR="10.0.0.1")

    for email in ("carol@example.com", "nobody@example.com"):
        assert [ask(email).status_code for _ in range(2)] == [200, 200]
    known, unknown = ask("carol@example.com"), ask("nobody@example.com")
    assert known.status_code == unknown.status_code == 429
    assert "Too many mails" in known.content.decode() and int(known["Retry-After"]) >= 1
    def page(res, email):  # but for the address typed in and the form's CSRF token
        return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", res.content.decode()).replace(email, "X")

    assert page(known, "carol@example.com") == page(unknown, "nobody@example.com")
    assert len(mailoutbox) == 2


def test_the_reset_page_counts_per_client(client, db, settings):
    settings.ACCOUNT_MAILS_PER_ADDRESS_RATE_LIMIT, settings.ACCOUNT_MAILS_PER_CLIENT_RATE_LIMIT = "", "1:60"
    assert client.post("/login/resetPasswordRequest", {"email": "a@example.com"}).status_code == 200
    assert client.post("/login/resetPasswordRequest", {"email": "b@example.com"}).status_code == 429
    # an invalid form asks for no mail: answered as before, and nothing counted
    assert client.post("/login/resetPasswordRequest", {"email": "nope"}, REMOTE_ADDR="10.9.9.9").status_code == 200
    assert client.post("/login/resetPasswordRequest", {"email": "c@example.com"}, REMOTE_ADDR="10.9.9.9") \
        .status_code == 200




def test_anonymous_reset_requests_never_block_an_administrators_invitation(api, anon, customer, mailoutbox,
                                                                           settings):
    """ThingsBoard's reset limit never touches invitations: strangers asking resets for newhire's address
    spend the reset requests' own bucket; the administrator's new user and its mails go out regardless."""
    from tenants.models import User

    settings.ACCOUNT_MAILS_PER_ADDRESS_RATE_LIMIT, settings.ACCOUNT_MAILS_PER_CLIENT_RATE_LIMIT = "3:3600", ""
    assert [_reset(anon, "newhire@corp.example", f"10.0.0.{i}").status_code for i in range(4)] == [200, 200, 200, 429]
    new = {"email": "newhire@corp.example", "authority": "CUSTOMER_USER", "customerId": {"id": str(customer.pk)}}
    assert api.post("/api/user?sendActivationMail=true", new, format="json").status_code == 200
    assert User.objects.filter(email="newhire@corp.example").exists()
    for _ in range(4):  # again and again: the tenant's REST limits bound these, not the strangers' bucket
        assert api.post("/api/user/sendActivationMail?email=newhire@corp.example").status_code == 200
    assert [m.to for m in mailoutbox] == [["newhire@corp.example"]] * 5
    assert_error(_reset(anon, "newhire@corp.example", "10.0.0.9"), 429)  # nor did they refill the reset bucket


def test_administrators_mails_take_nothing_from_the_reset_requests_bucket(api, anon, customer, mailoutbox,
                                                                         settings):
    settings.ACCOUNT_MAILS_PER_ADDRESS_RATE_LIMIT, settings.ACCOUNT_MAILS_PER_CLIENT_RATE_LIMIT = "1:3600", ""
    new = {"email": "dave@example.com", "authority": "CUSTOMER_USER", "customerId": {"id": str(customer.pk)}}
    assert api.post("/api/user?sendActivationMail=true", new, format="json").status_code == 200
    for _ in range(3):
        assert api.post("/api/user/sendActivationMail?email=dave@example.com").status_code == 200
    assert len(mailoutbox) == 4
    assert _reset(anon, "dave@example.com").status_code == 200  # the reset bucket's one request is still there
    assert_error(_reset(anon, "dave@example.com"), 429)


def test_empty_settings_set_no_limit(anon, customer_user, mailoutbox, settings):
    settings.ACCOUNT_MAILS_PER_ADDRESS_RATE_LIMIT = settings.ACCOUNT_MAILS_PER_CLIENT_RATE_LIMIT = ""
    assert {_reset(anon, "carol@example.com").status_code for _ in range(15)} == {200}
    assert len(mailoutbox) == 15


def _redis_or_skip():
    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except Exception as exc:
        pytest.skip(f"needs a Redis server at {REDIS_URL} (apt-get install redis-server): {exc}")


def test_processes_share_one_count_through_redis(anon, customer_user, mailoutbox, settings):
    """Another process (a real one, with the same settings) spends carol's budget: this one refuses."""
    _redis_or_skip()
    settings.REDIS_URL = REDIS_URL  # the limiter follows the setting (tenants/limits/limiter.py)
    forget_account_limits()  # carol's budget in this Redis outlives a run by an hour
    settings.ACCOUNT_MAILS_PER_ADDRESS_RATE_LIMIT, settings.ACCOUNT_MAILS_PER_CLIENT_RATE_LIMIT = "3:3600", ""
    assert _reset(anon, "carol@example.com").status_code == 200
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tbproject.settings", "REDIS_URL": REDIS_URL,
           "ACCOUNT_MAILS_PER_ADDRESS_RATE_LIMIT": "3:3600", "SECRET_KEY": settings.SECRET_KEY}
    code = ("import django; django.setup()\n"
            "from tenants.limits import mail\n"
            "import json; print(json.dumps([mail.take('Carol@example.com') for _ in range(3)]))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    first, second, third = json.loads(out.stdout.strip().splitlines()[-1])
    assert first == second == 0 and third > 0  # 1 here + 2 there; the third was refused there
    assert_error(_reset(anon, "carol@example.com"), 429)
    assert len(mailoutbox) == 1
