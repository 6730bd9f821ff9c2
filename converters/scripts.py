"""Which script of a converter's configuration runs, and whether it may be saved.

ThingsBoard keeps four script fields in ``configuration`` and runs the one that matches the
converter's type and ``scriptLang`` (reference 2.2, UI ``getTargetField``):

    UPLINK + JS -> decoder        UPLINK + TBEL -> tbelDecoder
    DOWNLINK + JS -> encoder      DOWNLINK + TBEL -> tbelEncoder

A converter is saved only when that field holds a script that compiles (JS; TBEL is not run
here yet and is refused with a clear message rather than stored and failing on every message).
"""

from converters import engine
from converters.choices import ConverterType, ScriptLang

__all__ = ["ConfigurationError", "target_field", "script_of", "clean_configuration", "check_compiles"]

SCRIPT_FIELDS = ("decoder", "encoder", "tbelDecoder", "tbelEncoder")
TBEL_UNSUPPORTED = "TBEL is not supported yet: converters run JavaScript only (set scriptLang to JS)"

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
    if lang == ScriptLang.TBEL:
        raise ConfigurationError(TBEL_UNSUPPORTED, "scriptLang")
    keys = configuration.get("updateOnlyKeys")
    if keys is not None and not (isinstance(keys, list) and all(isinstance(k, str) for k in keys)):
        raise ConfigurationError("updateOnlyKeys must be an array of key names", "updateOnlyKeys")
    return {**configuration, "scriptLang": lang, "updateOnlyKeys": keys or []}


def check_compiles(converter_type: str, configuration: dict) -> None:
    """Raise ConfigurationError with the engine's message and line if the script does not compile.

    Raises engine.EngineError when no worker process can be started (the caller answers 503)."""
    field = target_field(converter_type, script_lang(configuration))
    kind = "decoder" if converter_type == ConverterType.UPLINK else "encoder"
    error = engine.check_script(kind, configuration[field])
    if error is not None:
        raise ConfigurationError(f"The {field} script does not compile: {error}", field)
