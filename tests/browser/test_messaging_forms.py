"""The guided form of the integration center for APACHE_PULSAR and PUB_SUB in a real browser:
ThingsBoard's defaults shown, the credentials chosen, the secrets typed into password fields,
saved, and shown back masked. Fixtures: tests/browser/conftest.py."""

import json
import os

import pytest

from tests.browser.conftest import CHROMIUM, SKIP_REASON, screenshot
from tests.browser.test_integration_center import create_converter, unique

pytestmark = [pytest.mark.server, pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=SKIP_REASON)]


def open_form(page, kind: str, converter: str) -> None:
    page.goto("/admin/integrations/integration/add/")
    page.select_option("select[name=type]", kind)
    page.fill("input[name=name]", unique(kind.lower()))
    page.select_option("select[name=default_converter]", label=converter)
    page.uncheck("input[name=enabled]", force=True)  # nothing to connect to: the form is the subject


def saved_configuration(page) -> dict:
    page.click("button[name=_continue]")
    page.wait_for_url("**/change/")
    return json.loads(page.locator("textarea[name=config_text]").input_value())


def field(page, path: str):
    return page.locator(f"[data-role=schema-form] [data-path='{path}']")


def test_the_pulsar_form_shows_thingsboards_defaults_and_keeps_the_token_write_only(page):
    converter = unique("ui-pulsar-conv")
    create_converter(page, converter, script=None)
    open_form(page, "APACHE_PULSAR", converter)
    assert field(page, "clientConfiguration.serviceUrl").input_value() == "pulsar://localhost:6650"
    assert field(page, "clientConfiguration.maxNumBytes").input_value() == "10485760"
    field(page, "clientConfiguration.serviceUrl").fill("pulsar://127.0.0.1:1")
    field(page, "clientConfiguration.topics").fill("meters, alarms")
    field(page, "clientConfiguration.credentials.type").select_option("token")
    assert field(page, "clientConfiguration.credentials.token").get_attribute("type") == "password"
    field(page, "clientConfiguration.credentials.token").fill("eyJ.pulsar-token")
    screenshot(page, "integration-add-pulsar")
    shown = saved_configuration(page)["clientConfiguration"]
    assert (shown["serviceUrl"], shown["topics"], shown["subscriptionName"], shown["timeoutInMs"]) == (
        "pulsar://127.0.0.1:1", "meters, alarms", "my-subscription", 100)
    assert shown["credentials"] == {"type": "token", "token": "******"}
    assert "eyJ.pulsar-token" not in page.content()


def test_the_pub_sub_form_refuses_a_malformed_key_and_keeps_a_good_one_write_only(page):
    from integrations.tests.test_pubsub import service_account_key

    converter = unique("ui-pubsub-conv")
    create_converter(page, converter, script=None)
    open_form(page, "PUB_SUB", converter)
    field(page, "clientConfiguration.projectId").fill("my-project")
    field(page, "clientConfiguration.subscriptionId").fill("tb-uplink-sub")
    key = field(page, "clientConfiguration.serviceAccountKey")
    assert key.get_attribute("type") == "password"
    key.fill('{"type": "service_account"')
    page.click("button[name=_continue]")
    page.get_by_text("the service account key is not JSON").first.wait_for()
    key = field(page, "clientConfiguration.serviceAccountKey")
    key.fill(service_account_key())
    field(page, "clientConfiguration.serviceAccountKeyFileName").fill("key.json")
    shown = saved_configuration(page)["clientConfiguration"]
    assert (shown["projectId"], shown["subscriptionId"], shown["serviceAccountKey"]) == (
        "my-project", "tb-uplink-sub", "******")
    assert "PRIVATE KEY" not in page.content()
