"""Rendering a page of this server to PDF, PNG or JPEG in headless Chromium (ThingsBoard's web-report
service does the same job with its own headless browser).

    render(path, user, kind) -> bytes        # kind: "PDF" | "PNG" | "JPEG"

Security: the page rendered is always ``REPORTS_SERVER_URL`` (this server) plus a ``path`` built by
this app (reports/pages.py): no host from a request or a configuration is ever opened, and requests
the page makes to any other origin are refused. The browser logs in with a short-lived access token
of the user the report is made for (REPORTS_TOKEN_LIFETIME seconds), so that user's rights and tenancy
decide what the page shows.

At most REPORTS_MAX_CONCURRENT renders run at once in a process (:func:`slot`); a render that gets no
slot within REPORTS_SLOT_WAIT_SECONDS fails with "busy" (503). The browser's requests carry the token only
to this server and never along a redirect (:func:`request_filter`).

Where Chromium or Playwright is missing (a fresh ``make run`` machine), :class:`ReportServerError`
says so, as ThingsBoard answers when its report server is down; the rest of reporting still works.
"""

import contextlib
import logging
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import jwt
from django.conf import settings

from tenants.choices import NULL_UUID
from tenants.system import jwt_settings

__all__ = ["render", "ReportServerError", "available", "short_token", "UNAVAILABLE", "BUSY", "slot",
           "request_filter", "loggable"]

log = logging.getLogger(__name__)

UNAVAILABLE = "Failed to generate report: the report server (headless Chromium) is not available"
BUSY = "Failed to generate report: the report server is busy, try again later"


class ReportServerError(Exception):
    """The renderer could not make the file (no browser, the page failed, a timeout); ``message`` says why."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _executable() -> str:
    return str(getattr(settings, "REPORTS_CHROMIUM_PATH", "") or "")


def available() -> bool:
    """Whether a report can be rendered here: Playwright importable and the Chromium binary present."""
    exe = _executable()
    if not exe or not Path(exe).is_file():
        return False
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return False
    return True


def short_token(user) -> str:
    """An access token of ``user`` valid REPORTS_TOKEN_LIFETIME seconds (ThingsBoard's claims)."""
    config = jwt_settings.current()
    now = int(time.time())
    claims = {"sub": user.email, "userId": str(user.id), "scopes": [user.authority], "enabled": user.is_active,
              "cc": user.credentials_changed, "isPublic": False, "tenantId": str(user.tenant_id or NULL_UUID),
              "customerId": str(user.customer_id or NULL_UUID), "iss": config.issuer, "iat": now,
              "exp": now + int(getattr(settings, "REPORTS_TOKEN_LIFETIME", 120))}
    return jwt.encode(claims, config.signing_key, algorithm="HS512")


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def loggable(url: str, limit: int = 200) -> str:
    """``url`` cut to ``limit`` characters for a log line."""
    return url if len(url) <= limit else url[:limit] + "..."


_slots_lock = threading.Lock()
_slots: tuple[int, threading.BoundedSemaphore] | None = None


def _semaphore() -> threading.BoundedSemaphore:
    global _slots
    limit = max(1, int(getattr(settings, "REPORTS_MAX_CONCURRENT", 2)))
    with _slots_lock:
        if _slots is None or _slots[0] != limit:  # a changed setting (tests) starts a new pool
            _slots = (limit, threading.BoundedSemaphore(limit))
        return _slots[1]


@contextlib.contextmanager
def slot():
    """One of the process's REPORTS_MAX_CONCURRENT render slots; ReportServerError(BUSY) when none frees
    within REPORTS_SLOT_WAIT_SECONDS."""
    semaphore = _semaphore()
    if not semaphore.acquire(timeout=max(0.0, float(getattr(settings, "REPORTS_SLOT_WAIT_SECONDS", 5)))):
        raise ReportServerError(BUSY)
    try:
        yield
    finally:
        semaphore.release()


def request_filter(origin: str, headers: dict):
    """Playwright's route handler: a request to ``origin`` (this server) goes on with ``headers`` (the
    token); any other origin, and any request reached through a redirect, is aborted."""

    def handle(route):
        request = route.request
        if request.redirected_from is None and _origin(request.url) == origin:
            route.continue_(headers={**request.headers, **headers})
        else:
            route.abort()

    return handle


def render(path: str, user, kind: str) -> bytes:
    """The page at ``path`` of this server, seen by ``user``, as a ``kind`` file; ReportServerError if not."""
    if not path.startswith("/") or path.startswith("//"):
        raise ValueError("render() takes a path of this server")
    if not available():
        raise ReportServerError(UNAVAILABLE)
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    base = settings.REPORTS_SERVER_URL.rstrip("/")
    timeout = int(getattr(settings, "REPORTS_RENDER_TIMEOUT_MS", 30_000))
    only_this_server = request_filter(_origin(base), {"X-Authorization": f"Bearer {short_token(user)}"})
    try:
        with slot(), sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=_executable(), args=["--no-sandbox", "--disable-gpu"])
            try:
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                page.route("**/*", only_this_server)
                response = page.goto(base + path, wait_until="load", timeout=timeout)
                if response is None or response.status != 200:
                    status = response.status if response is not None else "no answer"
                    raise ReportServerError(f"Failed to generate report: the report page answered {status}")
                if kind == "PDF":
                    return page.pdf(format="A4", print_background=True)
                return page.screenshot(full_page=True, type="jpeg" if kind == "JPEG" else "png")
            finally:
                browser.close()
    except PlaywrightError as e:
        log.warning("report rendering of %s failed: %s", loggable(path), str(e)[:300])
        raise ReportServerError(f"Failed to generate report: {str(e).splitlines()[0][:300]}") from None
