"""The usage page (issue 19, item 5) in a real browser: Administration -> Usage charts the tenant's
hourly usage with uPlot, and a known number of uplinks shows in its totals."""

import os

import pytest

from tests.browser.conftest import CHROMIUM, SKIP_REASON, screenshot
from tests.browser.test_integration_center import create_converter, post_uplink, unique

pytestmark = [pytest.mark.server, pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=SKIP_REASON)]

DECODER = """var data = JSON.parse(String.fromCharCode.apply(null, payload));
return {deviceName: data.id, deviceType: "ui-usage", telemetry: {a: data.a, b: data.b}};
"""


def totals(page) -> dict[str, int]:
    page.goto("/admin/tenants/tenantusage/")
    page.wait_for_function("document.querySelector('[data-usage-charts]').dataset.loaded")
    charts = page.locator("[data-usage-charts] .ui-chart")
    assert charts.count() == 5 and page.locator("[data-usage-charts] .ui-chart canvas").count() == 5
    return {charts.nth(i).get_attribute("data-key"): int(charts.nth(i).get_attribute("data-total"))
            for i in range(charts.count())}


def test_the_usage_page_charts_the_uplinks_of_the_hour(page):
    converter = unique("ui-usage-conv")
    create_converter(page, converter, script=DECODER)
    page.goto("/admin/integrations/integration/add/")
    page.select_option("select[name=type]", "HTTP")
    page.locator("[data-role=schema-form] [data-path=baseUrl]").wait_for()
    page.fill("input[name=name]", unique("ui-usage"))
    page.select_option("select[name=default_converter]", label=converter)
    page.fill("[data-role=schema-form] [data-path=baseUrl]", page.url.split("/admin/")[0])
    page.click("button[name=_continue]")
    page.wait_for_url("**/change/")
    endpoint = page.locator("[data-role=endpoint-url]").inner_text().strip()

    before = totals(page)
    for i in range(3):
        assert post_uplink(endpoint, {"id": unique("ui-usage-dev"), "a": i, "b": 1}) == 204
    after = totals(page)
    assert after["transportMsgCountHourly"] - before["transportMsgCountHourly"] == 3
    assert after["storageDataPointsCountHourly"] - before["storageDataPointsCountHourly"] == 6
    assert after["jsExecutionCountHourly"] - before["jsExecutionCountHourly"] == 3
    assert "Messages:" in page.locator("[data-usage-charts] [data-role=totals]").inner_text()
    screenshot(page, "usage-chart", "[data-usage-charts]")
