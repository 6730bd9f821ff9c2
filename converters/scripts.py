"""Which script of a converter's configuration runs, and whether it may be saved.

ThingsBoard keeps four script fields in ``configuration`` and runs the one that matches the
converter's type and ``scriptLang`` (reference 2.2, UI ``getTargetField``):

    UPLINK + JS -> decoder        UPLINK + TBEL -> tbelDecoder
    DOWNLINK + JS -> encoder      DOWNLINK + TBEL -> tbelEncoder

A converter is saved only when that field holds a script that compiles: JavaScript as it is,
TBEL once transpiled to JavaScript (converters/tbel), with the TBEL line of a syntax error.
``scriptContract`` (``THINGSBOARD`` or ``TS013``, converters/ts013.py) is checked here too, and
the typed keys of converterVersion 2 by ``clean_typed``.
"""

from converters import engine, ts013
from converters.choices import ConverterType, ScriptLang

__all__ = ["ConfigurationError", "target_field", "script_of", "clean_configuration", "clean_typed", "check_compiles"]

SCRIPT_FIELDS = ("decoder", "encoder", "tbelDecoder", "tbelEncoder")

_TARGETS = {
    (ConverterType.UPLINK, ScriptLang.JS): "decoder",
    (ConverterType.UPLINK, ScriptLang.TBEL): "tbelDecoder",
    (ConverterType.DOWNLINK, ScriptLang.JS): "encoder",
    (ConverterType.DOWNLINK, ScriptLang.TBEL): "tbelEncoder",
}


class ConfigurationError(ValueError):
    """A converter configuration that cannot be saved; ``field`` names the offending key."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message, self.field = message, field


def script_lang(configuration) -> str:
    """The configuration's scriptLang; JS when absent (converters exported before TBEL existed)."""
    lang = (configuration or {}).get("scriptLang") if isinstance(configuration, dict) else None
    return lang or ScriptLang.JS


def target_field(converter_type: str, lang: str) -> str:
    return _TARGETS[(ConverterType(converter_type), ScriptLang(lang))]


def script_of(converter_type: str, configuration) -> str:
    """The source that runs for this type and configuration ("" when absent or not valid)."""
    if not isinstance(configuration, dict):
        return ""
    try:
        value = configuration.get(target_field(converter_type, script_lang(configuration)))
    except ValueError:
        return ""
    return value if isinstance(value, str) else ""


def clean_configuration(converter_type: str, configuration) -> dict:
    """The configuration to store, or ConfigurationError. Does not compile the script."""
    if configuration is None:
        raise ConfigurationError("Converter configuration should be specified!", "configuration")
    if not isinstance(configuration, dict):
        raise ConfigurationError("Converter configuration must be a JSON object", "configuration")
    lang = script_lang(configuration)
    if lang not in ScriptLang.values:
        raise ConfigurationError(f"scriptLang must be JS or TBEL, not {lang!r:.40}", "scriptLang")
    for key in SCRIPT_FIELDS:
        if configuration.get(key) is not None and not isinstance(configuration[key], str):
            raise ConfigurationError(f"{key} must be a string holding the script", key)
    field = target_field(converter_type, lang)
    if not (configuration.get(field) or "").strip():
        raise ConfigurationError(
            f"configuration.{field} is required: a converter of type {converter_type} with scriptLang "
            f"{lang} runs the script in that field", field)
    keys = configuration.get("updateOnlyKeys")
    if keys is not None and not (isinstance(keys, list) and all(isinstance(k, str) for k in keys)):
        raise ConfigurationError("updateOnlyKeys must be an array of key names", "updateOnlyKeys")
    _check_contract(converter_type, configuration, configuration[field])
    return {**configuration, "scriptLang": lang, "updateOnlyKeys": keys or []}


def _check_contract(converter_type: str, configuration: dict, source: str) -> None:
    contract = configuration.get(ts013.CONTRACT_KEY)
    if contract is None or contract == "":
        return
    if contract not in ts013.CONTRACTS:
        raise ConfigurationError(f"{ts013.CONTRACT_KEY} must be {' or '.join(ts013.CONTRACTS)} (or absent to "
                                 f"recognise a TS013 codec by its decodeUplink), not {contract!r:.40}",
                                 ts013.CONTRACT_KEY)
    if contract == ts013.TS013 and script_lang(configuration) != ScriptLang.JS:
        raise ConfigurationError(f"{ts013.CONTRACT_KEY} TS013 is for JavaScript codecs: set scriptLang to JS",
                                 ts013.CONTRACT_KEY)
    if contract == ts013.TS013 and not ts013.defines_entry(source, converter_type):
        entry = "decodeUplink(input)" if converter_type == ConverterType.UPLINK else "encodeDownlink(input)"
        raise ConfigurationError(f"{ts013.CONTRACT_KEY} is TS013 but the script does not define {entry}",
                                 ts013.CONTRACT_KEY)


TYPED_TEXT_KEYS = ("name", "profile", "label", "customer", "group")


def clean_typed(configuration: dict) -> dict:
    """Check the typed (converterVersion 2) keys of a configuration (reference 2.2, 4.3):
    ``type`` DEVICE/ASSET, ``name``/``profile``/``label``/``customer``/``group`` patterns with
    ``$key`` placeholders, ``attributes``/``telemetry`` key lists (or null)."""
    kind = configuration.get("type")
    if kind not in (None, "", "DEVICE", "ASSET"):
        raise ConfigurationError(f"type must be DEVICE or ASSET, not {kind!r:.40}", "type")
    for key in TYPED_TEXT_KEYS:
        value = configuration.get(key)
        if value is not None and not isinstance(value, str):
            raise ConfigurationError(f"{key} must be a text pattern such as 'Device $eui'", key)
    for key in ("attributes", "telemetry"):
        value = configuration.get(key)
        if value is not None and not (isinstance(value, list) and all(isinstance(k, str) for k in value)):
            raise ConfigurationError(f"{key} must be an array of key names (unwrapped fields such as eui, rssi)", key)
    return {**configuration, "type": kind or "DEVICE", "name": configuration.get("name") or "Device $eui"}


def check_compiles(converter_type: str, configuration: dict) -> None:
    """Raise ConfigurationError with the engine's message and line if the script does not compile.

    Raises engine.EngineError when no worker process can be started (the caller answers 503)."""
    field = target_field(converter_type, script_lang(configuration))
    kind = "decoder" if converter_type == ConverterType.UPLINK else "encoder"
    error = engine.check_script(kind, configuration[field], lang=script_lang(configuration))
    if error is not None:
        raise ConfigurationError(f"The {field} script does not compile: {error}", field)
