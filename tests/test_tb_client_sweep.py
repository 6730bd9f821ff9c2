"""Every GET of ThingsBoard's own generated client (tb-pe-client) that this server routes, called
through the client against the real server: the answers must be JSON the client's models accept.

The client validates what it reads into pydantic models (types, required fields, enum values), so
a field of the wrong type, a missing required field or an unknown enum value in any of these
answers fails here the way it fails for a user's script. Path and query parameters are filled from
entities made through the client first; a method whose required parameters have no value here is
counted as skipped, and the test insists on a floor of methods really called, so that it cannot
pass by skipping. A 4xx answer is allowed (a name looked up that does not exist, a sysadmin-only
list) unless its message shows a route that swallowed a literal path segment as an id; a 5xx never.

Reuses the server and client fixtures of tests/test_tb_client.py (a fresh server for this module).
"""

import importlib
import inspect
import json
import pkgutil
import re
import uuid

import pytest
from django.urls import Resolver404, resolve
from pydantic import ValidationError
from tb_pe_client.exceptions import ApiException
from tb_pe_client.models import Asset, Converter, Device, Edge, EntityGroup, EntityView, Integration

from tests.test_tb_client import SYSADMIN, SYSADMIN_PASSWORD, client, server_url  # noqa: F401  (fixtures)

pytestmark = pytest.mark.server

#: the least number of client GETs that must be called and answered (not skipped) by the tenant sweep
FLOOR = 130
#: the same for the system administrator's sweep (tenants, tenant profiles, users, queues...)
SYSADMIN_FLOOR = 18
_SERIALIZE = re.compile(r"def _(\w+)_serialize\(.*?method='(\w+)',\s*resource_path='([^']+)'", re.S)
_PLACEHOLDER = "00000000-0000-0000-0000-000000000000"
#: a literal segment of ThingsBoard's path taken for an id by a broader route of ours
_SWALLOWED = re.compile(r"Invalid UUID string: [A-Za-z]+\"")
#: answers the client cannot read whatever the server sends, ThingsBoard's own included: its
#: AllowedPermissionsInfo.from_dict calls Operation.from_dict, which the Operation enum lacks, on every
#: operation of a non-empty map (roles/tests/test_allowed_permissions.py checks that answer part by part)
CLIENT_CANNOT_READ = {"/api/permissions/allowedPermissions"}


def _routed(path: str) -> bool:
    try:
        resolve(re.sub(r"\{[^}]+\}", _PLACEHOLDER, path))
    except Resolver404:
        return False
    return True


def _client_gets():
    """(controller class, method name, path) of every GET of the client, in a stable order."""
    import tb_pe_client.api as package

    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        if not info.name.endswith("_controller_api"):
            continue
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        cls = next(c for n, c in inspect.getmembers(module, inspect.isclass) if n.endswith("ControllerApi"))
        source = inspect.getsource(module)
        for name, method, path in _SERIALIZE.findall(source):
            if method == "GET":
                yield cls, name, path


@pytest.fixture(scope="module")
def ids(client):  # noqa: F811
    tag = uuid.uuid4().hex[:6]
    device = client.save_device(Device(name=f"sweep-{tag}", type="sweep"))
    asset = client.save_asset(Asset(name=f"sweep-asset-{tag}", type="sweep"))
    from tb_pe_client.models import Customer

    customer = client.save_customer(Customer(title=f"sweep-customer-{tag}"))
    me = client.get_user()
    client.save_entity_telemetry("DEVICE", str(device.id.id), "ANY", json.dumps({"temperature": 1}))
    client.save_entity_attributes_v2("DEVICE", str(device.id.id), "SERVER_SCOPE", json.dumps({"a": 1}))
    converter = client.save_converter(Converter(
        name=f"sweep-converter-{tag}", type="UPLINK",
        configuration={"scriptLang": "JS", "decoder": "return {deviceName: 'x', telemetry: {}};"}))
    integration = client.save_integration(Integration(
        name=f"sweep-integration-{tag}", type="HTTP", default_converter_id=converter.id,
        routing_key=uuid.uuid4().hex, enabled=True, configuration={"baseUrl": "http://localhost", "metadata": {}}))
    group = client.save_entity_group(EntityGroup(name=f"sweep-group-{tag}", type="DEVICE"))
    view = client.save_entity_view(EntityView(
        name=f"sweep-view-{tag}", type="sweep", entity_id=device.id,
        keys={"timeseries": ["temperature"], "attributes": {"cs": [], "ss": [], "sh": []}}))
    chains = client.get_rule_chains(page_size=10, page=0)
    edge = client.save_edge(Edge(name=f"sweep-edge-{tag}", type="sweep", routing_key=uuid.uuid4().hex, secret="s",
                                 edge_license_key="", cloud_endpoint=""))
    one = {
        "device": device.id.id, "asset": asset.id.id, "customer": customer.id.id, "user": me.id.id,
        "tenant": me.tenant_id.id, "converter": converter.id.id, "integration": integration.id.id,
        "group": group.id.id, "entity_view": view.id.id, "rule_chain": chains.data[0].id.id,
        "device_profile": client.get_default_device_profile_info().id.id,
        "asset_profile": client.get_default_asset_profile_info().id.id, "edge": edge.id.id,
    }
    values = {
        "page_size": 10, "page": 0, "limit": 10, "start_ts": 0, "end_ts": 2 ** 41,
        "entity_type": "DEVICE", "entity_id": one["device"], "scope": "SERVER_SCOPE", "keys": "temperature",
        "from_type": "DEVICE", "from_id": one["device"], "to_type": "DEVICE", "to_id": one["device"],
        "relation_type": "Contains", "group_type": "DEVICE", "owner_type": "TENANT", "owner_id": one["tenant"],
        "event_type": "DEBUG_INTEGRATION", "type": "sweep", "routing_key": integration.routing_key,
        "device_name": "missing", "asset_name": "missing", "customer_title": "missing", "entity_view_name": "missing",
        "group_name": "missing", "strategy": "ALL", "transport_type": "DEFAULT", "rule_chain_type": "CORE",
        "integration_type": "HTTP", "converter_type": "UPLINK", "search_status": "ANY", "status": "ACTIVE_UNACK",
        "component_type": "FILTER", "key": "temperature", "edge_name": "missing", "method": "docker",
        "edge_version": "3.9.0",
    }
    for name, value in one.items():
        values[f"{name}_id"] = str(value)
        values[f"{name}_ids"] = [str(value)]
    values["entity_group_id"], values["entity_group_ids"] = values["group_id"], values["group_ids"]
    return values


def _call(fn, kwargs: dict):
    """Call ``fn``; arguments the client's own signature validation refuses for their type (it types
    page numbers as int in one controller and str in another) are converted once and tried again."""
    try:
        return fn(**kwargs)
    except ValidationError as e:
        if "ControllerApi." not in e.title:  # not our arguments: the answer did not fit the client's model
            raise
        for error in e.errors():
            name = error["loc"][0]
            if error["type"] == "int_type":
                kwargs[name] = int(kwargs[name])
            elif error["type"] == "string_type":
                kwargs[name] = str(kwargs[name])
            elif error["type"] == "enum":  # a required enum parameter (the names of calculated fields' type)
                kwargs[name] = re.findall(r"'([^']*)'", error["ctx"]["expected"])[0]
            else:
                raise
        return fn(**kwargs)


def _sweep(client, ids):  # noqa: F811
    """(called, broken, skipped) over every routed GET of the client."""
    called, skipped, broken = [], [], []
    for cls, name, path in _client_gets():
        if not _routed(path):
            continue
        fn = getattr(cls(client.api_client), name)
        kwargs, missing = {}, []
        for p in inspect.signature(fn).parameters.values():
            if p.name.startswith("_") or p.default is not inspect.Parameter.empty:
                continue
            if p.name in ids:
                kwargs[p.name] = ids[p.name]
            else:
                missing.append(p.name)
        if missing:
            skipped.append(f"{path}: {missing}")
            continue
        if path in CLIENT_CANNOT_READ:
            skipped.append(f"{path}: the client cannot read it")
            continue
        try:
            _call(fn, dict(kwargs))
        except ApiException as e:
            if e.status >= 500 and e.status != 501 or _SWALLOWED.search(e.body or ""):
                broken.append(f"GET {path} ({name}): {e.status} {(e.body or '')[:300]}")
        except ValidationError as e:  # the client could not read our answer into its model
            if all(error.get("input") == "" for error in e.errors()):
                continue  # ThingsBoard's null answer (an empty body): its own client reads it no better
            broken.append(f"GET {path} ({name}): {' '.join(str(e).split())[:600]}")
        else:
            called.append(path)
    return called, broken, skipped


def test_every_routed_get_answers_json_the_client_reads(client, ids):  # noqa: F811
    called, broken, skipped = _sweep(client, ids)
    assert broken == [], "\n".join(broken)
    print(f"tenant sweep: {len(called)} GETs read")
    assert len(called) >= FLOOR, (len(called), skipped)


def test_every_routed_get_answers_the_system_administrator_json_the_client_reads(server_url, ids):  # noqa: F811
    from tb_pe_client.client import ThingsboardClient

    with ThingsboardClient(server_url, SYSADMIN, SYSADMIN_PASSWORD, retry_on_rate_limit=False) as root:
        tenant_profile = root.get_default_tenant_profile_info().id.id
        called, broken, skipped = _sweep(root, {**ids, "tenant_profile_id": str(tenant_profile),
                                                "tenant_profile_ids": [str(tenant_profile)]})
    assert broken == [], "\n".join(broken)
    print(f"sysadmin sweep: {len(called)} GETs read")
    assert len(called) >= SYSADMIN_FLOOR, (len(called), skipped)
