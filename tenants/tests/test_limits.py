"""Rate-limit strings, token buckets and the chunked limiter (tenants/limits/)."""

import os
import uuid

import pytest

from tenants.limits.limiter import Limiter
from tenants.limits.spec import Window, describe, parse, validate
from tenants.limits.store import LocalStore, RedisStore

#: the suite's Redis when it has one (CI: db 15), else a local one (db 8)
REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/8"


def test_it_parses_thingsboards_format():
    assert parse("100:1,2000:60") == (Window(100, 1), Window(2000, 60))
    assert parse(" 5:10 , ") == (Window(5, 10),) and parse("") == () and parse(None) == ()
    assert describe(parse("100:1,2000:60")) == "100:1,2000:60"


@pytest.mark.parametrize("text, problem", [
    ("100", "'100' is not <count>:<seconds>"), ("a:1", "'a:1' is not <count>:<seconds>"),
    ("0:1", "'0:1' needs a positive count"), ("5:-1", "'5:-1' needs a positive count"),
    (12, "a rate limit is a string"),
])
def test_it_says_why_a_limit_string_is_wrong(text, problem):
    assert problem in validate(text)
    with pytest.raises(ValueError):
        parse(text)


class Clock:
    def __init__(self):
        self.ms = 1_000_000.0

    def __call__(self):
        return self.ms


def test_a_bucket_grants_its_capacity_then_refills_evenly():
    clock = Clock()
    store = LocalStore(clock)
    windows = parse("4:2")  # one token every 500 ms
    assert [store.take("k", windows, 1)[0] for _ in range(5)] == [1, 1, 1, 1, 0]
    assert store.take("k", windows, 1) == (0, 500)
    clock.ms += 499
    assert store.take("k", windows, 1) == (0, 1)
    clock.ms += 1
    assert store.take("k", windows, 3) == (1, 0)  # partial: what there is
    assert store.take("other", windows, 9) == (4, 0)  # keys are apart


def test_every_window_of_a_limit_must_have_the_token():
    clock = Clock()
    store = LocalStore(clock)
    windows = parse("3:1,4:60")
    assert store.take("k", windows, 3) == (3, 0)
    clock.ms += 1000  # the 1 s window is full again, the 60 s one has 1 left
    assert store.take("k", windows, 3) == (1, 0)
    granted, wait = store.take("k", windows, 1)
    assert granted == 0 and wait > 10_000  # the minute's window decides


class CountingStore(LocalStore):
    chunk_fraction = 0.1

    def __init__(self):
        super().__init__()
        self.calls = 0

    def take(self, key, windows, want):
        self.calls += 1
        return super().take(key, windows, want)


def test_the_limiter_reserves_in_chunks_and_remembers_an_empty_bucket():
    store = CountingStore()
    limiter = Limiter(store)
    windows = parse("1000:3600")
    assert all(limiter.take("k", windows)[0] == 1 for _ in range(1000))
    assert store.calls == 10  # chunks of 100
    refused = [limiter.take("k", windows) for _ in range(50)]
    assert all(granted == 0 and wait > 0 for granted, wait in refused)
    assert store.calls == 11  # one look at the store, then it is known to be empty


def test_the_limiter_counts_in_process_while_the_store_is_down(caplog):
    class Down:
        chunk_fraction = 0.5

        def take(self, *args):
            raise ConnectionError("redis is down")

    limiter = Limiter(Down())
    windows = parse("3:3600")
    assert [limiter.take("k", windows)[0] for _ in range(5)] == [1, 1, 1, 0, 0]
    assert "counting in this process" in caplog.text


def test_no_windows_means_no_limit():
    assert Limiter(LocalStore()).take("k", (), 7) == (7, 0)


def test_the_redis_store_shares_one_bucket_between_limiters():
    try:
        store_a, store_b = RedisStore(REDIS_URL), RedisStore(REDIS_URL)
        store_a.client.ping()
    except Exception as exc:
        pytest.skip(f"needs a Redis server at {REDIS_URL} (apt-get install redis-server): {exc}")
    key = f"test:{uuid.uuid4().hex}"
    a, b = Limiter(store_a), Limiter(store_b)
    windows = parse("5:3600")
    granted = [(a if i % 2 else b).take(key, windows)[0] for i in range(8)]
    assert sum(granted) == 5
    assert b.take(key, windows)[1] > 0


def test_a_tenant_without_a_profile_gets_the_default_profiles_limits(tenant):
    from tbproject.testing.limits import default_tenant_profile
    from tenants import limits

    default = default_tenant_profile()
    default.profile_data = {"configuration": {"type": "DEFAULT", "integrationMsgsPerTenantRateLimit": "7:1"}}
    default.save()
    assert limits.limits_of(tenant.pk).windows(limits.UPLINKS_TENANT) == (Window(7, 1),)


def test_a_hand_edited_malformed_limit_sets_no_limit_and_stops_nothing(tenant):
    from tbproject.testing.limits import limit_tenant
    from tenants import limits

    limit_tenant(tenant, integrationMsgsPerTenantRateLimit="lots", tenantServerRestLimitsConfiguration="5:1")
    tenant_limits = limits.limits_of(tenant.pk)
    assert tenant_limits.windows(limits.UPLINKS_TENANT) == ()
    assert tenant_limits.windows(limits.REST_TENANT) == (Window(5, 1),)
    assert tenant_limits.windows(limits.DEBUG_TENANT) == (Window(50000, 3600),)  # the setting's default
