"""The guided forms of the AWS_SQS and AWS_KINESIS integrations in a real browser: the type's
fields (ThingsBoard's keys, with the optional endpoint URL), the secret access key as a password
field, saved as ThingsBoard's JSON and shown masked afterwards. Fixtures: tests/browser/conftest.py."""

import json
import os

import pytest

from tests.browser.conftest import CHROMIUM, SKIP_REASON, screenshot
from tests.browser.test_integration_center import create_converter, unique

pytestmark = [pytest.mark.server, pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=SKIP_REASON)]

SECRET = "wJalrXUtnFEMI-never-shown"
FORMS = {
    "AWS_SQS": ("sqsConfiguration", {"queueUrl": "https://sqs.eu-west-1.amazonaws.com/123456789012/tb-uplink",
                                     "region": "eu-west-1", "accessKeyId": "AKIAEXAMPLE",
                                     "endpointUrl": "http://127.0.0.1:4566"}),
    "AWS_KINESIS": ("clientConfiguration", {"streamName": "tb-test-uplink", "region": "eu-west-1",
                                            "accessKeyId": "AKIAEXAMPLE"}),
}


@pytest.mark.parametrize("kind", FORMS)
def test_an_aws_integration_is_set_up_with_its_guided_form_and_its_secret_stays_hidden(page, kind):
    root, values = FORMS[kind]
    converter = unique("ui-aws-conv")
    create_converter(page, converter)
    page.goto("/admin/integrations/integration/add/")
    page.select_option("select[name=type]", kind)
    form = page.locator("[data-role=schema-form]")
    secret = form.locator(f"[data-path='{root}.secretAccessKey']")
    secret.wait_for()
    fields = form.locator(f"[data-path^='{root}.']").evaluate_all("els => els.map(e => e.dataset.path)")
    assert fields[0] == f"{root}.{'queueUrl' if kind == 'AWS_SQS' else 'streamName'}"  # what to read first
    assert secret.get_attribute("type") == "password"
    assert form.locator(f"[data-path='{root}.endpointUrl']").count() == 1  # the optional endpoint override
    if kind == "AWS_KINESIS":
        assert form.locator(f"select[data-path='{root}.initialPositionInStream'] option").all_inner_texts() == [
            "LATEST", "TRIM_HORIZON", "AT_TIMESTAMP"]
    for key, value in values.items():
        form.locator(f"[data-path='{root}.{key}']").fill(value)
    secret.fill(SECRET)
    page.fill("input[name=name]", unique(f"ui-{kind.lower()}"))
    page.select_option("select[name=default_converter]", label=converter)
    screenshot(page, f"integration-{kind.lower()}", "[data-role=schema-form]")
    page.click("button[name=_continue]")
    page.wait_for_url("**/change/")
    stored = json.loads(page.locator("textarea[name=config_text]").input_value())[root]
    assert {key: stored[key] for key in values} == values
    assert stored["secretAccessKey"] == "******" and SECRET not in page.content()
