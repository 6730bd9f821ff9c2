"""The mocked cloud (ai/tests/fakecloud.py), one per test module, and settings pointing the providers at it."""

import pytest

from ai.tests.fakecloud import KEYS, FakeCloud

ENDPOINTS = {"OPENAI": "/openai/v1", "ANTHROPIC": "/anthropic/v1", "GEMINI": "/gemini/v1beta", "VERTEX": "/vertex/v1",
             "MISTRAL": "/mistral/v1", "GITHUB_MODELS": "/github", "BEDROCK": "/bedrock"}


@pytest.fixture(scope="module")
def cloud():
    fake = FakeCloud()
    yield fake
    fake.close()


@pytest.fixture
def mocked_cloud(cloud, settings):
    """The providers' endpoints at the mocked cloud, which listens on 127.0.0.1 (so private URLs allowed)."""
    for kind, prefix in ENDPOINTS.items():
        setattr(settings, f"AI_{kind}_API_URL", cloud.url(prefix))
    settings.AI_ALLOW_PRIVATE_URLS = True
    cloud.seen.clear()
    return cloud


def openai_config(cloud, **extra) -> dict:
    return {"provider": "OPENAI", "providerConfig": {"baseUrl": cloud.url("/openai/v1"), "apiKey": KEYS["openai"]},
            "modelId": "gpt-4o-mini", **extra}


def anthropic_config(**extra) -> dict:
    return {"provider": "ANTHROPIC", "providerConfig": {"apiKey": KEYS["anthropic"]},
            "modelId": "claude-sonnet-4-5", **extra}
