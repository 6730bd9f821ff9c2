import pytest

pytest_plugins = ["tbproject.testing.fixtures"]


@pytest.fixture(autouse=True)
def _fresh_telemetry_caches():
    """Per-process caches of key ids and partitions must not outlive a rolled-back test."""
    from devices.telemetry import keys, storage

    keys.clear_cache()
    storage.reset_cache()
    yield
    keys.clear_cache()
    storage.reset_cache()
