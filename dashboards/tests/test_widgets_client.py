"""The widget library through ThingsBoard's own generated client (tb-pe-client) against the real server:
a widgets bundle export (the JSON ThingsBoard's UI exports: ``widgetsBundle`` + ``widgetTypes``) imported
through the client's calls and exported back the same; system bundles readable, not writable, by tenants.

tb-pe-client 4.4's WidgetsBundle and WidgetTypeDetails models mark ``alias``, ``title``, ``image``...
and ``fqn``, ``name``, ``descriptor`` read-only, so its ``save_widgets_bundle``/``save_widget_type`` send
none of them (whatever the server): the saves below go through the client's own request builder,
transport and response models with the JSON a user's script (or ThingsBoard's UI) posts.

Reuses the server and client fixtures of tests/test_tb_client.py (a fresh server for this module).
"""

import json
from pathlib import Path

import pytest
from tb_pe_client.api.widget_type_controller_api import WidgetTypeControllerApi
from tb_pe_client.api.widgets_bundle_controller_api import WidgetsBundleControllerApi
from tb_pe_client.exceptions import ApiException
from tb_pe_client.models import WidgetsBundle, WidgetTypeDetails

from tests.test_tb_client import SYSADMIN, SYSADMIN_PASSWORD, _raw_get, client, server_url  # noqa: F401  (fixtures)

pytestmark = pytest.mark.server

EXPORT_TEXT = (Path(__file__).parent / "data" / "widgets_bundle_export.json").read_text()
BUNDLE_FIELDS = ("alias", "title", "image", "description", "order", "scada")
TYPE_FIELDS = ("fqn", "name", "deprecated", "scada", "image", "description", "tags", "descriptor")


def _post(tb, build, model: str, **params):
    """A save through the client's request builder ``build`` (its private ``_..._serialize``), with a JSON body."""
    response = tb.api_client.call_api(*build(**params, _request_auth=None, _content_type=None, _headers=None,
                                             _host_index=0))
    response.read()
    return tb.api_client.response_deserialize(response, {"200": model}).data


def save_bundle(tb, body: dict) -> WidgetsBundle:
    return _post(tb, WidgetsBundleControllerApi(tb.api_client)._save_widgets_bundle_serialize, "WidgetsBundle",
                 widgets_bundle=body)


def save_type(tb, body: dict, by_fqn: bool = False) -> WidgetTypeDetails:
    return _post(tb, WidgetTypeControllerApi(tb.api_client)._save_widget_type_serialize, "WidgetTypeDetails",
                 widget_type_details=body, update_existing_by_fqn=by_fqn)


def test_the_clients_own_models_send_no_title_or_descriptor():
    assert WidgetsBundle(title="t", alias="a").to_dict() == {}
    assert WidgetTypeDetails(name="n", fqn="f", descriptor={}).to_dict() == {}


def import_bundle(tb, export: dict):
    """What ThingsBoard's UI does with an exported bundle: save it, save each widget type (replacing one
    of the same fqn), then set the bundle's widget types by fqn, in the exported order."""
    bundle = save_bundle(tb, export["widgetsBundle"])
    fqns = [save_type(tb, t, by_fqn=True).fqn for t in export["widgetTypes"]]
    tb.update_widgets_bundle_widget_fqns(str(bundle.id.id), fqns)
    return bundle


def export_bundle(tb, bundle_id: str) -> dict:
    bundle = tb.get_widgets_bundle_by_id(bundle_id)
    types = tb.get_bundle_widget_types_details(widgets_bundle_id=bundle_id)
    return {"widgetsBundle": {f: getattr(bundle, f) for f in BUNDLE_FIELDS},
            "widgetTypes": [{f: getattr(t, f) for f in TYPE_FIELDS} for t in types]}


def test_a_thingsboard_bundle_export_round_trips_through_the_client(client, server_url):  # noqa: F811
    export = json.loads(EXPORT_TEXT)
    bundle = import_bundle(client, export)
    back = export_bundle(client, str(bundle.id.id))
    assert back["widgetsBundle"] == {f: export["widgetsBundle"][f] for f in BUNDLE_FIELDS}
    assert back["widgetTypes"] == [{f: t[f] for f in TYPE_FIELDS} for t in export["widgetTypes"]]
    # the descriptor is served as sent: same keys in the same order, same text
    first = back["widgetTypes"][0]
    assert list(first["descriptor"]) == list(export["widgetTypes"][0]["descriptor"])
    raw = _raw_get(client, server_url, "/api/widgetType", fqn="tenant.acme_tanks.tank_level").data.decode()
    assert json.dumps(export["widgetTypes"][0]["descriptor"], separators=(",", ":")) in raw
    # importing it again replaces the widget types (by fqn) and makes a second bundle beside the first
    again = import_bundle(client, export)
    assert again.alias == "acme_tanks_1"
    page = client.get_widget_types(page_size=10, page=0, tenant_only=True)
    assert page.total_elements == 2
    infos = client.get_bundle_widget_types_infos(widgets_bundle_id=str(bundle.id.id), page_size=10, page=0,
                                                 deprecated_filter="ACTUAL")
    assert [(i.name, i.widget_type) for i in infos.data] == [("Tank level", "latest")]
    assert client.get_bundle_widget_type_fqns(widgets_bundle_id=str(bundle.id.id)) == \
        ["acme_tanks.tank_level", "acme_tanks.pump_history"]
    widget = client.get_widget_type(fqn="tenant.acme_tanks.pump_history")
    assert widget.deprecated is True and widget.descriptor["type"] == "timeseries"
    assert client.get_widget_type_info_by_id(str(widget.id.id)).bundles[0].name == "ACME tanks"


def test_system_bundles_are_read_only_to_tenants(client, server_url):  # noqa: F811
    from tb_pe_client.client import ThingsboardClient

    with ThingsboardClient(server_url, SYSADMIN, SYSADMIN_PASSWORD, retry_on_rate_limit=False) as root:
        system = save_bundle(root, {"title": "System charts", "alias": "charts", "order": 1})
        widget = save_type(root, {"name": "Line chart", "fqn": "charts.line", "descriptor": {"type": "timeseries"}})
        root.update_widgets_bundle_widget_types(str(system.id.id), [str(widget.id.id)])
        assert [b.alias for b in root.get_all_widgets_bundles()] == ["charts"]  # the system's only
    bundles = client.get_widgets_bundles(page_size=50, page=0)
    assert "System charts" in [b.title for b in bundles.data]
    assert "System charts" not in [b.title for b in client.get_widgets_bundles(page_size=50, page=0,
                                                                                tenant_only=True).data]
    assert [t.name for t in client.get_bundle_widget_types(str(system.id.id))] == ["Line chart"]
    assert client.get_widget_type(fqn="system.charts.line").id == widget.id
    with pytest.raises(ApiException) as refused:
        client.delete_widgets_bundle(str(system.id.id))
    assert refused.value.status == 403
    with pytest.raises(ApiException) as refused:
        client.save_widget_type(WidgetTypeDetails(id=widget.id, name="Mine", descriptor={}))
    assert refused.value.status == 403
    assert client.get_widgets_bundle_by_id(str(system.id.id)).title == "System charts"
