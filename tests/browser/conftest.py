"""Browser tests: Debian's Chromium driven by Playwright against the real ASGI server.

The server is `manage.py serve` (what `make run` starts: migrate, demo data, daphne serving HTTP
and websockets) in a subprocess on a free port, with its own database, since pytest-django's
live_server serves neither ASGI nor websockets and a subprocess cannot see the suite's test
database:

- embedded (no DATABASE_URL): a fresh SQLite file in a temporary directory;
- with DATABASE_URL (PostgreSQL): a fresh database beside the configured one, dropped at the end;
  REDIS_URL, when set, is kept (the live websocket then goes through Redis) and Celery tasks run
  in the server process (no worker runs beside the suite).

Everything is skipped, with the reason, when /usr/bin/chromium or Playwright is missing;
`.ci/run` installs Chromium from Debian. Playwright's own browser download is never used.
"""

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ROOT = Path(__file__).resolve().parents[2]
TENANT_ADMIN = ("tenant@thingsboard.org", "tenant")
#: set to a directory to save screenshots of the main pages there (docs/screenshots/ in the README)
SCREENSHOTS = os.environ.get("UI_SCREENSHOTS_DIR", "")

SKIP_REASON = f"browser tests need Chromium at {CHROMIUM} (apt-get install chromium)"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def _database(env: dict, workdir: Path):
    """Point ``env`` at a database of the server's own; yields, then drops it."""
    url = env.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        env.pop("DATABASE_URL", None)
        env["SQLITE_PATH"] = str(workdir / "db.sqlite3")
        yield
        return
    import psycopg

    parts = urlsplit(url)
    name = f"{parts.path.lstrip('/') or 'postgres'}_ui{os.getpid()}"
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    env["DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{name}"))
    try:
        yield
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


server_logs: list[Path] = []


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def server():
    """Base URL of a running `manage.py serve` with the demo data."""
    workdir = Path(tempfile.mkdtemp(prefix="tb-browser-"))
    port = _free_port()
    env = {**os.environ, "DATA_DIR": str(workdir), "LOAD_DEMO_DATA": "true", "CELERY_TASK_ALWAYS_EAGER": "true",
           "RUN_INTEGRATIONS_IN_WEB": "false", "DEBUG": "false", "PYTHONUNBUFFERED": "1",
           "RUN_DEVICE_MQTT_IN_WEB": "false",  # no device MQTT on 1883 beside the other suites of CI
           "RUN_DEVICE_COAP_IN_WEB": "false"}  # nor device CoAP on UDP 5683
    with _database(env, workdir):
        log = open(workdir / "serve.log", "w")
        proc = subprocess.Popen([sys.executable, "manage.py", "serve", "--port", str(port)], cwd=ROOT, env=env,
                                stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 120
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"serve exited: {(workdir / 'serve.log').read_text()[-3000:]}")
                try:
                    with urllib.request.urlopen(base + "/healthz", timeout=2):
                        break
                except OSError:
                    if time.monotonic() > deadline:
                        raise RuntimeError("serve did not answer /healthz within 120 s") from None
                    time.sleep(0.3)
            server_logs.append(workdir / "serve.log")
            yield base
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            log.close()
    shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.skip(SKIP_REASON)
    sync_api = pytest.importorskip("playwright.sync_api", reason="browser tests need the playwright package")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(request, browser, server):
    """A fresh browser context logged in to the admin as the demo tenant administrator."""
    context = browser.new_context(base_url=server, viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(30000)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    tab.goto("/admin/login/?next=/admin/")
    tab.fill("input[name=username]", TENANT_ADMIN[0])
    tab.fill("input[name=password]", TENANT_ADMIN[1])
    tab.click("button[type=submit]")
    tab.wait_for_url("**/admin/")
    yield tab
    context.close()
    failed = getattr(request.node, "report_call", None)
    if failed is not None and failed.failed and server_logs:
        print("--- server log (tail) ---\n" + server_logs[-1].read_text(errors="replace")[-4000:])
    assert not errors, f"JavaScript errors on the page: {errors}"


def screenshot(tab, name: str, selector: str | None = None) -> None:
    """Save a screenshot for the README when UI_SCREENSHOTS_DIR is set (scripts: see README)."""
    if not SCREENSHOTS:
        return
    Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
    tab.add_style_tag(content="#submit-row { position: static !important; }")  # unfold's sticky save bar
    if not selector:
        tab.evaluate("window.scrollTo(0, 0)")
    target = tab.locator(selector) if selector else tab
    target.screenshot(path=str(Path(SCREENSHOTS) / f"{name}.png"))
