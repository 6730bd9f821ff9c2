"""The guided form of a cloud-queue type in a real browser: TUYA's settings built from its schema
(region and environment as choices, the access secret as a password field), saved, and the
secret never sent back to the page. Fixtures: tests/browser/conftest.py."""

import json
import os

import pytest

from tests.browser.conftest import CHROMIUM, SKIP_REASON, screenshot
from tests.browser.test_integration_center import create_converter, unique

pytestmark = [pytest.mark.server, pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=SKIP_REASON)]

SECRET = "479bcba6d1c34e5c8d1b1e0f0c4e080f"


def test_the_tuya_form_offers_regions_keeps_the_secret_hidden_and_saves_thingsboards_keys(page):
    converter = unique("ui-tuya-conv")
    create_converter(page, converter)
    page.goto("/admin/integrations/integration/add/")
    page.select_option("select[name=type]", "TUYA")
    form = page.locator("[data-role=schema-form]")
    region = form.locator("[data-path='clientConfiguration.region']")
    region.wait_for()
    assert region.locator("option").all_inner_texts() == ["CN", "US", "EU", "IN"] and region.input_value() == "EU"
    assert form.locator("[data-path='clientConfiguration.env'] option").all_inner_texts() == ["PROD", "TEST"]
    secret = form.locator("[data-path='clientConfiguration.accessKey']")
    assert secret.get_attribute("type") == "password"
    page.fill("input[name=name]", unique("ui-tuya"))
    page.select_option("select[name=default_converter]", label=converter)
    region.select_option("US")
    form.locator("[data-path='clientConfiguration.accessId']").fill("xtu7maff5n1y8ufo")
    secret.fill(SECRET)
    page.uncheck("input[name=enabled]", force=True)  # nothing may try to reach Tuya's cloud from here
    screenshot(page, "integration-add-tuya")
    page.click("button[name=_continue]")
    page.wait_for_url("**/change/")
    assert SECRET not in page.content()
    saved = json.loads(page.locator("textarea[name=config_text]").input_value())["clientConfiguration"]
    assert (saved["region"], saved["accessId"], saved["env"], saved["accessKey"]) == (
        "US", "xtu7maff5n1y8ufo", "PROD", "******")
