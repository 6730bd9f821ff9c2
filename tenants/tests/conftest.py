import pytest


@pytest.fixture(autouse=True)
def _fresh_account_mail_limits(settings):
    """Every test starts with full account-mail budgets (tenants/limits/mail.py): the fixtures' users
    have the same addresses in every test and every run, and the test client always comes from
    127.0.0.1. With REDIS_URL the buckets live in Redis, beyond this process and this run."""
    from tenants import limits
    from tenants.limits import mail
    from tenants.limits.store import RedisStore

    def forget():
        limits.reset()
        store = limits.get_limiter().store
        if not isinstance(store, RedisStore):
            return
        try:
            stale = [key for name in (mail.PER_ADDRESS, mail.PER_CLIENT)
                     for key in store.client.scan_iter(f"{store.prefix}{name}:*")]
            if stale:
                store.client.delete(*stale)
        except Exception:  # Redis down: the limiter counts in this process, which reset() emptied
            pass

    forget()
    yield
    forget()
