"""The integration center's guided form for AZURE_EVENT_HUB, AZURE_SERVICE_BUS and TUYA: the add
page carries each type's schema (ThingsBoard's keys and defaults) and its write-only secrets,
from which static/ui/integration-form.js builds the inputs (secrets as password fields), and an
integration saved through the page keeps its secrets out of the change page."""

import json
import re

import pytest

from integrations.models import Integration
from integrations.tests.factories import make_uplink_converter

CS = ("Endpoint=sb://tb-ns.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;"
      "SharedAccessKey=c2VjcmV0LWtleS1mb3ItdGVzdHM=")


def schemas(client) -> dict:
    html = client.get("/admin/integrations/integration/add/").content.decode()
    found = re.search(r'<script id="ui-type-schemas" type="application/json">(.*?)</script>', html, re.S)
    assert found, "the add page carries no type schemas"
    return json.loads(found.group(1))


def client_properties(entry: dict) -> dict:
    schema = entry["schema"]
    name = schema["properties"]["clientConfiguration"]["$ref"].split("/")[-1]
    return schema["$defs"][name]["properties"]


def test_the_add_page_carries_the_three_types_with_thingsboards_keys_and_their_secrets(client, tenant_admin):
    client.force_login(tenant_admin)
    types = schemas(client)
    hub, bus, tuya = types["AZURE_EVENT_HUB"], types["AZURE_SERVICE_BUS"], types["TUYA"]
    assert (hub["label"], bus["label"], tuya["label"]) == ("Azure Event Hub", "Azure Service Bus", "Tuya")
    assert all(t["listener"] for t in (hub, bus, tuya))
    assert set(client_properties(hub)) >= {"connectTimeoutSec", "connectionString", "consumerGroup", "iotHubName",
                                           "storageConnectionString", "containerName", "enablePersistentCheckpoints"}
    assert client_properties(hub)["consumerGroup"]["default"] == "$Default"
    assert set(client_properties(bus)) >= {"connectionString", "topicName", "subName", "downlinkConnectionString",
                                           "downlinkTopicName"}
    tuya_props = client_properties(tuya)
    assert tuya_props["region"]["enum"] == ["CN", "US", "EU", "IN"] and tuya_props["env"]["enum"] == ["PROD", "TEST"]
    assert hub["secrets"] == ["clientConfiguration.connectionString", "clientConfiguration.storageConnectionString"]
    assert bus["secrets"] == ["clientConfiguration.connectionString", "clientConfiguration.downlinkConnectionString"]
    assert tuya["secrets"] == ["clientConfiguration.accessKey"]


@pytest.mark.parametrize(("kind", "configuration", "secret"), [
    ("AZURE_EVENT_HUB", {"clientConfiguration": {"connectionString": CS + ";EntityPath=hub"}}, "c2VjcmV0LWtleS1m"),
    ("AZURE_SERVICE_BUS", {"clientConfiguration": {"connectionString": CS, "topicName": "t", "subName": "s"}},
     "c2VjcmV0LWtleS1m"),
    ("TUYA", {"clientConfiguration": {"region": "US", "accessId": "xtu7maff5n1y8ufo",
                                      "accessKey": "479bcba6d1c34e5c8d1b1e0f0c4e080f"}}, "479bcba6d1c34e5c"),
])
def test_an_integration_added_through_the_page_keeps_its_secret_out_of_the_change_page(
        client, tenant_admin, tenant, kind, configuration, secret):
    client.force_login(tenant_admin)
    converter = make_uplink_converter(tenant, f"{kind} decoder")
    data = {"name": f"Admin {kind}", "type": kind, "default_converter": str(converter.pk),
            "routing_key": f"key-{kind}", "config_text": json.dumps(configuration), "secret_text": "",
            "additional_info": "{}"}
    res = client.post("/admin/integrations/integration/add/", data)
    assert res.status_code == 302, res.content.decode()[:3000]
    created = Integration.objects.get(name=f"Admin {kind}")
    assert created.configuration == configuration
    page = client.get(f"/admin/integrations/integration/{created.pk}/change/").content.decode()
    assert secret not in page and "******" in page
