"""ThingsBoard's CalculatedFieldConfiguration JSON: what this project acts on is checked at save.

    spec = check_configuration("SIMPLE", configuration)   # ConfigError (a 400) naming the problem
    spec.arguments["t"].key, .kind, .scope, .ref_entity_id, .default, .limit, .time_window
    spec.expression, spec.output_type, spec.output_name, spec.output_scope, spec.decimals

The JSON itself is stored whole (unknown keys kept, as ThingsBoard keeps them); the parsed spec
is rebuilt from it wherever a field is computed (:func:`spec_of`).
"""

import math
import re
import uuid
from dataclasses import dataclass

from calculated import expressions
from calculated.choices import ArgumentType, FieldKind, OutputType
from devices.choices import AttributeScope
from tbproject.text import check_text

__all__ = ["ConfigError", "Argument", "Spec", "check_configuration", "spec_of", "NAME", "RESERVED"]

#: an argument's name is a variable of the expression or script
NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
#: names the script wrapper (calculated/scripts.py) or TBEL itself uses
RESERVED = frozenset({"ctx", "msg", "metadata", "msgType", "integrationMetadata", "var", "return", "function",
                      "if", "else", "for", "foreach", "while", "do", "new", "null", "true", "false", "def",
                      "in", "this", "empty", "nil", "isdef", "is", "instanceof", "contains", "strsim", "soundslike"})
MAX_KEY = 255
SCOPES = tuple(AttributeScope.values)
OUTPUT_SCOPES = (AttributeScope.SERVER_SCOPE, AttributeScope.SHARED_SCOPE)
MAX_DEFAULT = 1024
MAX_SCRIPT = 64 * 1024


class ConfigError(ValueError):
    """A configuration this project cannot compute; the message says which part and why."""


@dataclass(frozen=True, slots=True)
class Argument:
    name: str
    kind: str  # ArgumentType
    key: str
    scope: str | None  # attribute arguments
    ref_entity_id: uuid.UUID | None  # None: the entity the field is computed for
    ref_entity_type: str | None
    default: object  # None: no default
    limit: int | None  # TS_ROLLING
    time_window: int | None  # TS_ROLLING, ms


@dataclass(frozen=True, slots=True)
class Spec:
    kind: str
    arguments: dict
    expression: str
    output_type: str
    output_name: str | None
    output_scope: str | None
    decimals: int | None
    use_latest_ts: bool


def _text(value, what: str, *, limit: int = MAX_KEY) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{what} must be a non-empty string")
    if len(value) > limit:
        raise ConfigError(f"{what} is longer than {limit} characters")
    try:
        return check_text(value)
    except ValueError as e:
        raise ConfigError(f"{what}: {e}") from None


def _int(value, what: str, *, minimum: int, maximum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        raise ConfigError(f"{what} must be an integer from {minimum} to {maximum}")
    return value


def _finite_or_text(value) -> bool:
    """A string, or a number a double holds (ThingsBoard keeps defaultValue as text)."""
    if isinstance(value, str):
        return True
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        return math.isfinite(float(value))
    except OverflowError:
        return False


def _ref_entity(raw, name: str) -> tuple[uuid.UUID | None, str | None]:
    if raw is None:
        return None, None
    if not isinstance(raw, dict):
        raise ConfigError(f"Argument '{name}': refEntityId must be an object {{entityType, id}}")
    entity_type = raw.get("entityType")
    if entity_type not in ("DEVICE", "ASSET"):
        raise ConfigError(f"Argument '{name}': refEntityId.entityType must be DEVICE or ASSET")
    try:
        return uuid.UUID(str(raw.get("id"))), entity_type
    except ValueError:
        raise ConfigError(f"Argument '{name}': refEntityId.id is not a UUID") from None


def _argument(name, raw, kind: str, max_points: int) -> Argument:
    if not isinstance(name, str) or not NAME.match(name) or len(name) > MAX_KEY:
        raise ConfigError(f"Argument name '{str(name)[:64]}' must start with a letter or '_' and hold only "
                          "letters, digits and '_'")
    if name in RESERVED or name in expressions.FUNCTIONS:
        raise ConfigError(f"Argument name '{name}' is reserved")
    if not isinstance(raw, dict):
        raise ConfigError(f"Argument '{name}' must be a JSON object")
    if raw.get("refDynamicSourceConfiguration") is not None:
        raise ConfigError(f"Argument '{name}': refDynamicSourceConfiguration is not supported here")
    key_spec = raw.get("refEntityKey")
    if not isinstance(key_spec, dict):
        raise ConfigError(f"Argument '{name}': refEntityKey must be an object {{key, type, scope}}")
    arg_type = key_spec.get("type")
    if arg_type not in ArgumentType.values:
        raise ConfigError(f"Argument '{name}': refEntityKey.type must be one of {', '.join(ArgumentType.values)}")
    if arg_type == ArgumentType.TS_ROLLING and kind == FieldKind.SIMPLE:
        raise ConfigError(f"Argument '{name}': a SIMPLE field takes latest telemetry and attributes, not TS_ROLLING")
    key = _text(key_spec.get("key"), f"Argument '{name}': refEntityKey.key")
    scope = None
    if arg_type == ArgumentType.ATTRIBUTE:
        scope = key_spec.get("scope") or AttributeScope.SERVER_SCOPE
        if scope not in SCOPES:
            raise ConfigError(f"Argument '{name}': scope must be one of {', '.join(SCOPES)}")
    ref_id, ref_type = _ref_entity(raw.get("refEntityId"), name)
    default = raw.get("defaultValue")
    if isinstance(default, str) and default == "":
        default = None
    if default is not None:
        if not _finite_or_text(default):
            raise ConfigError(f"Argument '{name}': defaultValue must be a string or a finite number")
        if isinstance(default, str):
            default = _text(default, f"Argument '{name}': defaultValue", limit=MAX_DEFAULT)
    limit = window = None
    if arg_type == ArgumentType.TS_ROLLING:
        limit = _int(raw.get("limit") or max_points, f"Argument '{name}': limit", minimum=1, maximum=max_points)
        window = _int(raw.get("timeWindow"), f"Argument '{name}': timeWindow (ms)", minimum=1,
                      maximum=10 * 365 * 86_400_000)
    return Argument(name, arg_type, key, scope, ref_id, ref_type, default, limit, window)


def _output(raw, kind: str) -> tuple[str, str | None, str | None, int | None]:
    if not isinstance(raw, dict):
        raise ConfigError("output must be a JSON object {type, name, scope, decimalsByDefault}")
    out_type = raw.get("type")
    if out_type not in OutputType.values:
        raise ConfigError(f"output.type must be one of {', '.join(OutputType.values)}")
    name = raw.get("name")
    if kind == FieldKind.SIMPLE:
        name = _text(name, "output.name")
    elif name is not None and not isinstance(name, str):
        raise ConfigError("output.name must be a string")
    scope = None
    if out_type == OutputType.ATTRIBUTES:
        scope = raw.get("scope") or AttributeScope.SERVER_SCOPE
        if scope not in OUTPUT_SCOPES:
            raise ConfigError(f"output.scope must be one of {', '.join(OUTPUT_SCOPES)}")
    decimals = raw.get("decimalsByDefault")
    if decimals is not None:
        decimals = _int(decimals, "output.decimalsByDefault", minimum=0, maximum=15)
    return out_type, name or None, scope, decimals


def check_configuration(kind: str, configuration, *, max_arguments: int = 0, max_points: int = 1000) -> Spec:
    """The spec of a SIMPLE or SCRIPT ``configuration``; ConfigError naming the first problem.

    ``max_arguments`` (0: no limit) and ``max_points`` are the tenant profile's maxArgumentsPerCF
    and maxDataPointsPerRollingArg. A SCRIPT's TBEL is compiled by calculated/scripts.py, not here."""
    if not isinstance(configuration, dict):
        raise ConfigError("configuration must be a JSON object")
    declared = configuration.get("type")
    if declared is not None and declared != kind:
        raise ConfigError(f"configuration.type '{str(declared)[:32]}' does not match the field type '{kind}'")
    raw_args = configuration.get("arguments")
    if not isinstance(raw_args, dict) or not raw_args:
        raise ConfigError("configuration.arguments must be a JSON object with at least one argument")
    if max_arguments and len(raw_args) > max_arguments:
        raise ConfigError(f"A calculated field may have at most {max_arguments} arguments "
                          "(the tenant profile's maxArgumentsPerCF)")
    arguments = {name: _argument(name, raw, kind, max_points) for name, raw in raw_args.items()}
    expression = configuration.get("expression")
    if kind == FieldKind.SIMPLE:
        try:
            parsed = expressions.parse(expression)
        except expressions.ExpressionError as e:
            raise ConfigError(f"Invalid expression: {e}") from None
        unknown = sorted(parsed.variables - set(arguments) - set(expressions.CONSTANTS))
        if unknown:
            raise ConfigError(f"Invalid expression: '{unknown[0]}' is not an argument of this field")
    else:
        expression = _text(expression, "configuration.expression (the body of calculate)", limit=MAX_SCRIPT)
    out_type, name, scope, decimals = _output(configuration.get("output"), kind)
    use_latest = configuration.get("useLatestTs")
    if use_latest is not None and not isinstance(use_latest, bool):
        raise ConfigError("configuration.useLatestTs must be true or false")
    return Spec(kind, arguments, expression, out_type, name, scope, decimals, bool(use_latest))


def spec_of(field) -> Spec:
    """The spec of a stored field (its configuration passed this check when it was saved)."""
    return check_configuration(field.kind, field.configuration, max_points=10**9)
