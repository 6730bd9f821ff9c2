"""Reporting (reports/): dashboards and report templates rendered in headless Chromium."""

from tbproject.env import env_int, env_str

# The Chromium binary Playwright drives ("" or a missing file: generating a PDF/PNG/JPEG answers 503, the rest works).
REPORTS_CHROMIUM_PATH = env_str("REPORTS_CHROMIUM_PATH", "/usr/bin/chromium")
# This server's own address as the renderer opens it (never a host from a request or a configuration).
REPORTS_SERVER_URL = env_str("REPORTS_SERVER_URL", "http://127.0.0.1:8080")
# How long the renderer waits for a page, and how long its login token lives (seconds).
REPORTS_RENDER_TIMEOUT_MS = env_int("REPORTS_RENDER_TIMEOUT_MS", 30_000, minimum=1000)
REPORTS_TOKEN_LIFETIME = env_int("REPORTS_TOKEN_LIFETIME", 120, minimum=10)
# Renders (Chromium) at once per process; a render waits this long for a slot, then answers 503 "busy".
REPORTS_MAX_CONCURRENT = env_int("REPORTS_MAX_CONCURRENT", 2, minimum=1)
REPORTS_SLOT_WAIT_SECONDS = env_int("REPORTS_SLOT_WAIT_SECONDS", 5, minimum=0)
# Report jobs queued or running per tenant (more: 429), and the largest report file an upload may hold.
REPORTS_MAX_JOBS_PER_TENANT = env_int("REPORTS_MAX_JOBS_PER_TENANT", 10, minimum=1)
REPORTS_MAX_UPLOAD_BYTES = env_int("REPORTS_MAX_UPLOAD_BYTES", 50 * 1024 * 1024, minimum=1024)
