"""Fixtures of the fault suite: the production stack (stack.py), started once for the module.

The suite needs PostgreSQL (DATABASE_URL), ``redis-server`` and ``mosquitto``; without any of
them it is skipped, saying which. CI runs it in its PostgreSQL leg, where all three are there.
"""

import pytest
from django.db import connection

from integrations.tests.brokers import MOSQUITTO
from tests.faults import report
from tests.faults.stack import REDIS_SERVER, Stack


@pytest.fixture(scope="module")
def stack():
    if connection.vendor != "postgresql":
        pytest.skip("the fault suite runs against PostgreSQL: set DATABASE_URL=postgres://... "
                    "(CI's PostgreSQL leg does)")
    if REDIS_SERVER is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server): the fault suite starts "
                    "a Redis of its own")
    if MOSQUITTO is None:
        pytest.skip("mosquitto is not installed (apt-get install mosquitto): the fault suite starts a broker "
                    "of its own")
    with Stack(connection.settings_dict) as started:
        yield started


def pytest_terminal_summary(terminalreporter):
    text = report.write()
    if text:
        terminalreporter.write_sep("=", f"fault suite report (also {report.REPORT_DIR}/report.md)")
        terminalreporter.write(text)
