"""The integration center in a real browser (issue 5): converter editor and its test panel, a
compile error at its line, an HTTP integration fed by an HTTP client with its debug event
arriving live, and the device chart showing the value. Fixtures: tests/browser/conftest.py."""

import json
import os
import urllib.request
import uuid

import pytest

from tests.browser.conftest import CHROMIUM, SKIP_REASON, screenshot

pytestmark = [pytest.mark.server, pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=SKIP_REASON)]

DECODER = """// JSON body: {"id": "...", "temperature": 21.5}
var data = JSON.parse(String.fromCharCode.apply(null, payload));
return {
    deviceName: data.id,
    deviceType: "ui-sensor",
    telemetry: {temperature: data.temperature}
};
"""


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def set_script(page, text: str) -> None:
    """Replace the CodeMirror document (the editor keeps the submitted textarea in step)."""
    page.wait_for_selector("[data-role=code-editor] .cm-content")
    page.evaluate("""(text) => { const v = window.converterEditor;
        v.dispatch({changes: {from: 0, to: v.state.doc.length, insert: text}}); }""", text)


def create_converter(page, name: str, script: str | None = DECODER, debug_all: bool = False) -> str:
    """Add a converter through its page; ``script=None`` keeps the starter decoder of a new one."""
    page.goto("/admin/converters/converter/add/")
    page.fill("input[name=name]", name)
    if script is not None:
        set_script(page, script)
    if debug_all:
        page.check("input[name=debug_all]", force=True)
    page.click("button[name=_continue]")
    page.wait_for_url("**/change/")
    return page.url.rstrip("/").split("/")[-2]


def test_a_new_converter_is_edited_with_highlighting_and_tested_with_a_payload(page):
    create_converter(page, unique("ui-conv"))
    # a real code editor: line numbers and JavaScript highlighting
    assert page.locator(".cm-lineNumbers .cm-gutterElement").filter(has_text="3").count() == 1
    assert page.locator(".cm-content span").count() > 5  # tokens are styled spans
    panel = page.locator("[data-converter-test] [data-panel=UPLINK]")
    panel.locator("[data-role=content-type]").select_option("JSON")
    panel.locator("[data-role=payload]").fill('{"id": "panel-device", "temperature": 19.25}')
    panel.locator("[data-role=test]").click()
    output = panel.locator("[data-role=output]")
    output.filter(has_text="panel-device").wait_for()
    result = json.loads(output.inner_text())
    assert result == {"deviceName": "panel-device", "deviceType": "ui-sensor", "telemetry": {"temperature": 19.25}}
    assert panel.locator("[data-role=warnings]").is_hidden()
    screenshot(page, "converter-test-panel", "[data-converter-test]")
    # output the pipeline would refuse: shown as ThingsBoard shows it, the reason beside it
    set_script(page, "return {data: {temperature: 19.25}, errors: [], warnings: []};\n")
    panel.locator("[data-role=test]").click()
    warnings = panel.locator("[data-role=warnings] li")
    warnings.first.wait_for()
    assert json.loads(output.inner_text()) == {"data": {"temperature": 19.25}, "errors": [], "warnings": []}
    assert "ui-error" not in (output.get_attribute("class") or "")
    assert warnings.all_inner_texts() == ["the live pipeline would refuse this output: output: deviceName or "
                                          "assetName is required"]
    screenshot(page, "converter-test-warnings", "[data-converter-test]")


TBEL_DECODER = """var data = decodeToJson(payload);
var result = {deviceName: data.id, deviceType: 'tbel-sensor', telemetry: {}};
foreach (entry : data.entrySet()) {
    if (entry.key != 'id') { result.telemetry.put(entry.key, entry.value * 2); }
}
return result;
"""


def test_a_tbel_converter_is_edited_as_tbel_saved_and_tested(page):
    page.goto("/admin/converters/converter/add/")
    page.fill("input[name=name]", unique("ui-tbel"))
    page.select_option("select[name=script_lang]", "TBEL")
    editor = page.locator("[data-role=code-editor]")
    assert editor.get_attribute("data-language") == "TBEL"
    set_script(page, TBEL_DECODER)
    page.click("button[name=_continue]")
    page.wait_for_url("**/change/")
    assert page.locator("[data-role=code-editor]").get_attribute("data-language") == "TBEL"
    panel = page.locator("[data-converter-test] [data-panel=UPLINK]")
    panel.locator("[data-role=content-type]").select_option("JSON")
    panel.locator("[data-role=payload]").fill('{"id": "tbel-device", "t": 21}')
    panel.locator("[data-role=test]").click()
    output = panel.locator("[data-role=output]")
    output.filter(has_text="tbel-device").wait_for()
    assert json.loads(output.inner_text()) == {"deviceName": "tbel-device", "deviceType": "tbel-sensor",
                                               "telemetry": {"t": 42}}
    # a TBEL syntax error is marked at its TBEL line, as for JavaScript
    set_script(page, "var a = 1;\nvar b = ;\nreturn a;\n")
    panel.locator("[data-role=test]").click()
    box = page.locator("[data-role=compile-error]")
    box.wait_for()
    assert box.get_attribute("data-line") == "2"
    screenshot(page, "converter-tbel", "[data-converter-test]")


def test_a_script_that_does_not_compile_is_refused_with_the_error_at_its_line(page):
    broken = "var a = 1;\nvar b = 2;\nvar c = ;\nreturn {};\n"
    page.goto("/admin/converters/converter/add/")
    page.fill("input[name=name]", unique("ui-broken"))
    set_script(page, broken)
    page.click("button[name=_continue]")
    box = page.locator("[data-role=compile-error]")
    box.wait_for()
    assert "/add/" in page.url  # not saved
    assert box.get_attribute("data-line") == "3"
    assert "SyntaxError" in box.inner_text()
    # the editor marks line 3 itself (a lint range on that line, a marker in the lint gutter)
    marked = page.locator(".cm-line").nth(2).locator(".cm-lintRange-error")
    assert marked.count() == 1
    assert page.locator(".cm-gutter-lint .cm-lint-marker-error").count() == 1
    screenshot(page, "converter-compile-error", "[data-role=code-editor] >> xpath=..")
    # the test panel reports a runtime error's line the same way
    set_script(page, "var x = 1;\nthrow new Error('boom');\n")
    panel = page.locator("[data-converter-test] [data-panel=UPLINK]")
    panel.locator("[data-role=test]").click()
    panel.locator("[data-role=output]").filter(has_text="boom").wait_for()
    assert box.get_attribute("data-line") == "2"


def post_uplink(url: str, body: dict) -> int:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status


def test_an_http_uplink_shows_its_debug_event_live_and_the_device_chart_the_value(page):
    # the README's walk-through: the starter decoder as it is, the body of the page's curl line
    converter = unique("ui-http-conv")
    create_converter(page, converter, script=None, debug_all=True)
    assert "left" in page.locator("[data-until-ms]").inner_text()  # debug all: the time left counts down
    # type first, then the type's own settings (built from its schema), converters chosen
    page.goto("/admin/integrations/integration/add/")
    page.select_option("select[name=type]", "HTTP")
    page.locator("[data-role=schema-form] [data-path=baseUrl]").wait_for()
    page.fill("input[name=name]", unique("ui-http"))
    page.select_option("select[name=default_converter]", label=converter)
    page.check("input[name=debug_all]", force=True)
    page.fill("[data-role=schema-form] [data-path=baseUrl]", page.url.split("/admin/")[0])
    screenshot(page, "integration-add")
    page.click("button[name=_continue]")
    page.wait_for_url("**/change/")
    assert json.loads(page.locator("textarea[name=config_text]").input_value())["baseUrl"].startswith("http://")

    endpoint = page.locator("[data-role=endpoint-url]").inner_text().strip()
    assert "/api/v1/integrations/http/" in endpoint
    events = page.locator("[data-role=debug-events-integration] [data-debug-events]")
    page.wait_for_function("document.querySelector('[data-role=debug-events-integration] [data-debug-events]')"
                           ".dataset.live === '1'")
    page.evaluate("window.__notReloaded = true")

    curl_body = json.loads(page.locator("[data-role=integration-overview] pre").inner_text().split("-d '")[1][:-1])
    assert set(curl_body) == {"deviceName", "temperature"}
    device = unique("ui-dev")
    assert post_uplink(endpoint, {**curl_body, "deviceName": device, "temperature": 23.75}) == 204

    # the event arrives over the websocket: same document, no reload
    events.locator("tr.ui-event").filter(has_text=device).first.wait_for()
    converter_events = page.locator("[data-role=debug-events-converter] tr.ui-event").filter(has_text=device)
    converter_events.first.wait_for()
    assert page.evaluate("window.__notReloaded") is True
    converter_events.first.click()  # expands to the whole event as JSON
    detail = page.locator("[data-role=debug-events-converter] tr.ui-event-detail:not([hidden]) pre")
    assert "23.75" in detail.inner_text()
    screenshot(page, "integration-overview", "[data-role=integration-overview]")
    screenshot(page, "integration-live-events", "[data-role=debug-events-converter]")

    # pause holds new events back until resumed; "errors only" hides successes
    conv_panel = page.locator("[data-role=debug-events-converter]")
    conv_panel.locator("[data-role=pause]").click()
    held = unique("ui-held")
    assert post_uplink(endpoint, {"deviceName": held, "temperature": 1}) == 204
    conv_panel.locator("[data-role=status]").filter(has_text="paused (1 new)").wait_for()
    assert conv_panel.locator("tr.ui-event").filter(has_text=held).count() == 0
    conv_panel.locator("[data-role=pause]").click()
    conv_panel.locator("tr.ui-event").filter(has_text=held).first.wait_for()
    conv_panel.locator("[data-role=errors-only]").check()
    conv_panel.get_by_text("No events yet.").wait_for()
    # after a reload the same events come from the events API, newest first
    page.reload()
    events.locator("tr.ui-event").filter(has_text=device).first.wait_for()
    assert "ui-held" in page.locator("[data-role=debug-events-converter] tr.ui-event").first.inner_text()

    # the device exists now; its chart shows the value and follows new ones live
    page.goto("/admin/devices/device/?q=" + device)
    page.click(f"text={device}")
    chart = page.locator("[data-telemetry-charts] .ui-chart[data-key=temperature]")
    chart.wait_for()
    page.wait_for_function("document.querySelector('.ui-chart[data-key=temperature]').dataset.latest === '23.75'")
    assert chart.locator("canvas").count() == 1
    assert post_uplink(endpoint, {"deviceName": device, "temperature": 24.5}) == 204
    page.wait_for_function("document.querySelector('.ui-chart[data-key=temperature]').dataset.latest === '24.5'")
    assert chart.get_attribute("data-points") == "2"
    screenshot(page, "device-chart")


def test_the_sidebar_has_the_integration_center_and_entities(page):
    sidebar = page.locator("#nav-sidebar, nav").first
    for title in ("Integration center", "Integrations", "Data converters", "Debug events", "Dead letters",
                  "Entities", "Devices", "Assets", "Customers", "Groups", "Device profiles"):
        assert page.get_by_text(title, exact=True).first.is_visible(), title
    assert sidebar is not None
    screenshot(page, "home")


def test_a_failed_uplink_is_a_dead_letter_that_replays_once_the_converter_is_fixed(page):
    picky = DECODER.replace("return {", 'if (data.temperature > 100) throw new Error("too hot");\nreturn {')
    converter = unique("ui-picky")
    converter_id = create_converter(page, converter, picky)
    page.goto("/admin/integrations/integration/add/")
    page.select_option("select[name=type]", "HTTP")
    integration = unique("ui-dl")
    page.fill("input[name=name]", integration)
    page.select_option("select[name=default_converter]", label=converter)
    page.click("button[name=_continue]")
    page.wait_for_url("**/change/")
    endpoint = page.locator("[data-role=endpoint-url]").inner_text().strip()
    device = unique("ui-hot")
    assert post_uplink(endpoint, {"id": device, "temperature": 150}) == 204

    page.goto("/admin/integrations/deadletter/?q=too+hot")
    row = page.locator("#result_list tbody tr").filter(has_text=integration)
    row.wait_for()
    assert "150" in row.inner_text()  # the payload is listed beside the error
    screenshot(page, "dead-letters")

    # fix the converter, then replay the selected letter
    page.goto(f"/admin/converters/converter/{converter_id}/change/")
    set_script(page, DECODER)
    page.click("button[name=_continue]")
    page.wait_for_url("**/change/")
    page.goto("/admin/integrations/deadletter/?q=too+hot")
    row.locator("input[type=checkbox]").check(force=True)
    page.select_option("select[name=action]", "replay_selected")
    page.locator("#changelist-form button[type=submit], button[name=index]").first.click()
    page.get_by_text(f"{integration}: 1 replayed, 0 failed again").wait_for()
    page.goto("/admin/devices/device/?q=" + device)
    assert page.locator("#result_list").get_by_text(device).count() == 1


def test_the_uplink_converter_is_created_inline_from_the_integration_form(page):
    page.goto("/admin/integrations/integration/add/")
    page.select_option("select[name=type]", "HTTP")
    with page.expect_popup() as popup_info:
        page.click("#add_id_default_converter")
    popup = popup_info.value
    popup.wait_for_selector("[data-role=code-editor] .cm-content")  # the page's scripts have run
    name = unique("ui-inline")
    popup.fill("input[name=name]", name)
    with popup.expect_event("close"):
        popup.click("button[name=_save]")
    chosen = page.eval_on_selector("select[name=default_converter]", "e => e.options[e.selectedIndex].text")
    assert chosen == name


def test_a_downlink_converter_is_tested_with_a_message(page):
    page.goto("/admin/converters/converter/add/")
    page.fill("input[name=name]", unique("ui-down"))
    page.select_option("select[name=type]", "DOWNLINK")
    assert "JSON.stringify(msg)" in page.evaluate("window.converterEditor.state.doc.toString()")
    panel = page.locator("[data-converter-test] [data-panel=DOWNLINK]")
    assert panel.is_visible() and not page.locator("[data-converter-test] [data-panel=UPLINK]").is_visible()
    panel.locator("[data-role=msg]").fill('{"setpoint": 21}')
    panel.locator("[data-role=test]").click()
    output = panel.locator("[data-role=output]")
    output.filter(has_text="setpoint").wait_for()
    result = json.loads(output.inner_text())
    assert result["contentType"] == "JSON" and json.loads(result["data"]) == {"setpoint": 21}
    assert result["metadata"] == {"deviceName": "Sensor A"}
    page.click("button[name=_continue]")
    page.wait_for_url("**/change/")
    assert page.locator("[data-converter-test] [data-panel=DOWNLINK]").is_visible()
