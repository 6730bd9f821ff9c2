"""The ``mode`` fixture of tests that run once in memory and once over Redis: notifications in this process
("embedded"), and (with REDIS_URL in the environment; .ci/run sets it) over Redis pub/sub as between separate
processes ("redis", skipped without it). Every test may take it (a plugin of the root conftest.py); a module
may define its own ``mode`` instead."""

import os

import pytest

__all__ = ["mode"]


@pytest.fixture(params=["embedded", "redis"])
def mode(request, settings):
    if request.param == "redis":
        if not os.environ.get("REDIS_URL"):
            pytest.skip("needs Redis (set REDIS_URL; .ci/run does)")
        settings.REDIS_URL = os.environ["REDIS_URL"]
    else:
        settings.REDIS_URL = ""
    return request.param
