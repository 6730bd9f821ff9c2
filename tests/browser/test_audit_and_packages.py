"""Beyond ThingsBoard in a real browser (issue 21 items 6 and 7): a converter edited in the admin
shows in the audit log with its diff; an integration with a secret is downloaded as a package
from the integration list and imported again, the import page asking for the secret it lists.
Fixtures: tests/browser/conftest.py."""

import json
import os
import urllib.request

import pytest

from tests.browser.conftest import CHROMIUM, SKIP_REASON, TENANT_ADMIN, screenshot
from tests.browser.test_integration_center import DECODER, create_converter, set_script, unique

pytestmark = [pytest.mark.server, pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=SKIP_REASON)]

PASSWORD_PATH = "integration.configuration.clientConfiguration.credentials.password"


def call(server: str, method: str, path: str, body=None, token: str | None = None) -> dict:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["X-Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    with urllib.request.urlopen(urllib.request.Request(server + path, data, headers, method=method)) as res:
        return json.loads(res.read() or b"null")


def test_an_edited_converter_shows_in_the_audit_log_with_its_diff(page):
    name = unique("ui-audited")
    converter_id = create_converter(page, name)
    set_script(page, DECODER.replace('deviceType: "ui-sensor"', 'deviceType: "ui-gauge"'))
    page.click("button[name=_continue]")
    page.wait_for_load_state()

    page.goto(f"/admin/audit/auditlog/?q={converter_id}")
    rows = page.locator("#result_list tbody tr")
    assert rows.count() == 2
    assert "Updated" in rows.nth(0).inner_text() and "Added" in rows.nth(1).inner_text()
    assert "tenant@thingsboard.org" in rows.nth(0).inner_text()
    page.goto(f"/admin/audit/auditlog/?q={converter_id}&action_type__exact=UPDATED")
    assert page.locator("#result_list tbody tr").count() == 1
    page.locator("#result_list tbody tr a").first.click()
    diff = page.locator("[data-role=audit-diff]")
    diff.wait_for()
    text = diff.inner_text()
    assert "configuration.decoder" in text and "ui-gauge" in text and "ui-sensor" in text
    screenshot(page, "audit-log-diff", "[data-role=audit-diff]")


def test_an_integration_package_is_downloaded_and_imported_with_its_secret(page, server):
    token = call(server, "POST", "/api/auth/login", {"username": TENANT_ADMIN[0], "password": TENANT_ADMIN[1]})["token"]
    converter = call(server, "POST", "/api/converter", {
        "name": unique("ui-pkg-conv"), "type": "UPLINK", "configuration": {"scriptLang": "JS", "decoder": DECODER}},
        token)
    name = unique("ui-pkg")
    integration = call(server, "POST", "/api/integration", {
        "name": name, "type": "MQTT", "enabled": False, "defaultConverterId": converter["id"],
        "configuration": {"clientConfiguration": {"host": "127.0.0.1", "port": 1883, "credentials": {
            "type": "basic", "username": "u", "password": "ui-broker-pass"}},
            "topicFilters": [{"filter": "ui/+", "qos": 0}]}}, token)

    # download from the integration list: select the row, run the action
    page.goto(f"/admin/integrations/integration/?q={name}")
    page.check(f"input[name=_selected_action][value='{integration['id']['id']}']", force=True)
    page.select_option("select[name=action]", "download_package")
    with page.expect_download() as download:
        page.click("button[name=index]")
    path = download.value.path()
    package = json.loads(open(path).read())
    assert package["integration"]["name"] == name and package["requiredSecrets"] == [PASSWORD_PATH]
    assert "ui-broker-pass" not in json.dumps(package)

    # import: the file, then the secret it lists
    page.goto("/admin/integrations/integration/")
    page.click("[data-role=import-package-link]")
    page.set_input_files("input[name=package]", path)
    page.click("[data-action=import]")
    secret = page.locator(f"input[data-secret-path='{PASSWORD_PATH}']")
    secret.wait_for()
    assert name in page.locator("[data-role=package-summary]").inner_text()
    screenshot(page, "integration-package-import", "[data-role=import-package]")
    page.click("[data-action=import]")  # without the secret: the browser keeps the form (a required field)
    assert secret.evaluate("e => e.validity.valueMissing") is True
    page.locator(f"input[data-secret-path='{PASSWORD_PATH}']").fill("ui-other-pass")
    page.click("[data-action=import]")
    page.wait_for_url("**/change/")
    assert page.locator("input[name=name]").input_value() == f"{name} (1)"
    assert f'Imported "{name} (1)"' in page.content()
    imported = call(server, "GET", f"/api/integrations?pageSize=10&page=0&textSearch={name}", token=token)
    assert sorted(i["name"] for i in imported["data"]) == [name, f"{name} (1)"]
    # both in the audit log: one added through the API (token), one through the admin (session)
    logs = call(server, "GET", f"/api/audit/logs?pageSize=10&page=0&textSearch={name}", token=token)["data"]
    assert sorted((r["entityName"], r["actionType"], r["userName"]) for r in logs) == [
        (name, "ADDED", TENANT_ADMIN[0]), (f"{name} (1)", "ADDED", TENANT_ADMIN[0])]
