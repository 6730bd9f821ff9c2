import pytest

pytest_plugins = ["tbproject.testing.fixtures", "tbproject.testing.client_server", "tbproject.testing.modes"]


@pytest.fixture(autouse=True)
def _fresh_telemetry_caches():
    """Per-process caches of key ids and partitions must not outlive a rolled-back test."""
    from devices.telemetry import keys, storage

    keys.clear_cache()
    storage.reset_cache()
    yield
    keys.clear_cache()
    storage.reset_cache()


@pytest.fixture(autouse=True)
def _no_stored_system_settings():
    """A test's database holds no system settings (tenants/system/store.py): the store's per-process cache
    starts every test knowing that, for the documents read on every request and login, so no test's query
    count depends on whether the 5 s cache expired during it, and no test sees a document an earlier,
    rolled-back test saved. A test that saves a document drops the cached copy, as the store always does."""
    from tenants.system import store

    store.forget()
    store._cache.put_many([(key, store._ABSENT) for key in
                           ("jwt", "securitySettings", "twoFaSettings", "general", "mail", "sms")],
                          store._cache.generation, float("inf"))
    yield
    store.forget()


@pytest.fixture(autouse=True)
def _tasks_run_inline():
    """No Celery worker runs beside the suite: tasks run in-process, also when REDIS_URL is set.

    Tests of the real broker path switch this off themselves.
    """
    from tbproject.celery import app

    before = app.conf.task_always_eager
    # Both names: the app reads Django's CELERY_-prefixed setting before its own key, so setting
    # only task_always_eager was lost whenever the app's configuration was not loaded yet.
    app.conf.task_always_eager = app.conf.CELERY_TASK_ALWAYS_EAGER = True
    yield
    app.conf.task_always_eager = app.conf.CELERY_TASK_ALWAYS_EAGER = before


@pytest.fixture(autouse=True)
def _latest_value_threads_closed():
    """The telemetry writer's helper threads keep connections open; close them after each test
    so that none outlives the test database (dropping it refuses while sessions remain)."""
    yield
    from devices.telemetry.parallel import close_pool

    close_pool()


@pytest.fixture(autouse=True)
def _fresh_account_limits():
    """Every test starts with full budgets of the limits anyone reaches without a login: reset requests
    (tenants/limits/mail.py) and failed logins (tenants/limits/login.py). The fixtures' users have the same
    addresses in every test and run, and the test client always comes from 127.0.0.1. With REDIS_URL the
    buckets live in Redis, beyond this process and this run; a test that switches the limiter to Redis
    itself calls forget_account_limits() after switching."""
    from tbproject.testing.limits import forget_account_limits

    forget_account_limits()
    yield
    forget_account_limits()


def pytest_configure(config):
    """WhiteNoise warns on every request while STATIC_ROOT is missing (`serve` creates it).

    Users made by the fixtures get a fast password hash: PBKDF2's deliberate cost (about half a
    second per user here) was most of the setup time of every API test. Servers the tests start
    as subprocesses keep the production hashers."""
    from pathlib import Path

    from django.conf import settings

    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
