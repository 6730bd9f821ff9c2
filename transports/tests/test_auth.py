"""MQTT_BASIC and access-token CONNECTs checked in ThingsBoard CE's order (transports/mqtt/auth.py's docstring),
and the gateway API's lastConnectedGateway written through the model's save (review fixes)."""

import json

from django.db.models.signals import post_save

from devices import credentials
from devices.models import Device, DeviceCredentials
from tbproject.testing.factories import make_device
from transports.mqtt import auth, gateway


def _basic(device, **value) -> DeviceCredentials:
    return credentials.update(device, "MQTT_BASIC", None, json.dumps(value))


def _names(identity) -> str | None:
    return None if identity is None else identity.device.name


def test_a_client_id_only_row_never_matches_a_connect_with_a_user_name(tenant):
    _basic(make_device(tenant, "by-client"), clientId="meter-c")
    assert _names(auth.authenticate("meter-c", None, None)) == "by-client"
    assert auth.authenticate("meter-c", "any-user", None) is None  # ThingsBoard never tries sha3(clientId) here


def test_a_password_mismatch_at_the_client_and_user_row_refuses_outright(tenant):
    _basic(make_device(tenant, "basic"), clientId="c1", userName="u1", password="s3cret")
    token_device = make_device(tenant, "token")
    DeviceCredentials.objects.filter(device=token_device).update(credentials_id="u1")  # an access token "u1"
    assert _names(auth.authenticate("c1", "u1", "s3cret")) == "basic"  # the clientId|userName row comes first
    assert auth.authenticate("c1", "u1", "wrong") is None  # not the token's device
    assert auth.authenticate("c1", "u1", None) is None
    assert _names(auth.authenticate("other-client", "u1", "whatever")) == "token"  # no such row: the user name


def test_a_user_name_row_and_a_hash_mismatch_go_on_to_the_user_name(tenant):
    _basic(make_device(tenant, "by-user"), userName="only-user", password="pw")
    assert _names(auth.authenticate("any-client", "only-user", "pw")) == "by-user"
    assert auth.authenticate("any-client", "only-user", "nope") is None
    # a clientId|userName row whose stored client id differs (a HASH_MISMATCH) is passed over, not a refusal
    row = _basic(make_device(tenant, "stale"), clientId="c2", userName="u2", password="pw2")
    DeviceCredentials.objects.filter(pk=row.pk).update(credentials_value=json.dumps(
        {"clientId": "changed", "userName": "u2", "password": "pw2"}))
    token_device = make_device(tenant, "u2-token")
    DeviceCredentials.objects.filter(device=token_device).update(credentials_id="u2")
    assert _names(auth.authenticate("c2", "u2", "pw2")) == "u2-token"


def test_the_gateway_saves_last_connected_gateway_through_the_model_and_keeps_a_concurrent_edit(tenant, monkeypatch):
    gw = make_device(tenant, "gw", additional_info={"gateway": True})
    meter = make_device(tenant, "meter-1", additional_info={"description": "before"})
    saved = []

    def on_save(sender, instance, update_fields=None, **kwargs):
        saved.append((instance.pk, update_fields))

    post_save.connect(on_save, sender=Device, dispatch_uid="test_auth.saved")
    real_remember, edited = gateway._remember_gateway, []

    def a_rest_edit_then_remember(device, gw_):  # the device read, a REST save lands before the row is locked
        edited.append(True)
        Device.objects.filter(pk=meter.pk).update(additional_info={"description": "edited meanwhile"})
        return real_remember(device, gw_)

    monkeypatch.setattr(gateway, "_remember_gateway", a_rest_edit_then_remember)
    try:
        device = gateway.connect_device(gw, "meter-1")
    finally:
        post_save.disconnect(dispatch_uid="test_auth.saved", sender=Device)
    assert edited
    meter.refresh_from_db()
    assert meter.additional_info == {"description": "edited meanwhile", "lastConnectedGateway": str(gw.pk)}
    assert device.additional_info == meter.additional_info
    assert [pk for pk, _fields in saved] == [meter.pk]  # through save(): its signals ran
