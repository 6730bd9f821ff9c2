"""The header filter's values are secrets (``headersFilter.*``): with ``enableSecurity`` they are what
a sender must present. Masked in every answer and in the admin, kept when a ThingsBoard client
posts the masked integration back (read-modify-write), replaced when a new value comes, refused
where the mask stands for a header with nothing stored, and still enforced by the uplink endpoint."""

import json
import re

import pytest
from django.test import Client
from pydantic import BaseModel
from tb_pe_client.models import Integration as TbIntegration

from integrations import queue
from integrations.models import Integration
from integrations.tests.factories import make_uplink_converter
from integrations.types import TYPES, get_type
from integrations.types.base import MASK, ConfigError
from integrations.types.secret_paths import expand, join_path, split_path
from tbproject.testing.api import assert_error

HEADERS = {"X-Api-Key": "k-1a2b3c", "X-Site.Token": "north-77"}


@pytest.fixture
def uplink(tenant):
    return make_uplink_converter(tenant, "Meter decoder")


@pytest.fixture
def secured(api, uplink) -> dict:
    """An HTTP integration with security on and two header values, saved through the API."""
    res = api.post("/api/integration", {
        "name": "Secured HTTP", "type": "HTTP", "routingKey": "key-sec",
        "defaultConverterId": {"entityType": "CONVERTER", "id": str(uplink.pk)},
        "configuration": {"baseUrl": "http://localhost", "enableSecurity": True, "headersFilter": HEADERS}},
        format="json")
    assert res.status_code == 200, res.content
    return res.json()


def stored_filter() -> dict:
    return Integration.objects.get(name="Secured HTTP").configuration["headersFilter"]


# --- the paths --------------------------------------------------------------------------------------

def test_a_wildcard_names_each_key_of_its_map_and_a_fixed_path_itself():
    data = {"h": {"A": "1", "b.c": "2", "*": "3"}, "x": None}
    assert expand(data, "h.*") == ["h.A", "h[b.c]", "h[*]"]
    assert [split_path(p) for p in expand(data, "h.*")] == [["h", "A"], ["h", "b.c"], ["h", "*"]]
    assert expand(data, "x.*") == [] and expand({}, "h.*") == []
    assert expand(data, "a.b[c.d]") == ["a.b[c.d]"]  # fixed: as written, set or not
    assert join_path(["a", "b.c", "d"]) == "a[b.c].d"


def test_every_type_with_a_header_filter_declares_its_values_secret():
    """A guard for new types: a ``headersFilter`` field of the schema (top level or one level down)
    has its ``<path>.*`` in ``secret_fields``."""
    checked = 0
    for kind, cls in TYPES.all().items():
        model = cls.config_model
        wanted = {"headersFilter.*"} if "headersFilter" in model.model_fields else set()
        for name, field in model.model_fields.items():
            sub = field.annotation
            if isinstance(sub, type) and issubclass(sub, BaseModel) and "headersFilter" in sub.model_fields:
                wanted.add(f"{name}.headersFilter.*")
        assert wanted <= set(cls.secret_fields), kind
        checked += bool(wanted)
    assert checked >= 9  # HTTP, SIGFOX, OCEANCONNECT, PARTICLE, TMOBILE_IOT_CDP, KPN, LORIOT, THINGPARK, TPE


@pytest.mark.parametrize("kind", ["HTTP", "SIGFOX", "LORIOT", "KPN", "PARTICLE"])
def test_masked_hides_each_value_and_keep_secrets_restores_it(kind):
    cls = get_type(kind)
    stored = {"enableSecurity": True, "headersFilter": dict(HEADERS), "metadata": {"a": "b"}}
    shown = cls.masked(stored)
    assert shown["headersFilter"] == {"X-Api-Key": MASK, "X-Site.Token": MASK} and shown["metadata"] == {"a": "b"}
    assert stored["headersFilter"] == HEADERS  # the stored one untouched
    assert cls.keep_secrets(shown, stored)["headersFilter"] == HEADERS
    changed = cls.keep_secrets({**shown, "headersFilter": {"X-Api-Key": "new", "X-Site.Token": MASK}}, stored)
    assert changed["headersFilter"] == {"X-Api-Key": "new", "X-Site.Token": "north-77"}
    dropped = cls.keep_secrets({**shown, "headersFilter": {"X-Api-Key": MASK}}, stored)
    assert dropped["headersFilter"] == {"X-Api-Key": "k-1a2b3c"}


def test_particle_keeps_the_filter_of_its_client_configuration_too():
    cls = get_type("PARTICLE")
    stored = {"headersFilter": {"A": "top"}, "clientConfiguration": {"enableSecurity": True,
                                                                     "headersFilter": {"B": "inner"}}}
    shown = cls.masked(stored)
    assert shown == {"headersFilter": {"A": MASK}, "clientConfiguration": {"enableSecurity": True,
                                                                           "headersFilter": {"B": MASK}}}
    assert cls.keep_secrets(shown, stored) == stored
    assert cls.secret_values(stored) == {"headersFilter.A": "top", "clientConfiguration.headersFilter.B": "inner"}


@pytest.mark.parametrize(("posted", "path"), [
    ({"X-Api-Key": MASK, "X-New": MASK}, "configuration.headersFilter.X-New"),  # a new header
    ({"x-api-key": MASK}, "configuration.headersFilter.x-api-key"),  # renamed (case counts): not the same header
    ({"X-Renamed.Token": MASK}, "configuration.headersFilter[X-Renamed.Token]"),
])
def test_the_mask_without_a_stored_value_for_that_header_is_refused(posted, path):
    with pytest.raises(ConfigError, match="^" + re.escape(f"{path}: no secret is stored")):
        get_type("HTTP").keep_secrets({"headersFilter": posted}, {"headersFilter": dict(HEADERS)})


def test_a_header_name_no_path_can_name_is_refused_when_saved(api, uplink):
    for name in ("", "X]"):
        res = api.post("/api/integration", {
            "name": "Odd", "type": "HTTP", "defaultConverterId": {"entityType": "CONVERTER", "id": str(uplink.pk)},
            "configuration": {"enableSecurity": True, "headersFilter": {name: "v"}}}, format="json")
        assert_error(res, 400, "configuration.headersFilter: a name must not be empty or contain ']'")


# --- the API ----------------------------------------------------------------------------------------

def test_no_answer_shows_a_header_value(api, secured):
    assert secured["configuration"]["headersFilter"] == {"X-Api-Key": MASK, "X-Site.Token": MASK}
    pk = secured["id"]["id"]
    for url in (f"/api/integration/{pk}", "/api/integration/routingKey/key-sec", "/api/integrations?pageSize=9&page=0",
                f"/api/integrations/list?integrationIds={pk}", "/api/integrationInfos?pageSize=9&page=0"):
        res = api.get(url)
        assert res.status_code == 200, url
        assert all(value not in res.content.decode() for value in HEADERS.values()), url
    assert api.get(f"/api/integration/{pk}").json()["configuration"]["headersFilter"]["X-Site.Token"] == MASK


def test_a_client_that_posts_back_what_it_read_keeps_the_header_values(api, secured):
    fetched = api.get(f"/api/integration/{secured['id']['id']}").json()
    fetched["name"] = "Secured HTTP"  # unchanged: a read-modify-write of another field
    fetched["configuration"]["metadata"] = {"site": "north"}
    res = api.post("/api/integration", fetched, format="json")
    assert res.status_code == 200, res.content
    assert stored_filter() == HEADERS
    assert res.json()["configuration"]["headersFilter"] == {"X-Api-Key": MASK, "X-Site.Token": MASK}


def test_tb_pe_clients_integration_model_round_trips_the_masked_filter(api, secured):
    """tb-pe-client reads ``configuration`` as a plain object: parsed and serialised again it still
    carries the masks, which keep the stored values."""
    model = TbIntegration.from_dict(api.get(f"/api/integration/{secured['id']['id']}").json())
    assert model.configuration["headersFilter"] == {"X-Api-Key": MASK, "X-Site.Token": MASK}
    model.debug_mode = False
    body = json.loads(model.to_json())
    assert body["configuration"]["headersFilter"]["X-Api-Key"] == MASK and body["routingKey"] == "key-sec"
    res = api.post("/api/integration", body, format="json")
    assert res.status_code == 200, res.content
    assert stored_filter() == HEADERS


def test_a_new_value_replaces_and_a_removed_header_goes(api, secured):
    fetched = api.get(f"/api/integration/{secured['id']['id']}").json()
    fetched["configuration"]["headersFilter"] = {"X-Api-Key": "rotated-9", "X-Extra": "e-1"}
    assert api.post("/api/integration", fetched, format="json").status_code == 200
    assert stored_filter() == {"X-Api-Key": "rotated-9", "X-Extra": "e-1"}


def test_the_api_refuses_a_mask_for_a_header_with_no_stored_value(api, secured, uplink):
    fetched = api.get(f"/api/integration/{secured['id']['id']}").json()
    fetched["configuration"]["headersFilter"] = {"X-Api-Key": MASK, "X-Renamed": MASK}
    assert_error(api.post("/api/integration", fetched, format="json"), 400,
                 "configuration.headersFilter.X-Renamed: no secret is stored to keep; enter it again")
    copy = {k: v for k, v in fetched.items() if k not in ("id", "routingKey")} | {"name": "Copy"}
    assert_error(api.post("/api/integration", copy, format="json"), 400, "configuration.headersFilter.X-Api-Key")
    assert stored_filter() == HEADERS


# --- the uplink endpoint ------------------------------------------------------------------------------

def test_the_endpoint_still_enforces_the_stored_values_after_a_masked_round_trip(api, secured, monkeypatch):
    received = []

    async def accept(uplink):
        received.append(uplink)

    monkeypatch.setattr(queue, "accept", accept)
    fetched = api.get(f"/api/integration/{secured['id']['id']}").json()
    assert api.post("/api/integration", fetched, format="json").status_code == 200

    def post(**headers):
        extra = {f"HTTP_{k.upper().replace('-', '_').replace('.', '_')}": v for k, v in headers.items()}
        return Client().post("/api/v1/integrations/http/key-sec", b'{"id": "m1"}', content_type="application/json",
                             **extra).status_code

    assert post(**{"X-Api-Key": MASK, "X-Site.Token": MASK}) == 403  # the mask is no key
    assert post(**{"X-Api-Key": "k-1a2b3c"}) == 403
    assert received == []
    # X-Site.Token reaches Django as HTTP_X_SITE_TOKEN: send it raw through the ASGI app instead
    from asgiref.sync import async_to_sync
    from channels.testing import HttpCommunicator

    from tbproject.asgi import application

    raw = [(b"content-type", b"application/json"), (b"x-api-key", b"k-1a2b3c"), (b"x-site.token", b"north-77")]
    answer = async_to_sync(HttpCommunicator(application, "POST", "/api/v1/integrations/http/key-sec",
                                            body=b'{"id": "m1"}', headers=raw).get_response)(timeout=10)
    assert answer["status"] == 204 and len(received) == 1


# --- the admin ----------------------------------------------------------------------------------------

def test_the_admin_masks_the_values_and_keeps_them_on_save(client, tenant_admin, secured):
    client.force_login(tenant_admin)
    integration = Integration.objects.get(name="Secured HTTP")
    url = f"/admin/integrations/integration/{integration.pk}/change/"
    page = client.get(url).content.decode()
    assert all(value not in page for value in HEADERS.values()) and MASK in page
    assert all(value not in client.get("/admin/integrations/integration/").content.decode()
               for value in HEADERS.values())
    shown = get_type("HTTP").masked(integration.configuration)
    data = {"name": integration.name, "type": "HTTP", "enabled": "on", "allow_create_devices_or_assets": "on",
            "default_converter": str(integration.default_converter_id), "downlink_converter": "",
            "routing_key": integration.routing_key, "config_text": json.dumps(shown), "secret_text": "",
            "additional_info": "{}"}
    res = client.post(url, data)
    assert res.status_code == 302, res.content.decode()[:2000]
    assert stored_filter() == HEADERS
    shown["headersFilter"]["X-New"] = MASK
    res = client.post(url, {**data, "config_text": json.dumps(shown)})
    assert res.status_code == 200 and "configuration.headersFilter.X-New: no secret is stored" in res.content.decode()
    assert stored_filter() == HEADERS
