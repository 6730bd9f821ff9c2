"""One real render in Debian's Chromium through Playwright: a report template (with a dashboard in it)
to PDF and the dashboard report to PNG, each checked by the file's magic bytes. The renderer opens
pytest-django's live server, as it opens this server in production (REPORTS_SERVER_URL)."""

from pathlib import Path

import pytest

from dashboards.models import Dashboard
from reports.tests.helpers import PDF_CONFIG

CHROMIUM = "/usr/bin/chromium"
pytestmark = [pytest.mark.django_db(transaction=True),
              pytest.mark.skipif(not Path(CHROMIUM).is_file(),
                                 reason=f"needs Chromium at {CHROMIUM} (apt-get install chromium)")]


def test_it_renders_a_pdf_and_a_png_in_chromium(api, tenant, live_server, settings):
    settings.REPORTS_CHROMIUM_PATH = CHROMIUM
    settings.REPORTS_SERVER_URL = live_server.url
    board = Dashboard.objects.create(tenant=tenant, title="Boiler room", configuration_text=(
        '{"widgets": {"w": {"typeFullFqn": "system.cards.value", "config": {"title": "Water temperature"}}}}'))
    config = {**PDF_CONFIG, "components": [*PDF_CONFIG["components"],
                                           {"type": "DASHBOARD", "subType": "default", "dashboardId": str(board.pk)}]}
    res = api.post("/api/v2/report/test", {"reportTemplateConfig": config, "timezone": "Europe/Berlin"}, format="json")
    assert res.status_code == 200, res.content[:300]
    assert res["Content-Type"] == "application/pdf" and res.content.startswith(b"%PDF-")
    res = api.post(f"/api/report/{board.pk}/download", {"type": "PNG", "timezone": "UTC"}, format="json")
    assert res.status_code == 200, res.content[:300]
    assert res["Content-Type"] == "image/png" and res.content.startswith(b"\x89PNG\r\n\x1a\n")
