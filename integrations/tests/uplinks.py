"""Helpers of the pipeline tests: converters, integrations and raw uplinks in one line each."""

import itertools
import json

from converters.models import Converter
from devices.telemetry import latest
from integrations.messages import RawUplink
from integrations.models import Integration
from tbproject.clock import now_ms

__all__ = ["JSON_DECODER", "converter", "integration", "uplink", "json_uplink", "values", "debug_all"]

_names = itertools.count()

#: ThingsBoard's default HTTP decoder shape: one device per JSON body.
JSON_DECODER = r"""
var data = decodeToJson(payload);
var result = {deviceName: data.name, deviceType: data.type || 'sensor', telemetry: data.telemetry || {}};
if (data.attributes) result.attributes = data.attributes;
if (data.customer) result.customerName = data.customer;
if (data.group) result.groupName = data.group;
if (data.label) result.deviceLabel = data.label;
return result;
function decodeToString(p) { return String.fromCharCode.apply(String, p); }
function decodeToJson(p) { return JSON.parse(decodeToString(p)); }
"""


def converter(tenant, decoder: str = JSON_DECODER, *, name: str | None = None, **configuration) -> Converter:
    config = {"scriptLang": "JS", "decoder": decoder, **configuration}
    return Converter.objects.create(tenant=tenant, name=name or f"uplink-{next(_names)}", type="UPLINK",
                                    configuration=config)


def integration(tenant, conv: Converter | None = None, *, name: str | None = None, **extra) -> Integration:
    conv = conv or converter(tenant)
    extra.setdefault("configuration", {"baseUrl": "http://localhost"})
    return Integration.objects.create(tenant=tenant, name=name or f"int-{next(_names)}", type="HTTP",
                                      default_converter=conv, **extra)


def uplink(integ: Integration, payload: bytes, *, ts: int | None = None, content_type: str = "BINARY",
           **metadata) -> RawUplink:
    return RawUplink(str(integ.pk), payload, {"integrationName": integ.name, **metadata},
                     ts if ts is not None else now_ms(), content_type)


def json_uplink(integ: Integration, body, **kwargs) -> RawUplink:
    kwargs.setdefault("content_type", "JSON")
    return uplink(integ, json.dumps(body).encode(), **kwargs)


def values(entity, keys=None) -> dict:
    """{key: value} of the latest telemetry of ``entity``."""
    return {k: v for k, (_, v) in latest(entity.pk, keys).items()}


def debug_all(obj, minutes: int = 15):
    """Switch "debug all" on for a converter or an integration."""
    obj.debug_all_enabled_until = now_ms() + minutes * 60_000
    obj.save()
    return obj
