import pytest


@pytest.fixture(autouse=True)
def _fresh_field_index():
    """The process caches of fields must not carry a rolled-back test's fields into the next test."""
    from calculated import index

    index.clear()
    yield
    index.clear()
