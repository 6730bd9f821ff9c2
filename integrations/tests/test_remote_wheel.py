"""The remote runner as a distribution of its own (packaging/remote): its wheel is built, installed
into a virtualenv of its own with only the wheel's requirements (no Django, Celery or database
driver there), and that installation carries an HTTP device's uplinks to a live server and answers
the device's next request with its downlink.

The virtualenv is made once per set of requirements and Python version (var/remote-wheel-venv/,
the requirements come from the package registry the first time) and the freshly built wheel is
reinstalled into it on every run.
"""

import ast
import fcntl
import hashlib
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
import urllib.request

import pytest

from devices.models import Device
from integrations.downlinks import submit
from integrations.models import OutgoingDownlink
from integrations.tests.brokers import free_port, wait_until
from integrations.tests.downlinks import attributes_msg, make_encoder
from integrations.tests.factories import make_integration, make_uplink_converter
from integrations.tests.processes import ROOT
from integrations.tests.sockets import host_tenant  # noqa: F401 (fixture)
from integrations.tests.test_remote_e2e import SECRET, Process, connected, remote_env, server  # noqa: F401 (fixture)

PACKAGING = ROOT / "packaging" / "remote"
SERVER_ONLY = ("django", "celery", "channels", "psycopg", "redis", "daphne", "rest_framework")

#: One telemetry row per request, and the device's name from the request.
DECODER = """
var data = JSON.parse(String.fromCharCode.apply(null, payload));
return {deviceName: data.id, deviceType: 'meter', telemetry: {ts: data.ts, values: {n: data.n}}};
"""
ENCODER = "return {contentType: 'JSON', data: JSON.stringify({firmware: msg.firmware}), metadata: {}};"


def _backend():
    spec = importlib.util.spec_from_file_location("remote_wheel_backend", PACKAGING / "backend.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _project() -> dict:
    return tomllib.loads((PACKAGING / "pyproject.toml").read_text())["project"]


def _pins(lines) -> dict[str, str]:
    found = (re.match(r"^\s*([A-Za-z0-9_.\-]+)==([^\s;#]+)", line) for line in lines)
    return {m.group(1).lower().replace("_", "-"): m.group(2) for m in found if m}


def test_the_wheels_requirements_are_pinned_as_in_requirements_txt():
    project = _project()
    wanted = [*project["dependencies"], *(r for reqs in project["optional-dependencies"].values() for r in reqs)]
    pins, ours = _pins(wanted), _pins((ROOT / "requirements.txt").read_text().splitlines())
    assert len(pins) == len(wanted)  # every requirement pinned
    assert {name: ours.get(name) for name in pins} == pins
    assert not set(pins) & {"django", "celery", "psycopg", "psycopg-binary", "redis", "channels"}


def _top_level_imports(tree: ast.Module):
    """Absolute imports run when the module is imported (not those inside functions)."""
    todo = list(tree.body)
    while todo:
        node = todo.pop()
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module
        elif not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            todo.extend(ast.iter_child_nodes(node))


def test_every_module_in_the_wheel_imports_only_the_wheels_modules_and_its_requirements():
    files = _backend().files()
    modules = {f.removesuffix(".py").removesuffix("/__init__").replace("/", ".") for f in files if f.endswith(".py")}
    assert {"remote.__main__", "integrations.remote.protocol", "integrations.types.http", "converters.engine.worker",
            "tbproject.conf"} <= modules
    wrong = []
    for path in (f for f in files if f.endswith(".py")):
        for name in _top_level_imports(ast.parse((ROOT / path).read_text())):
            top = name.split(".")[0]
            ours = top in ("remote", "integrations", "converters", "tbproject", "devices", "tenants", "rulechains")
            if top in SERVER_ONLY or (ours and name not in modules and name != "tbproject.celery"):
                wrong.append(f"{path} imports {name}")
    assert wrong == []



def test_the_wheel_carries_every_file_the_tbel_runtime_is_read_from():
    from converters.tbel import _RUNTIME_FILES

    files = set(_backend().files())
    assert [name for name in _RUNTIME_FILES if f"converters/tbel/{name}" not in files] == []

def _venv() -> tuple:
    """(python, iot-remote) of the cached virtualenv with the wheel's requirements."""
    project = _project()
    key = hashlib.sha256(json.dumps([project["dependencies"], sys.version]).encode()).hexdigest()[:16]
    base = ROOT / "var" / "remote-wheel-venv"
    base.mkdir(parents=True, exist_ok=True)
    target = base / key
    with open(base / f"{key}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two suites side by side (.ci/run) make it once
        if not (target / "ready").exists():
            shutil.rmtree(target, ignore_errors=True)
            subprocess.run([sys.executable, "-m", "venv", str(target)], check=True, timeout=120)
            done = subprocess.run([str(target / "bin" / "pip"), "install", "-q", "--disable-pip-version-check",
                                   *project["dependencies"]], capture_output=True, text=True, timeout=600)
            if done.returncode != 0:
                shutil.rmtree(target, ignore_errors=True)
                if not os.environ.get("CI"):
                    pytest.skip(f"the wheel's requirements could not be installed: {done.stderr[-500:]}")
                raise AssertionError(done.stderr[-3000:])
            (target / "ready").write_text("")
    return target / "bin" / "python", target / "bin" / "iot-remote"


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """The wheel built now, installed into the cached virtualenv: its (python, iot-remote).

    The virtualenv is shared by the suites .ci/run runs side by side: each holds it, from its
    install of the wheel to the module's last test, so that no suite reinstalls the wheel under
    another's running tests (CI saw pip's reinstall fail on a file the other suite's pip had
    just replaced)."""
    dist = tmp_path_factory.mktemp("dist")
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--disable-pip-version-check",
                            "-w", str(dist), str(PACKAGING)], capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr
    (wheel,) = dist.glob("iot_integration_remote-*-py3-none-any.whl")
    python, script = _venv()
    with open(python.parent.parent.with_suffix(".use.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        done = subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", "--force-reinstall",
                               "--disable-pip-version-check", str(wheel)], capture_output=True, text=True,
                              timeout=300)
        assert done.returncode == 0, done.stderr
        yield python, script


def _isolated_env() -> dict:
    return {k: v for k, v in remote_env().items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}


def test_the_installed_wheel_has_no_django_and_runs_its_converter_engine(installed, tmp_path):
    python, script = installed
    code = """
import json, sys
import remote.__main__
from integrations.types import TYPES
remote.__main__.configure(None)
from converters import engine
(result,) = engine.decode("k", 1, "return {deviceName: 'm', telemetry: {n: 1}};", [(b'{}', {})])
listeners = sorted(k for k, c in TYPES.all().items() if c.listener)
server = [m for m in sys.modules if m.split(".")[0] in ("django", "celery", "channels", "psycopg", "redis")]
print(json.dumps({"output": result.output_json, "listeners": listeners, "server": server,
                  "where": remote.__main__.__file__}))
try:
    import django
except ModuleNotFoundError:
    print("no django")
"""
    done = subprocess.run([str(python), "-c", code], cwd=tmp_path, env=_isolated_env(), capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    first, last = done.stdout.splitlines()
    result = json.loads(first)
    assert last == "no django" and result["server"] == []
    assert "site-packages" in result["where"]  # the installed copy, not the checkout
    assert json.loads(result["output"]) == {"deviceName": "m", "telemetry": {"n": 1}}
    assert {"TCP", "UDP", "MQTT", "COAP", "CUSTOM"} <= set(result["listeners"])
    usage = subprocess.run([str(script), "--server", "http://127.0.0.1:9"], cwd=tmp_path, env=_isolated_env(),
                           capture_output=True, text=True, timeout=60)
    assert usage.returncode == 2 and "--server, --routing-key and --secret" in usage.stderr


def _post(port: int, key: str, body: dict) -> tuple[int, bytes, str]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1/integrations/http/{key}", method="POST",
                                     data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=20) as answer:
        return answer.status, answer.read(), answer.headers.get("Content-Type", "")


@pytest.mark.server
@pytest.mark.django_db(transaction=True)
def test_the_installed_runner_carries_http_uplinks_and_answers_the_next_request_with_the_downlink(
        installed, server, host_tenant, tmp_path):  # noqa: F811
    _, script = installed
    http_port = free_port()
    integration = make_integration(
        host_tenant, "Plant HTTP", kind="HTTP", remote=True, secret=SECRET,
        converter=make_uplink_converter(host_tenant, "meter decoder", DECODER),
        downlink_converter=make_encoder(host_tenant, ENCODER), configuration={"baseUrl": "http://plant"})
    tls = ["--ca-file", str(server.certs.directory / "ca.pem")] if server.certs else []
    remote = Process([str(script), "--server", server.url, "--routing-key", integration.routing_key, "--secret",
                      SECRET, "--outbox", str(tmp_path / "outbox.sqlite3"), "--http-host", "127.0.0.1",
                      "--http-port", str(http_port), "--reconnect-seconds", "0.5", *tls], _isolated_env(), "remote")
    try:
        connected(integration, remote)
        key, body = integration.routing_key, lambda n: {"id": "wheel-meter", "n": n, "ts": 1_700_000_000_000 + n}
        wait_until(lambda: f"listens on 127.0.0.1:{http_port}" in remote.output(), timeout=20,
                   message=f"the remote's HTTP listener:\n{remote.output()}")
        assert _post(http_port, key, body(1))[0] == 204
        wait_until(lambda: Device.objects.filter(tenant=host_tenant, name="wheel-meter").exists(), timeout=30,
                   message=f"the device from the remote's uplink:\n{remote.output()[-3000:]}")

        submit(host_tenant.pk, integration.pk, attributes_msg(host_tenant, "wheel-meter", {"firmware": "3.0"}))
        row = OutgoingDownlink.objects.get(integration=integration)
        wait_until(lambda: "get a downlink with the answer to their next request" in remote.output(), timeout=20,
                   message=f"the downlink offered to the remote:\n{remote.output()[-3000:]}")
        status, reply, content_type = _post(http_port, key, body(2))
        assert (status, json.loads(reply), content_type) == (200, {"firmware": "3.0"}, "application/json")
        wait_until(lambda: OutgoingDownlink.objects.get(pk=row.pk).status == "DELIVERED", timeout=20,
                   message="the downlink recorded as delivered")
        assert _post(http_port, key, body(3))[0] == 204  # answered once
        device = Device.objects.get(tenant=host_tenant, name="wheel-meter")
        from devices.telemetry.reads import history

        wait_until(lambda: len(history(device.pk, ["n"], 0, 2_000_000_000_000, limit=10).get("n", [])) == 3,
                   timeout=30, message="the three uplinks stored")
    finally:
        remote.stop()
    assert "Traceback" not in remote.output(), remote.output()[-3000:]
