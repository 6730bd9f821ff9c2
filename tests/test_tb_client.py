"""ThingsBoard's own generated client (tb-pe-client) against the real ASGI server.

The server runs as a subprocess (daphne) on a free port with a database of its own (a copy of one
migrated per run, tbproject/testing/client_server.py): a temporary SQLite file, or, when DATABASE_URL
points at PostgreSQL, a ``tbclient_<random>`` database that
is created here and dropped afterwards. The client returns None for a 2xx it did not expect and
raises for errors, so every call below asserts on what came back.
"""

import json
import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import urllib3

from tbproject.testing.client_server import (  # noqa: F401  (the names other modules import from here)
    EMAIL,
    PASSWORD,
    SYSADMIN,
    SYSADMIN_PASSWORD,
    PostgresDatabase,
    copy_sqlite,
)

ROOT = Path(__file__).resolve().parent.parent
T0 = 1_700_000_000_000
MAX_BODY = 64 * 1024

pytestmark = pytest.mark.server


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_up(base_url: str, proc: subprocess.Popen, log_path: Path, timeout: float = 30.0) -> None:
    http = urllib3.PoolManager(retries=False, timeout=1.0)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}: {log_path.read_text()[-2000:]}")
        try:
            if http.request("GET", f"{base_url}/healthz").status == 200:
                return
        except urllib3.exceptions.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError("server did not answer /healthz in time")


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def server_url(tmp_path_factory, client_server_database):
    """Base URL of a server on a fresh copy of the run's migrated database (one tenant admin, one
    system administrator: tbproject/testing/client_server.py); stopped and cleaned up after."""
    # No Celery worker runs beside this server: background work runs in-process (embedded mode),
    # also when REDIS_URL points the rest of the suite at Redis.
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tbproject.settings", "LOAD_DEMO_DATA": "false",
           "CELERY_TASK_ALWAYS_EAGER": "true",
           "DEBUG": "false", "API_MAX_BODY_BYTES": str(MAX_BODY),
           "DATA_DIR": str(tmp_path_factory.mktemp("tbclient-data"))}
    log_path = tmp_path_factory.mktemp("tbclient-log") / "server.log"
    database = None
    kind, template = client_server_database
    if kind == "postgres":
        database = PostgresDatabase(env["DATABASE_URL"], template=template)
        env["DATABASE_URL"] = database.url
    else:
        env.pop("DATABASE_URL", None)
        env["SQLITE_PATH"] = str(tmp_path_factory.mktemp("tbclient-db") / "db.sqlite3")
        copy_sqlite(template, Path(env["SQLITE_PATH"]))
    proc = None
    try:
        port = _free_port()
        # The log goes to a file, not a pipe: an unread pipe fills up and blocks the server.
        log = log_path.open("wb")
        proc = subprocess.Popen([sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port),
                                 "tbproject.asgi:application"], cwd=ROOT, env=env, stdout=log, stderr=log)
        url = f"http://127.0.0.1:{port}"
        _wait_until_up(url, proc, log_path)
        yield url
    finally:
        if proc is not None:
            _stop(proc)
            log.close()
        if database is not None:
            database.drop()


@pytest.fixture(scope="module")
def client(server_url):
    from tb_pe_client.client import ThingsboardClient

    with ThingsboardClient(server_url, EMAIL, PASSWORD, retry_on_rate_limit=False) as tb:
        yield tb


@pytest.fixture(scope="module")
def device(client):
    from tb_pe_client.models.device import Device

    saved = client.save_device(Device(name="client-thermo-1", type="thermometer", label="Room 1"))
    assert saved is not None and saved.id.id and saved.name == "client-thermo-1"
    return saved


def _raw_get(client, server_url, path: str, **params) -> urllib3.BaseHTTPResponse:
    http = urllib3.PoolManager()
    return http.request("GET", f"{server_url}{path}", fields=params,
                        headers={"X-Authorization": f"Bearer {client.get_token()}"})


def test_it_logs_in_and_reads_the_current_user(client):
    user = client.get_user()
    assert user is not None and user.email == EMAIL and user.authority == "TENANT_ADMIN"


def test_it_saves_telemetry_and_reads_latest_and_history_back(client, server_url, device):
    device_id = str(device.id.id)
    body = json.dumps([{"ts": T0, "values": {"temperature": 21.5, "humidity": 40}},
                       {"ts": T0 + 1000, "values": {"temperature": 22.5, "humidity": 41, "cfg": {"mode": "eco"}}}])
    assert client.save_entity_telemetry("DEVICE", device_id, "ANY", body) == ""
    door = json.dumps({"ts": T0 + 2000, "values": {"door": True}})
    assert client.save_entity_telemetry_with_ttl("DEVICE", device_id, "ANY", 0, door) == ""

    assert client.get_timeseries_keys("DEVICE", device_id) == ["cfg", "door", "humidity", "temperature"]
    latest = client.get_latest_timeseries("DEVICE", device_id, keys="temperature,cfg,door")
    assert {k: [(p.ts, p.value) for p in v] for k, v in latest.items()} == {
        "temperature": [(T0 + 1000, "22.5")], "cfg": [(T0 + 1000, '{"mode":"eco"}')], "door": [(T0 + 2000, "true")]}
    strict = client.get_latest_timeseries("DEVICE", device_id, keys="temperature,cfg", use_strict_data_types=True)
    assert strict["temperature"][0].value == 22.5 and strict["cfg"][0].value == {"mode": "eco"}

    history = client.get_timeseries_history("DEVICE", device_id, T0, T0 + 5000, keys="temperature,humidity",
                                            limit="10", order_by="ASC", use_strict_data_types=True)
    assert [(p.ts, p.value) for p in history["temperature"]] == [(T0, 21.5), (T0 + 1000, 22.5)]
    assert [(p.ts, p.value) for p in history["humidity"]] == [(T0, 40), (T0 + 1000, 41)]
    averaged = client.get_timeseries_history("DEVICE", device_id, T0, T0 + 2000, keys="temperature", agg="AVG",
                                             interval=2000)
    assert [(p.ts, p.value) for p in averaged["temperature"]] == [(T0 + 1000, "22.0")]

    # ThingsBoard's older history form: /values/timeseries with startTs/endTs (no client method of its own)
    res = _raw_get(client, server_url, f"/api/plugins/telemetry/DEVICE/{device_id}/values/timeseries",
                   keys="temperature", startTs=str(T0), endTs=str(T0 + 5000), useStrictDataTypes="true")
    assert res.status == 200 and res.json() == {"temperature": [{"ts": T0 + 1000, "value": 22.5},
                                                                {"ts": T0, "value": 21.5}]}


def test_it_saves_reads_and_deletes_attributes(client, device):
    device_id = str(device.id.id)
    assert client.save_entity_attributes_v2("DEVICE", device_id, "SERVER_SCOPE", '{"model": "A", "floor": 3}') == ""
    assert client.save_entity_attributes_v1("DEVICE", device_id, "SHARED_SCOPE", '{"target": 21.5}') == ""
    assert client.save_device_attributes(device_id, "SHARED_SCOPE", '{"cfg": {"mode": "eco"}}') == ""

    attrs = client.get_attributes("DEVICE", device_id)
    assert {a.key: a.value for a in attrs} == {"model": "A", "floor": 3, "target": 21.5, "cfg": {"mode": "eco"}}
    assert all(isinstance(a.last_update_ts, int) for a in attrs)
    shared = client.get_attributes_by_scope("DEVICE", device_id, "SHARED_SCOPE", keys="target")
    assert [(a.key, a.value) for a in shared] == [("target", 21.5)]
    assert client.get_attribute_keys("DEVICE", device_id) == ["cfg", "floor", "model", "target"]
    assert client.get_attribute_keys_by_scope("DEVICE", device_id, "SERVER_SCOPE") == ["floor", "model"]

    assert client.delete_device_attributes(device_id, "SHARED_SCOPE", keys="cfg") == ""
    assert client.delete_entity_attributes("DEVICE", device_id, "SERVER_SCOPE", keys="floor") == ""
    assert client.get_attribute_keys("DEVICE", device_id) == ["model", "target"]


def test_it_reports_errors_as_exceptions_with_thingsboards_message(client, device):
    from tb_pe_client.exceptions import ApiException

    with pytest.raises(ApiException) as caught:
        client.save_entity_attributes_v2("DEVICE", str(device.id.id), "CLIENT_SCOPE", '{"a": 1}')
    assert caught.value.status == 400 and "CLIENT_SCOPE" in json.loads(caught.value.body)["message"]
    with pytest.raises(ApiException) as caught:
        client.get_timeseries_keys("DEVICE", str(uuid.uuid4()))
    assert caught.value.status == 404 and json.loads(caught.value.body)["errorCode"] == 32


def test_it_answers_an_oversize_body_with_413_json_from_the_real_server(client, server_url, device):
    http = urllib3.PoolManager()
    body = json.dumps({"blob": "x" * MAX_BODY})
    res = http.request("POST", f"{server_url}/api/plugins/telemetry/DEVICE/{device.id.id}/timeseries/ANY",
                       body=body, headers={"X-Authorization": f"Bearer {client.get_token()}",
                                           "Content-Type": "text/plain"})
    assert res.status == 413 and res.headers["Content-Type"] == "application/json"
    assert res.json()["status"] == 413 and res.json()["message"]


def test_it_pages_and_searches_tenant_devices(client, device):
    from tb_pe_client.models.device import Device

    for name in ("client-thermo-2", "client-thermo-3", "pump-1"):
        assert client.save_device(Device(name=name, type="thermometer")) is not None
    first = client.get_tenant_devices(page_size=2, page=0, text_search="client-thermo", sort_property="name",
                                      sort_order="ASC")
    assert first is not None and first.total_elements == 3 and first.total_pages == 2 and first.has_next is True
    assert [d.name for d in first.data] == ["client-thermo-1", "client-thermo-2"]
    second = client.get_tenant_devices(page_size=2, page=1, text_search="client-thermo", sort_property="name",
                                       sort_order="ASC")
    assert [d.name for d in second.data] == ["client-thermo-3"] and second.has_next is False
    everything = client.get_tenant_devices(page_size=10, page=0)
    assert everything.total_elements == 4 and not everything.has_next


def test_it_refreshes_the_token_through_the_refresh_endpoint(client):
    manager = client._auth_manager
    before = manager._token_info
    manager._do_login = lambda: pytest.fail("the client logged in again instead of refreshing")
    # Pretend the access token expires now: the client's hook refreshes before the next call.
    manager._token_info = type(before)(before.token, before.refresh_token, 0, before.refresh_exp_ts,
                                       before.clock_diff)
    try:
        assert client.get_user().email == EMAIL
    finally:
        del manager._do_login
    assert manager._token_info.token_exp_ts > 0
    assert client.get_refresh_token() != before.refresh_token
