"""What a review found: a placeholder outside a credential field must not give its value away (a test run
of a rule chain, an integration's check), a stamp must describe the values it was prepared with, two value
changes must differ, and the smaller things (a remote's repeated status, a placeholder exported as a secret)."""

import logging

import pytest

from integrations.models import Integration
from integrations.tests.factories import make_integration
from integrations.tests.hosted import check
from rulechains.tests.helpers import node
from tbproject.testing.factories import make_device
from vault import resolution, services
from vault.models import Secret
from vault.resolution import placeholder, prepare, resolved_configuration, stamp, stamp_of

VALUE = "v4lue-never-shown"
TOK = placeholder("tok")
RENAME_KEYS = "org.thingsboard.rule.engine.transform.TbRenameKeysNode"


@pytest.fixture
def tok(tenant):
    return services.save(tenant.pk, {"name": "tok", "type": "TEXT", "value": VALUE})


def test_a_test_run_of_a_rule_chain_never_shows_a_secret_named_in_a_mapping(api, tenant, tok):
    chain = api.post("/api/ruleChain", {"name": "probe"}, format="json").json()
    metadata = {"ruleChainId": chain["id"], "firstNodeIndex": 0, "connections": [],
                "nodes": [node(RENAME_KEYS, "rename", renameIn="DATA", renameKeysMapping={"t": TOK})]}
    res = api.post("/api/ruleChain/metadata", metadata, format="json")
    assert res.status_code == 200, res.content
    saved = api.get(f"/api/ruleChain/{chain['id']['id']}/metadata").json()
    body = {"metadata": saved, "msg": {"data": {"t": 1}, "metadata": {},
                                       "originator": {"entityType": "DEVICE", "id": str(make_device(tenant, "d").pk)}}}
    res = api.post(f"/api/ruleChain/{chain['id']['id']}/test", body, format="json")
    assert res.status_code in (200, 400), res.content
    assert VALUE not in res.content.decode()
    if res.status_code == 200:
        assert TOK in res.content.decode()  # the key is renamed to the placeholder as written


def test_an_integration_check_never_shows_a_secret_named_in_a_url(api, tenant, tok, caplog):
    decoder = make_integration(tenant, "x").default_converter
    config = {"clientConfiguration": {"applicationServerUrl": f"http://127.0.0.1:1/{TOK}",
                                      "applicationServerAPIToken": "t", "useAPI4Plus": True}}
    with caplog.at_level(logging.DEBUG):
        status, message = check(api, "CHIRPSTACK", decoder, config)
    assert status == 400 and "cannot be reached" in message
    assert VALUE not in message and VALUE not in caplog.text
    assert TOK in message


def test_a_secret_field_of_an_integration_is_still_resolved(tenant, tok):
    row = Integration(tenant=tenant, name="i", type="CHIRPSTACK", configuration={"clientConfiguration": {
        "applicationServerUrl": f"http://h/{TOK}", "applicationServerAPIToken": f"Bearer {TOK}"}})
    resolved = row.type_class(row).config.clientConfiguration
    assert resolved.applicationServerAPIToken == f"Bearer {VALUE}"
    assert resolved.applicationServerUrl == f"http://h/{TOK}"


def test_prepare_takes_the_values_and_the_stamp_from_one_look(tenant, tok, monkeypatch):
    row = make_integration(tenant, "m", kind="MQTT", configuration={"clientConfiguration": {
        "credentials": {"type": "basic", "username": "u", "password": TOK}}})
    looked = resolution._lookup
    calls = []

    def lookup_then_change(*args):
        found = looked(*args)
        calls.append(1)
        if len(calls) == 1:  # a value change commits right after the first look
            services.set_value(Secret.objects.get(pk=tok.pk), "new value")
        return found

    monkeypatch.setattr(resolution, "_lookup", lookup_then_change)
    prepare(row, row.type_class.secret_keys(row.configuration))
    monkeypatch.setattr(resolution, "_lookup", looked)
    prepared = resolved_configuration(row, row.type_class.secret_keys(row.configuration))
    assert prepared["clientConfiguration"]["credentials"]["password"] == VALUE  # what the first look saw
    assert stamp_of(row) != stamp(tenant.pk, row.configuration, row.type_class.secret_keys(row.configuration))


def test_two_value_changes_from_the_same_version_stamp_differently(tenant, tok):
    config = {"password": TOK}
    first, second = Secret.objects.get(pk=tok.pk), Secret.objects.get(pk=tok.pk)
    services.set_value(first, "one")
    after_first = stamp(tenant.pk, config, [["password"]])
    services.set_value(second, "two")  # the same version number as the first change
    assert stamp(tenant.pk, config, [["password"]]) != after_first


def test_a_value_change_keeps_a_description_changed_meanwhile(tenant, tok):
    stale = Secret.objects.get(pk=tok.pk)
    services.set_description(Secret.objects.get(pk=tok.pk), "rotated monthly")
    services.set_value(stale, "two")
    assert Secret.objects.get(pk=tok.pk).description == "rotated monthly"


def test_a_remote_with_a_missing_secret_writes_its_status_once(tenant, caplog, django_assert_num_queries):
    from integrations.remote.service import config_of, current

    integration = make_integration(tenant, "remote", kind="MQTT", remote=True, configuration={
        "clientConfiguration": {"credentials": {"type": "basic", "password": placeholder("gone")}}})
    with caplog.at_level(logging.WARNING):
        config_of(current(integration.pk))
        assert "'gone'" in Integration.objects.get(pk=integration.pk).last_error
        warned = caplog.text.count("'gone'")
        Integration.objects.filter(pk=integration.pk).update(last_error_ts=1)
        for _ in range(3):
            config_of(current(integration.pk))
    assert caplog.text.count("'gone'") == warned == 1
    assert Integration.objects.get(pk=integration.pk).last_error_ts == 1  # not written again


def test_an_export_keeps_a_placeholder_as_it_is(tenant):
    from transfer.export import export_package

    integration = make_integration(tenant, "exported", kind="MQTT", configuration={
        "clientConfiguration": {"host": "h", "port": 1883, "credentials": {"type": "basic", "password": TOK}}})
    package = export_package(integration)
    assert package["integration"]["configuration"]["clientConfiguration"]["credentials"]["password"] == TOK
    assert "integration.configuration.clientConfiguration.credentials.password" not in package["requiredSecrets"]
