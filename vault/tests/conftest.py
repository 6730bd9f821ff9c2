"""The integrations' broker fixtures (a private Mosquitto each), for the wiring tests."""

from integrations.tests.conftest import broker, make_broker  # noqa: F401  (fixtures)
