"""Placeholders resolved at use time: ThingsBoard's ``${secret:name;type:TYPE}``, the tenant's own secrets only."""

import pytest

from vault import services
from vault.crypto import CryptoError, decrypt, encrypt
from vault.models import Secret
from vault.resolution import SecretError, placeholder, prepare, references, resolve, resolved_configuration, stamp


@pytest.fixture
def secrets(tenant):
    services.save(tenant.pk, {"name": "mqttPass", "type": "TEXT", "value": "s3cret"})
    services.save(tenant.pk, {"name": "caCert", "type": "TEXT_FILE", "value": "-----BEGIN-----\nAB\n"})


def test_it_replaces_whole_and_partial_strings_in_the_slots_only(tenant, secrets):
    config = {"host": "broker/${secret:mqttPass;type:TEXT}", "port": 1883,
              "credentials": {"password": "${secret:mqttPass;type:TEXT}", "ca": "${secret:caCert;type:TEXT_FILE}"},
              "headers": {"Authorization": "Bearer ${secret:mqttPass;type:TEXT}!"},
              "list": [{"ca": "${secret:caCert;type:TEXT_FILE}"}, 7, None, True],
              "${secret:mqttPass;type:TEXT}": "keys stay as they are"}
    slots = [["credentials", "password"], ["credentials", "ca"], ["headers", "Authorization"], ["absent", "x"],
             ["port"]]
    resolved = resolve(tenant.pk, config, slots)
    assert resolved["credentials"] == {"password": "s3cret", "ca": "-----BEGIN-----\nAB\n"}
    assert resolved["headers"]["Authorization"] == "Bearer s3cret!"
    assert resolved["list"] == [{"ca": "${secret:caCert;type:TEXT_FILE}"}, 7, None, True]  # not a slot
    assert resolved["host"] == "broker/${secret:mqttPass;type:TEXT}"  # not a slot: shown as written
    assert resolved["${secret:mqttPass;type:TEXT}"] == "keys stay as they are"
    assert resolved["port"] == 1883
    assert config["credentials"]["password"] == "${secret:mqttPass;type:TEXT}"  # the stored one is untouched


def test_a_configuration_without_placeholders_comes_back_as_it_is(tenant, django_assert_num_queries):
    config = {"password": "plain", "metadata": {"${key}": "${metadataKey}"}}
    with django_assert_num_queries(0):
        assert resolve(tenant.pk, config, [["password"], ["metadata", "${key}"]]) is config
    assert references({"a": "${secret:x;type:TEXT} and ${secret:y;type:TEXT_FILE} ${secret:x;type:TEXT}"}) == [
        ("x", "TEXT"), ("y", "TEXT_FILE")]


@pytest.mark.parametrize("text, message", [
    ("${secret:nope;type:TEXT}", "Secret 'nope' referenced by ${secret:nope;type:TEXT} is not found"),
    ("${secret:mqttPass;type:TEXT_FILE}", "Secret 'mqttPass' is of type TEXT, not TEXT_FILE"),
    ("${secret:caCert;type:TEXT}", "Secret 'caCert' is of type TEXT_FILE, not TEXT"),
    ("${secret:mqttPass;type:KEY_FILE}", "Unknown secret type 'KEY_FILE'"),
    ("${secret:MQTTPASS;type:TEXT}", "Secret 'MQTTPASS'"),  # names are case-sensitive
])
def test_what_cannot_be_resolved_is_a_clear_error_without_values(tenant, secrets, text, message):
    with pytest.raises(SecretError) as failed:
        resolve(tenant.pk, {"password": text}, [["password"]])
    assert message in failed.value.message
    assert "s3cret" not in failed.value.message and "BEGIN" not in failed.value.message


def test_a_tenant_never_resolves_another_tenants_secret(tenant, other_tenant, secrets):
    with pytest.raises(SecretError, match="'mqttPass' .* is not found"):
        resolve(other_tenant.pk, {"password": placeholder("mqttPass")}, [["password"]])
    services.save(other_tenant.pk, {"name": "mqttPass", "type": "TEXT", "value": "mallorys"})
    assert resolve(other_tenant.pk, {"p": placeholder("mqttPass")}, [["p"]]) == {"p": "mallorys"}
    assert resolve(tenant.pk, {"p": placeholder("mqttPass")}, [["p"]]) == {"p": "s3cret"}


def test_values_are_encrypted_and_bound_to_their_secret(tenant, secrets, settings):
    secret = Secret.objects.get(tenant=tenant, name="mqttPass")
    stored = bytes(secret.encrypted_value)
    assert b"s3cret" not in stored and decrypt(stored, secret.pk) == "s3cret"
    assert encrypt("s3cret", secret.pk) != stored  # a fresh nonce each time
    other = Secret.objects.get(tenant=tenant, name="caCert")
    with pytest.raises(CryptoError):
        decrypt(stored, other.pk)  # copied onto another secret: does not open
    settings.SECRETS_ENCRYPTION_KEY = "a new key"
    with pytest.raises(SecretError, match="cannot be used: .*cannot be decrypted"):
        resolve(tenant.pk, {"p": placeholder("mqttPass")}, [["p"]])


def test_an_explicit_key_is_used_rather_than_the_derived_one(tenant, settings):
    settings.SECRETS_ENCRYPTION_KEY = "production key"
    secret = services.save(tenant.pk, {"name": "k", "type": "TEXT", "value": "v"})
    settings.SECRETS_ENCRYPTION_KEY = ""
    with pytest.raises(CryptoError):
        decrypt(secret.encrypted_value, secret.pk)
    settings.SECRETS_ENCRYPTION_KEY = "production key"
    assert decrypt(Secret.objects.get(pk=secret.pk).encrypted_value, secret.pk) == "v"


def test_the_stamp_moves_with_the_value_and_not_otherwise(tenant, secrets):
    config = {"password": placeholder("mqttPass"), "other": placeholder("later")}
    slots = [["password"], ["other"]]
    first = stamp(tenant.pk, config, slots)
    assert first and stamp(tenant.pk, config, slots) == first and stamp(tenant.pk, {"a": 1}, slots) == ""
    assert stamp(tenant.pk, config, []) == ""
    secret = Secret.objects.get(tenant=tenant, name="mqttPass")
    services.set_value(secret, "rotated")
    second = stamp(tenant.pk, config, slots)
    assert second != first
    services.save(tenant.pk, {"name": "later", "type": "TEXT", "value": "x"})
    assert stamp(tenant.pk, config, slots) not in (first, second)


def test_prepare_keeps_the_outcome_for_a_thread_without_the_database(tenant, secrets):
    from integrations.models import Integration

    row = Integration(tenant=tenant, name="i", type="MQTT", configuration={"p": placeholder("mqttPass")})
    prepare(row, [["p"]])
    Secret.objects.all().delete()  # what was prepared is what is used
    assert resolved_configuration(row, [["p"]]) == {"p": "s3cret"}
    row.configuration = {"p": placeholder("mqttPass"), "changed": True}  # not what was prepared: resolved again
    with pytest.raises(SecretError, match="not found"):
        resolved_configuration(row, [["p"]])
    missing = Integration(tenant=tenant, name="j", type="MQTT", configuration={"p": placeholder("gone")})
    prepare(missing, [["p"]])
    with pytest.raises(SecretError, match="'gone'"):
        resolved_configuration(missing, [["p"]])


def test_a_remote_integration_is_sent_the_values(tenant, secrets):
    from integrations.models import Integration
    from integrations.remote.service import config_of
    from integrations.tests.factories import make_integration

    integration = make_integration(tenant, "remote", kind="MQTT", remote=True,
                                   configuration={"clientConfiguration": {"credentials": {
                                       "password": placeholder("mqttPass")}}})
    assert config_of(integration)["configuration"] == {"clientConfiguration": {"credentials": {"password": "s3cret"}}}
    integration.configuration = {"clientConfiguration": {"credentials": {"password": placeholder("gone")}}}
    assert config_of(integration)["configuration"] == integration.configuration
    assert "'gone'" in Integration.objects.get(pk=integration.pk).last_error
