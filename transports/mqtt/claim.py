"""Device claiming over MQTT (thingsboard.io/docs/user-guide/claiming-devices/): the device publishes

    v1/devices/me/claim   {"secretKey": "...", "durationMs": 60000}   (both optional; the payload may be empty)

and a customer user then claims it by name and key through the REST API (POST /api/customer/device/{name}/claim).
The payload is read as the device HTTP API's POST /api/v1/{token}/claim reads its body
(devices/api/claiming.py's ``claim_request``) and the claim opened by devices/claiming.py, the same rules: a
device a customer owns already, or one claiming is not allowed for, asks in vain, and nothing is answered either
way (ThingsBoard's transport acknowledges the PUBLISH and sends nothing back). A payload the HTTP API answers 400
is device_api.BadPayload (dropped, the session stays up). Runs in a database thread (session.py's ``_db``);
the message takes its tokens of the transport rate limits before its payload is read, as every other one.
"""

from rest_framework.exceptions import ValidationError

from devices import claiming
from devices.api.claiming import claim_request
from transports.mqtt import device_api
from transports.mqtt.device_api import BadPayload

__all__ = ["register", "register_body"]


def register(device, payload: bytes) -> bool:
    """The device's claim request: whether a claim was opened (False: claimed already, or not allowed)."""
    device_api.take_message(device)
    return register_body(device, device_api.parse(payload) if payload.strip() else {})


def register_body(device, body) -> bool:
    """``body`` (parsed JSON) as a claim request of ``device``, its tokens taken already (a gateway's claims)."""
    try:
        secret, duration = claim_request(body)
    except ValidationError as e:
        detail = e.detail
        raise BadPayload(" ".join(map(str, detail)) if isinstance(detail, list) else str(detail)) from None
    return claiming.register(device, secret, duration)
