"""`POST /api/converter/testUpLink` and `testDownLink`: run a script on a sample (reference 3.3).

Both answer 200 with ``{"output", "error"}`` whatever the script does (syntax error with its
line, exception, timeout), and ``warnings`` beside them (converters.services); ``scriptLang``
JS (default) or TBEL says which language the ``decoder``/``encoder`` text is in. A request that
cannot be run at all (malformed JSON, bad base64, ``msg`` that is not JSON text, no script, an
unknown ``scriptLang``) is a 400.
"""

import base64
import binascii
import json
import re

from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from converters import engine, services
from converters.choices import IntegrationType, ScriptLang
from tbproject.api.exceptions import ServiceUnavailable
from tbproject.api.params import choice_param
from tbproject.api.permissions import IsTenantAdmin

__all__ = ["UplinkTestView", "DownlinkTestView", "parse_base64", "string_map", "downlink_message"]

ENGINE_DOWN = "The script engine cannot start right now; try again."


def _body(data) -> dict:
    if not isinstance(data, dict):
        raise ValidationError("Request body must be a JSON object")
    return data


def _script(body: dict, name: str) -> str:
    script = body.get(name)
    if not isinstance(script, str) or not script.strip():
        raise ValidationError(f"'{name}' is required: the script to test")
    return script


def _lang(request) -> str:
    return choice_param(request.query_params, "scriptLang", ScriptLang.values, ScriptLang.JS)


def parse_base64(value, name: str = "payload") -> bytes:
    """Standard or URL-safe base64, padding optional, whitespace ignored (as ThingsBoard's UI sends it)."""
    if value is None:
        raise ValidationError(f"'{name}' is required: the sample payload, base64-encoded")
    if not isinstance(value, str):
        raise ValidationError(f"'{name}' must be base64 text")
    text = re.sub(r"\s+", "", value)
    if "-" in text or "_" in text:
        text = text.replace("-", "+").replace("_", "/")
    text += "=" * (-len(text) % 4)
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationError(f"'{name}' is not valid base64") from None


def string_map(value, name: str) -> dict[str, str]:
    """A JSON object as ThingsBoard's string maps: scalars become text, nested values JSON text."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValidationError(f"'{name}' must be a JSON object of strings")
    result = {}
    for key, item in value.items():
        if item is None:
            continue
        if isinstance(item, bool):
            item = "true" if item else "false"
        elif not isinstance(item, str):
            item = json.dumps(item, separators=(",", ":"), ensure_ascii=False)
        result[str(key)] = item
    return result


def downlink_message(body: dict, default_type: str = "") -> tuple[str, str]:
    """``(msg as JSON text, msgType)`` of a downlink sample body; 400 when either is unusable."""
    msg = body.get("msg")
    if isinstance(msg, dict | list):  # lenient: the object itself instead of its JSON text
        msg = json.dumps(msg, ensure_ascii=False)
    if not isinstance(msg, str):
        raise ValidationError("'msg' is required: the rule-engine message as JSON text")
    try:
        json.loads(msg)
    except (ValueError, RecursionError) as e:
        raise ValidationError(f"'msg' is not JSON text: {e}") from None
    msg_type = body.get("msgType") or default_type
    if not isinstance(msg_type, str):
        raise ValidationError("'msgType' must be a string such as ATTRIBUTES_UPDATED")
    return msg, msg_type


def _integration_type(converter: dict) -> str | None:
    value = converter.get("integrationType")
    return value if isinstance(value, str) and value in IntegrationType.values else None


class UplinkTestView(APIView):
    """Body ``{metadata, payload (base64), decoder, converter?}``; the optional ``converter``
    (ThingsBoard sends the whole converter) selects typed-output checks for converterVersion 2."""

    permission_classes = [IsTenantAdmin]

    def post(self, request):
        lang = _lang(request)
        body = _body(request.data)
        decoder = _script(body, "decoder")
        payload = parse_base64(body.get("payload"))
        metadata = string_map(body.get("metadata"), "metadata")
        converter = body.get("converter") if isinstance(body.get("converter"), dict) else {}
        version = 2 if converter.get("converterVersion") == 2 else 1
        configuration = converter.get("configuration") if isinstance(converter.get("configuration"), dict) else {}
        try:
            result = services.test_uplink(decoder, payload, metadata, converter_version=version,
                                          configuration=configuration, lang=lang,
                                          integration_type=_integration_type(converter))
        except engine.EngineError:
            raise ServiceUnavailable(ENGINE_DOWN) from None
        return Response(result)


class DownlinkTestView(APIView):
    """Body ``{metadata, msg (JSON text), msgType, integrationMetadata, encoder}``."""

    permission_classes = [IsTenantAdmin]

    def post(self, request):
        lang = _lang(request)
        body = _body(request.data)
        encoder = _script(body, "encoder")
        msg, msg_type = downlink_message(body)
        metadata = string_map(body.get("metadata"), "metadata")
        integration_metadata = string_map(body.get("integrationMetadata"), "integrationMetadata")
        try:
            result = services.test_downlink(encoder, msg, metadata, msg_type, integration_metadata, lang=lang)
        except engine.EngineError:
            raise ServiceUnavailable(ENGINE_DOWN) from None
        return Response(result)
