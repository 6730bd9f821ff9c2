"""Converter editor (admin), beyond ThingsBoard: versions with diffs, stored tests with pass/fail,
and a save that breaks a stored test asks for confirmation."""

from converters.models import Converter, ConverterTest, ConverterVersion
from converters.tests.test_admin import form

DECODER = "var d = JSON.parse(String.fromCharCode.apply(null, payload));\n" \
          "return {deviceName: d.id, deviceType: 'meter', telemetry: {t: d.t}};"
BROKEN = DECODER.replace("{t: d.t}", "{t: d.t * 10}")


def make(tenant) -> Converter:
    converter = Converter.objects.create(tenant=tenant, name="c", type="UPLINK",
                                         configuration={"scriptLang": "JS", "decoder": DECODER})
    ConverterTest.objects.create(tenant=tenant, converter=converter, name="keeps t", payload=b'{"id": "m", "t": 2}',
                                 expected={"deviceName": "m", "deviceType": "meter", "telemetry": {"t": 2}},
                                 last_passed=True)
    return converter


def test_a_change_that_breaks_a_stored_test_needs_the_force_switch(client, tenant_admin, tenant):
    converter = make(tenant)
    client.force_login(tenant_admin)
    url = f"/admin/converters/converter/{converter.pk}/change/"
    res = client.post(url, form(name="c", script=BROKEN, update_only_keys=""))
    assert res.status_code == 200
    error = str(res.context["adminform"].form.errors["force"])
    assert "would break 1 stored test" in error and "telemetry.t: expected 2, got 20" in error
    assert Converter.objects.get(pk=converter.pk).script == DECODER
    res = client.post(url, form(name="c", script=BROKEN, update_only_keys="", force="on"))
    assert res.status_code == 302
    converter.refresh_from_db()
    assert converter.script == BROKEN and converter.version_number == 2
    test = ConverterTest.objects.get()
    assert (test.last_passed, test.last_version) == (False, 2)
    version = ConverterVersion.objects.get(converter=converter, number=2)
    assert version.author == tenant_admin and version.author_name == tenant_admin.get_username()


def test_the_editor_shows_versions_with_diffs_and_tests_with_results(client, tenant_admin, tenant):
    converter = make(tenant)
    converter.configuration = {**converter.configuration, "decoder": DECODER + "\n// v2"}
    converter.save()
    client.force_login(tenant_admin)
    html = client.get(f"/admin/converters/converter/{converter.pk}/change/").content.decode()
    assert 'data-role="versions"' in html and 'data-version="2"' in html and 'data-version="1"' in html
    assert "+// v2" in html and "Roll back to this" in html
    assert 'data-test-name="keeps t"' in html and ">pass</span>" in html
    assert "ui/converter-history.js" in html


def test_history_rows_are_listed_per_tenant(client, tenant_admin, tenant, other_tenant):
    from converters import health

    mine, theirs = make(tenant), make(other_tenant)
    meter = health.Meter()
    meter.add_counts(mine.pk, 1, 0, 0.001)
    meter.add_counts(theirs.pk, 7, 0, 0.001)
    meter.flush()
    theirs.name = "zz-theirs"
    theirs.save()
    client.force_login(tenant_admin)
    for url in ("/admin/converters/converterversion/", "/admin/converters/convertertest/",
                "/admin/converters/converterhealth/"):
        res = client.get(url)
        assert res.status_code == 200
        assert len(res.context["cl"].result_list) == 1, url
        assert "zz-theirs" not in res.content.decode()
