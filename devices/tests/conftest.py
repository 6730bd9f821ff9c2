"""Fixtures of the devices app's tests beyond the suite's own (tbproject/testing/fixtures.py)."""

from devices.tests.entity_queries_support import fleet  # noqa: F401  (the entity query tests' world)
