"""ThingsBoard's generated client (tb-pe-client) driving calculated fields on the real server.

Reuses the server and client fixtures of tests/test_tb_client.py (a fresh server for this module).
"""

import json

import pytest
from tb_pe_client.exceptions import ApiException
from tb_pe_client.models import CalculatedField

from tests.test_tb_client import client, device, server_url  # noqa: F401  (fixtures)

pytestmark = pytest.mark.server


def _field(device_id: str, name="Celsius") -> CalculatedField:
    return CalculatedField.from_dict({
        "name": name, "type": "SIMPLE", "entityId": {"entityType": "DEVICE", "id": device_id},
        "configurationVersion": 1,
        "debugSettings": {"failuresEnabled": True, "allEnabled": False, "allEnabledUntil": 0},
        "configuration": {"type": "SIMPLE", "expression": "(temperature - 32) / 1.8",
                          "arguments": {"temperature": {"refEntityKey": {"key": "temperature", "type": "TS_LATEST"}}},
                          "output": {"type": "TIME_SERIES", "name": "celsius", "decimalsByDefault": 1},
                          "useLatestTs": False}})


def test_it_saves_reads_lists_computes_and_deletes_a_field(client, device):  # noqa: F811
    device_id = str(device.id.id)
    saved = client.save_calculated_field(_field(device_id))
    assert saved is not None and saved.id.id and saved.type == "SIMPLE" and str(saved.entity_id.id) == device_id
    assert saved.configuration.to_dict()["output"]["name"] == "celsius"
    pk = str(saved.id.id)
    assert client.get_calculated_field_by_id(pk).name == "Celsius"

    page = client.get_calculated_fields_by_entity_id("DEVICE", device_id, page_size=10, page=0)
    assert [f.name for f in page.data] == ["Celsius"] and page.total_elements == 1
    infos = client.get_calculated_fields(page_size=10, page=0, types=["SIMPLE"])
    assert [(f.name, f.entity_name) for f in infos.data] == [("Celsius", device.name)]
    names = client.get_calculated_field_names(type="SIMPLE", page_size=10, page=0)
    assert names.data == ["Celsius"]

    assert client.save_entity_telemetry("DEVICE", device_id, "ANY", json.dumps({"temperature": 212})) == ""
    latest = client.get_latest_timeseries("DEVICE", device_id, keys="celsius", use_strict_data_types=True)
    assert latest["celsius"][0].value == 100.0

    answer = client.test_calculated_field_script({"expression": "return {f: c * 1.8 + 32};",
                                                   "arguments": {"c": {"type": "SINGLE_VALUE", "ts": 1, "value": 100}}})
    assert answer == {"output": '{"f":212.0}', "error": ""}
    assert client.get_latest_calculated_field_debug_event(pk) is None

    saved.name = "Celsius 2"
    assert client.save_calculated_field(saved).version == saved.version + 1
    client.delete_calculated_field(pk)
    with pytest.raises(ApiException) as refused:
        client.get_calculated_field_by_id(pk)
    assert refused.value.status == 404


def test_it_answers_a_bad_expression_with_a_400_the_client_raises(client, device):  # noqa: F811
    body = _field(str(device.id.id), name="Broken")
    body.configuration = type(body.configuration).from_dict({**body.configuration.to_dict(), "expression": "(1 +"})
    with pytest.raises(ApiException) as refused:
        client.save_calculated_field(body)
    assert refused.value.status == 400 and "Invalid expression" in refused.value.body
