"""Our additions on the integration page in a real browser: the credential expiry banner (a
certificate generated here, expiring in 5 and 20 days) and the deduplication settings of the
guided form. Fixtures: tests/browser/conftest.py."""

import json
import os

import pytest

from integrations.tests.factories import MQTT_CONFIG
from integrations.tests.test_credential_expiry import certificate
from tests.browser.conftest import CHROMIUM, SKIP_REASON, screenshot
from tests.browser.test_integration_center import create_converter, unique

pytestmark = [pytest.mark.server, pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=SKIP_REASON)]


def add_integration(page, kind: str, converter: str, configuration: dict | None = None) -> str:
    """Fill the add page (the configuration as JSON when given); returns the saved configuration."""
    page.goto("/admin/integrations/integration/add/")
    page.select_option("select[name=type]", kind)
    page.locator("[data-role=schema-form] [data-path]").first.wait_for()
    if configuration is not None:
        page.click("[data-role=toggle-json]")
        page.fill("textarea[name=config_text]", json.dumps(configuration))
    page.fill("input[name=name]", unique(f"ui-{kind.lower()}"))
    page.select_option("select[name=default_converter]", label=converter)
    return page


def save(page) -> dict:
    page.click("button[name=_continue]")
    page.wait_for_url("**/change/")
    return json.loads(page.locator("textarea[name=config_text]").input_value())


def test_the_integration_page_warns_of_certificates_expiring_in_7_and_30_days(page):
    converter = unique("ui-exp-conv")
    create_converter(page, converter)
    ca, _ = certificate(20, "Example CA")
    cert, key = certificate(5, "device-17")
    client = {**MQTT_CONFIG["clientConfiguration"],
              "credentials": {"type": "cert.PEM", "caCert": ca, "cert": cert, "privateKey": key}}
    add_integration(page, "MQTT", converter, {**MQTT_CONFIG, "clientConfiguration": client})
    save(page)
    banners = page.locator("[data-role=credential-warning]")
    assert banners.count() == 2
    assert [banners.nth(i).get_attribute("data-level") for i in range(2)] == ["7days", "30days"]
    first = banners.nth(0).inner_text()
    assert "configuration.clientConfiguration.credentials.cert (CN=device-17) expires in 5 days" in first
    assert "ui-alert-bad" in banners.nth(0).get_attribute("class")
    assert "expires in 20 days" in banners.nth(1).inner_text()
    assert "ui-alert-warn" in banners.nth(1).get_attribute("class")
    screenshot(page, "integration-credential-expiry", "[data-role=integration-overview]")


def test_an_expired_certificate_is_shown_as_expired_and_a_fresh_one_not_at_all(page):
    converter = unique("ui-exp-conv")
    create_converter(page, converter)
    ca, _ = certificate(-2, "Old CA")
    client = {**MQTT_CONFIG["clientConfiguration"], "credentials": {"type": "anonymous", "caCert": ca}}
    add_integration(page, "MQTT", converter, {**MQTT_CONFIG, "clientConfiguration": client})
    save(page)
    [banner] = page.locator("[data-role=credential-warning]").all()
    assert banner.get_attribute("data-level") == "expired" and "expired on" in banner.inner_text()
    fresh, _ = certificate(300, "New CA")
    page.click("[data-role=toggle-json]")
    stored = json.loads(page.locator("textarea[name=config_text]").input_value())
    stored["clientConfiguration"]["credentials"]["caCert"] = fresh
    page.fill("textarea[name=config_text]", json.dumps(stored))
    save(page)
    assert page.locator("[data-role=credential-warning]").count() == 0


def test_deduplication_is_set_in_the_guided_form_and_left_out_when_empty(page):
    converter = unique("ui-dedup-conv")
    create_converter(page, converter)
    add_integration(page, "HTTP", converter)
    assert "deduplication" not in save(page)  # untouched: ThingsBoard's JSON only
    form = page.locator("[data-role=schema-form]")
    form.locator("[data-path='deduplication.key']").fill("jsonpath:$.msgId")
    form.locator("[data-path='deduplication.windowSeconds']").fill("120")
    screenshot(page, "integration-deduplication", "[data-role=schema-form]")
    assert save(page)["deduplication"] == {"key": "jsonpath:$.msgId", "windowSeconds": 120}
    form.locator("[data-path='deduplication.key']").fill("header:x")
    page.click("button[name=_continue]")
    page.locator(".errorlist").first.wait_for()  # the refused save's page, not the one before it
    errors = " ".join(page.locator(".errorlist").all_inner_texts())
    assert 'configuration.deduplication.key: Value error, must be "metadata:<name>"' in errors, errors
