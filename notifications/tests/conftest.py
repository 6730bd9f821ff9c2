import pytest


@pytest.fixture(autouse=True)
def _fresh_rule_tenants():
    """The process cache of tenants with rules must not carry a rolled-back test's rules along."""
    from notifications import rules

    rules._RULE_TENANTS.forget()
    yield
    rules._RULE_TENANTS.forget()
