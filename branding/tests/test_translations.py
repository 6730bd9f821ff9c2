"""Custom translations per locale and level, and the end-user translation endpoints."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from tb_pe_client.models import TranslationInfo

from tbproject.testing.api import assert_error
from tbproject.testing.fixtures import api_as

pytestmark = pytest.mark.django_db


@pytest.fixture
def sys_api(sysadmin):
    return api_as(sysadmin)


def _grant_customer_write(tenant):
    from roles.models import Role

    Role.objects.filter(tenant=tenant, name="Customer User").update(permissions={"ALL": ["ALL"]})


def test_it_round_trips_a_custom_translation(api):
    body = {"home": {"home": "My home"}, "custom": {"dash": "Dash"}}
    assert api.post("/api/translation/custom/es_ES", body, format="json").status_code == 200
    assert api.get("/api/translation/custom/es_ES").json() == body
    assert api.get("/api/translation/custom/de_DE").json() == {}


def test_it_patches_and_deletes_keys_by_dotted_path(api):
    api.post("/api/translation/custom/en_US", {"home": {"home": "My home", "x": "y"}}, format="json")
    assert api.patch("/api/translation/custom/en_US", {"notification.active": "active", "home.x": "z"},
                     format="json").status_code == 200
    assert api.get("/api/translation/custom/en_US").json() == {
        "home": {"home": "My home", "x": "z"}, "notification": {"active": "active"}}
    assert api.delete("/api/translation/custom/en_US/notification.active").status_code == 200
    assert api.get("/api/translation/custom/en_US").json() == {"home": {"home": "My home", "x": "z"}}
    assert api.delete("/api/translation/custom/en_US").status_code == 200
    assert api.get("/api/translation/custom/en_US").json() == {}


def test_it_merges_the_levels_and_the_base(sys_api, api, tenant, customer_user):
    sys_api.post("/api/translation/custom/en_US", {"home": {"home": "System home"}, "login": {"login": "Sign in"}},
                 format="json")
    api.post("/api/translation/custom/en_US", {"home": {"home": "Tenant home"}}, format="json")
    _grant_customer_write(tenant)
    client = api_as(customer_user)
    client.post("/api/translation/custom/en_US", {"device": {"devices": "Meters"}}, format="json")
    merged = client.get("/api/translation/custom/merged/en_US").json()
    assert merged == {"home": {"home": "Tenant home"}, "login": {"login": "Sign in"}, "device": {"devices": "Meters"}}
    full = client.get("/api/translation/full/en_US").json()
    assert full["home"]["home"] == "Tenant home" and full["device"]["devices"] == "Meters"
    assert full["asset"]["assets"] == "Assets"  # the shipped en_US base
    assert api.get("/api/translation/full/en_US").json()["device"]["devices"] == "Devices"
    # deleting the customer's key shows the parent's again
    client.delete("/api/translation/custom/en_US/device.devices")
    assert client.get("/api/translation/full/en_US").json()["device"]["devices"] == "Devices"


def test_it_falls_back_to_english_and_answers_304_on_the_etag(api):
    api.post("/api/translation/custom/es_ES", {"home": {"home": "Inicio"}}, format="json")
    res = api.get("/api/translation/full/es_ES")
    assert res.json()["home"]["home"] == "Inicio" and res.json()["login"]["login"] == "Login"
    assert api.get("/api/translation/full/es_ES", HTTP_IF_NONE_MATCH=res["ETag"]).status_code == 304
    download = api.get("/api/translation/full/es_ES/download")
    assert download["Content-Disposition"] == 'attachment; filename="es_ES.json"'


def test_it_lists_locales_and_their_progress(api):
    api.post("/api/translation/custom/uk_UA", {"home": {"home": "Дім"}}, format="json")
    locales = api.get("/api/translation/availableLocales").json()
    assert set(locales) == {"en_US", "uk_UA"}
    infos = [TranslationInfo.from_dict(row) for row in api.get("/api/translation/info").json()]
    by_code = {info.locale_code: info for info in infos}
    assert by_code["en_US"].progress == 100 and by_code["uk_UA"].customized is True
    assert 0 < by_code["uk_UA"].progress < 100
    assert "de_DE" in api.get("/api/translation/availableJavaLocales").json()


def test_it_answers_the_basic_edit_view(sys_api, api):
    sys_api.post("/api/translation/custom/es_ES", {"home": {"home": "Inicio"}}, format="json")
    api.post("/api/translation/custom/es_ES", {"login": {"login": "Entrar"}, "extra": "Nuevo"}, format="json")
    edit = api.get("/api/translation/edit/basic/es_ES").json()
    assert edit["login"]["login"] == {"t": "Entrar", "o": "Login", "p": None, "s": "C"}
    assert edit["extra"]["s"] == "A" and edit["home"]["home"]["s"] == "T" and edit["home"]["home"]["p"] == "Inicio"
    assert edit["asset"]["assets"]["s"] == "U"


def test_it_uploads_a_json_file(api):
    upload = SimpleUploadedFile("es.json", b'{"home": {"home": "Casa"}}', content_type="application/json")
    assert api.post("/api/translation/custom/es_ES/upload", {"file": upload}, format="multipart").status_code == 200
    assert api.get("/api/translation/custom/es_ES").json() == {"home": {"home": "Casa"}}
    bad = SimpleUploadedFile("es.json", b"{nope", content_type="application/json")
    assert_error(api.post("/api/translation/custom/es_ES/upload", {"file": bad}, format="multipart"), 400)


@pytest.mark.parametrize("body", [[1], {"home": 5}, {"": "x"}, {"a": {"b": None}}])
def test_it_refuses_bad_translations_and_keeps_the_saved_one(api, body):
    api.post("/api/translation/custom/es_ES", {"home": {"home": "Kept"}}, format="json")
    assert_error(api.post("/api/translation/custom/es_ES", body, format="json"), 400)
    assert_error(api.patch("/api/translation/custom/es_ES", body, format="json"), 400)
    assert api.get("/api/translation/custom/es_ES").json() == {"home": {"home": "Kept"}}


def test_it_refuses_a_bad_locale_code(api):
    assert_error(api.get("/api/translation/custom/en-us"), 400, "locale code")
    assert_error(api.delete("/api/translation/custom/xx/home.home"), 400, "locale code")
    assert_error(api.get("/api/translation/full/english"), 400, "locale code")


def test_it_keeps_tenants_apart_and_customers_read_only(api, mallory_api, customer_api):
    api.post("/api/translation/custom/en_US", {"home": {"home": "Alice home"}}, format="json")
    assert mallory_api.get("/api/translation/custom/en_US").json() == {}
    assert mallory_api.get("/api/translation/full/en_US").json()["home"]["home"] == "Home"
    assert_error(customer_api.post("/api/translation/custom/en_US", {"home": {"home": "x"}}, format="json"), 403)
    assert_error(customer_api.delete("/api/translation/custom/en_US/home.home"), 403)
    assert customer_api.get("/api/translation/full/en_US").json()["home"]["home"] == "Alice home"


def test_it_serves_the_login_keys_without_a_login(sys_api, anon):
    sys_api.post("/api/translation/custom/en_US", {"login": {"login": "Sign in"}, "home": {"home": "H"}},
                 format="json")
    body = anon.get("/api/noauth/translation/login/en_US").json()
    assert body["login"]["login"] == "Sign in" and "home" not in body
