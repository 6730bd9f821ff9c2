"""Beyond ThingsBoard in a real browser (issue 21): the converter editor's stored tests (added,
run on save, a breaking save asks for confirmation) and versions (diff, rollback), and the
integration page's converter-health panel. Fixtures: tests/browser/conftest.py."""

import json
import os

import pytest

from tests.browser.conftest import CHROMIUM, SKIP_REASON, screenshot
from tests.browser.test_integration_center import DECODER, create_converter, post_uplink, set_script, unique

pytestmark = [pytest.mark.server, pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=SKIP_REASON)]

BROKEN = DECODER.replace("temperature: data.temperature", "temperature: data.temperature * 10")


def save(page) -> None:
    page.click("button[name=_continue]")
    page.wait_for_load_state()


def test_stored_tests_guard_saves_and_versions_roll_back(page):
    converter_id = create_converter(page, unique("ui-tested"))
    page.on("dialog", lambda dialog: dialog.accept())
    # add a stored test from the editor: it runs at once and passes
    add = page.locator("[data-role=add-test]")
    add.locator("summary").click()
    add.locator("[data-field=name]").fill("keeps the temperature")
    add.locator("[data-field=payload]").fill('{"id": "t-dev", "temperature": 20}')
    add.locator("[data-field=expected]").fill(json.dumps(
        {"deviceName": "t-dev", "deviceType": "ui-sensor", "telemetry": {"temperature": 20}}))
    add.locator("[data-action=add-test]").click()
    row = page.locator("[data-role=tests-table] tr[data-test-name='keeps the temperature']")
    row.wait_for()
    assert row.locator("[data-role=test-result]").inner_text() == "pass"

    # a change that breaks it is refused, with the reason, until "save even if tests break" is on
    set_script(page, BROKEN)
    save(page)
    page.get_by_text("Saving would break 1 stored test(s)").first.wait_for()
    assert "temperature: expected 20, got 200" in page.content()
    assert page.url.endswith(f"/{converter_id}/change/")
    page.goto(f"/admin/converters/converter/{converter_id}/change/")
    assert "temperature * 10" not in page.locator("textarea[name=script]").input_value()
    set_script(page, BROKEN)
    page.check("input[name=force]", force=True)
    save(page)
    page.wait_for_url(f"**/{converter_id}/change/")
    assert page.locator("[data-role=test-result]").first.inner_text() == "fail"
    screenshot(page, "converter-stored-tests", "[data-role=stored-tests]")

    # two versions, the second with its diff; roll back to the first
    versions = page.locator("[data-role=versions-table] tbody tr")
    assert versions.count() == 2
    diff = page.locator("tr[data-version='2'] [data-role=diff]")
    diff.locator("summary").click()
    assert "+    telemetry: {temperature: data.temperature * 10}" in diff.locator("pre").inner_text()
    screenshot(page, "converter-versions", "[data-role=versions]")
    page.locator("tr[data-version='1'] [data-action=rollback]").click()
    page.locator("tr[data-version='3']").wait_for()
    assert "rollback to 1" in page.locator("tr[data-version='3']").inner_text()
    assert "temperature * 10" not in page.locator("textarea[name=script]").input_value()
    page.locator("[data-action=run-tests]").click()
    page.locator("[data-role=tests-summary]").filter(has_text="1 passed, 0 failed (version 3)").wait_for()
    assert page.locator("[data-role=test-result]").first.inner_text() == "pass"


def test_the_integration_page_shows_converter_health(page):
    picky = DECODER.replace("return {", 'if (data.temperature > 100) throw new Error("too hot");\nreturn {')
    converter = unique("ui-health")
    create_converter(page, converter, picky)
    page.goto("/admin/integrations/integration/add/")
    page.select_option("select[name=type]", "HTTP")
    page.fill("input[name=name]", unique("ui-health-int"))
    page.select_option("select[name=default_converter]", label=converter)
    page.click("button[name=_continue]")
    page.wait_for_url("**/change/")
    endpoint = page.locator("[data-role=endpoint-url]").inner_text().strip()
    for temperature in (20, 150, 21, 22):
        assert post_uplink(endpoint, {"id": unique("ui-h"), "temperature": temperature}) == 204
    page.reload()
    total = page.locator("[data-role=converter-health] [data-role=health-total]")
    total.wait_for()
    assert total.locator("[data-role=executions]").inner_text() == "4"
    assert total.locator("[data-role=errors]").inner_text() == "1"
    assert total.locator("[data-role=error-rate]").inner_text() == "25.0 %"
    assert total.locator("[data-role=p99]").inner_text().startswith("≤ ")
    page.locator("[data-role=health-hours] summary").click()
    assert page.locator("[data-role=health-hours] tbody tr").count() == 1
    screenshot(page, "converter-health", "[data-role=converter-health]")
