"""The contract every rule-node type implements.

A node type is one class, listed by its ThingsBoard class name in rulechains.nodes.NODES. The
engine builds one instance per node per batch (``BaseNode(node_row)``), then hands it the
messages that reached the node, all together::

    outs = node.process_batch(ctx, [msg, ...])   # one list of Out per message, same order

``process_batch`` calls :meth:`BaseNode.process` per message unless a type does the batch at
once (scripts run as one engine call, enrichment reads as one query). An exception raised for
one message routes that message by ``Failure`` with the exception's text; an exception from
``process_batch`` itself fails every message of the batch.
"""

import json
import math
import re
from typing import ClassVar, NamedTuple
from uuid import UUID

from integrations.types.secret_paths import expand_keys, get_keys
from rulechains.messages import FAILURE, SUCCESS, Msg
from tbproject.secret_refs import names_secret
from vault.resolution import SecretError, resolve

__all__ = ["BaseNode", "Out", "NodeError", "ConfigError", "NodeContext", "substitute", "fail", "RETURN", "field",
           "GROUPS", "SCRIPT_FIELDS", "bool_option", "int_option", "text_option", "normal_name", "INT_MIN",
           "INT_MAX"]

#: ``Out.chain`` of an output node: back to the rule chain node that called this chain.
RETURN = "return"


#: ThingsBoard's component types, in the order its rule chain editor lists them in the palette
GROUPS = ("FILTER", "ENRICHMENT", "TRANSFORMATION", "ACTION", "EXTERNAL", "FLOW")


def field(name: str, kind: str = "text", label: str = "", *, choices=(), help: str = "") -> dict:
    """One input of a node type's configuration form (the rule chain page builds the form from
    ``BaseNode.fields``). ``kind``: text, secret (a password: shown masked, as the API answers
    it), number, bool, select (``choices``), script (code), list (one string a line), json (any
    JSON value, e.g. an object of headers)."""
    return {"name": name, "kind": kind, "label": label or name, "choices": list(choices), "help": help}


#: the form of a node that runs a user script in ``jsScript`` or ``tbelScript``
SCRIPT_FIELDS = (field("scriptLang", "select", "Script language", choices=("JS", "TBEL")),
                 field("jsScript", "script", "JavaScript"), field("tbelScript", "script", "TBEL"))


class ConfigError(ValueError):
    """A configuration the node type cannot run; the message says what is wrong."""


def bool_option(configuration: dict, key: str, default: bool = False) -> bool:
    """A boolean option: true/false or their strings (ThingsBoard's JSON reader takes both); missing
    or null is ``default``; anything else is a ConfigError naming the key."""
    value = configuration.get(key)
    if value is None:
        return default
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    if not isinstance(value, bool):
        raise ConfigError(f"{key} must be true or false, got {str(value)[:40]!r}")
    return value


#: the bounds of a Java int, what ThingsBoard's configuration classes hold most integer options in
INT_MIN, INT_MAX = -2**31, 2**31 - 1
#: an integer's text as Jackson coerces it ("60", " -5 "); longer ones are out of any range here
_INTEGER_TEXT = re.compile(r"\s*[+-]?[0-9]{1,18}\s*")


def int_option(configuration: dict, key: str, default, *, low: int = INT_MIN, high: int = INT_MAX,
               truncate: bool = False, required: bool = False):
    """An integer option, as ThingsBoard's JSON reader (Jackson) takes one: a number or its text
    ("60", " -5 "), a float with an integral value (60.0), and with ``truncate`` any finite float
    cut toward zero (Jackson's ACCEPT_FLOAT_AS_INT: 1.5 is 1). Missing, null or blank is
    ``default`` (None allowed; with ``required`` None is an error). Anything else, or a value
    outside ``low``..``high``, is a ConfigError naming the key and the allowed range."""
    value = configuration.get(key)
    number = default if value is None or (isinstance(value, str) and not value.strip()) else value
    if isinstance(number, str) and _INTEGER_TEXT.fullmatch(number):
        number = int(number)
    elif isinstance(number, float) and math.isfinite(number) and (truncate or number.is_integer()):
        number = int(number)
    if number is None and not required:
        return None
    if isinstance(number, bool) or not isinstance(number, int) or not low <= number <= high:
        shown = "null" if value is None else repr(str(value)[:40])
        raise ConfigError(f"{key} must be an integer from {low} to {high}, got {shown}")
    return number


def text_option(configuration: dict, key: str, default=None):
    """A text option (a name, or a ``${metadataKey}`` / ``$[data.path]`` pattern); missing or null
    is ``default``; anything but text is a ConfigError naming the key."""
    value = configuration.get(key)
    if value is None:
        return default
    if not isinstance(value, str):
        raise ConfigError(f"{key} must be text, got {str(value)[:40]!r}")
    return value


#: ThingsBoard's normal names that its rule below does not give
_SPECIAL_NAMES = {"ENTITY_VIEW": "Entity View", "AI_MODEL": "AI model"}


def normal_name(entity_type: str) -> str:
    """ThingsBoard's EntityType.getNormalName(), as its relation names and error texts show an
    entity type: "DEVICE" -> "Device", "RULE_CHAIN" -> "Rule chain", "TB_RESOURCE" -> "Resource";
    "Entity View" and "AI model" are spelled as they always were."""
    entity_type = str(entity_type)
    if entity_type in _SPECIAL_NAMES:
        return _SPECIAL_NAMES[entity_type]
    return entity_type.removeprefix("TB_").lower().replace("_", " ").capitalize()


class NodeError(Exception):
    """A message this node could not handle: it leaves by ``Failure`` with this text."""


class Out(NamedTuple):
    """One message leaving a node by ``relation``; ``error`` is set on failures (debug events)."""

    relation: str
    msg: Msg
    error: str | None = None
    #: None: follow ``relation`` in this chain; a chain id: go to that chain's first node (the
    #: rule chain node); RETURN: leave the calling rule chain node by ``relation`` (the output node).
    chain: object = None
    #: a copy of the message (duplicate nodes): it runs on with a hop budget of its own, starting
    #: from the hop count of the message it was made of (rulechains/engine.py)
    fork: bool = False


def max_duplicates() -> int:
    """RULE_ENGINE_MAX_DUPLICATES: copies a duplicate node makes of one message, and copies
    (``Out.fork``) one incoming message may give rise to in all (rulechains/engine.py)."""
    from django.conf import settings

    return int(getattr(settings, "RULE_ENGINE_MAX_DUPLICATES", 10_000))


def fail(msg: Msg, error) -> list[Out]:
    return [Out(FAILURE, msg, str(error))]


class NodeContext:
    """What nodes share during one batch: the tenant, the time, and lookups cached for the batch."""

    def __init__(self, tenant_id: UUID, now: int):
        self.tenant_id, self.now = tenant_id, now
        self._entities: dict = {}
        #: per message of the batch being run, the calling chains (engine internals, for the delay node)
        self.stacks: list = []

    def originators(self, msgs) -> dict:
        """{originator id: Device/Asset/Customer row of this tenant} for the messages, one query per type."""
        from devices.models import Asset, Device
        from tenants.models import Customer

        models = {"DEVICE": Device, "ASSET": Asset, "CUSTOMER": Customer}
        wanted: dict[str, set] = {}
        for m in msgs:
            if m.originator_id not in self._entities and m.originator_type in models:
                wanted.setdefault(m.originator_type, set()).add(m.originator_id)
        for kind, ids in wanted.items():
            qs = models[kind].objects.filter(tenant_id=self.tenant_id, pk__in=ids)
            if kind != "CUSTOMER":
                qs = qs.select_related("profile")
            self._entities.update({row.pk: row for row in qs})
        return {m.originator_id: self._entities.get(m.originator_id) for m in msgs}


class BaseNode:
    """One rule-node type. Subclasses set ``type`` (ThingsBoard's class name), ``label`` and
    ``relations`` (the relation names it can route by), and implement :meth:`process` (or
    :meth:`process_batch`). ``clean_config`` validates a configuration when a chain is saved."""

    type: ClassVar[str] = ""
    label: ClassVar[str] = ""
    relations: ClassVar[tuple[str, ...]] = ("Success", "Failure")
    #: dotted paths inside ``configuration`` that hold secrets: write-only in the API (masked in
    #: what it answers; posting the mask back keeps the stored value), as integrations' secrets
    secret_fields: ClassVar[tuple[str, ...]] = ()
    #: the other paths where a ``${secret:name;type:TEXT}`` placeholder is resolved (a user name, each
    #: header's value: ``headers.*``); a placeholder anywhere else (a URL, a key mapping, a script) stays
    #: as written, so that a test run cannot show a value (vault/resolution.py)
    secret_slots: ClassVar[tuple[str, ...]] = ()
    #: Whether the engine runs the node in a savepoint when a caller's transaction is open (tests,
    #: eager tasks): a node that queries the database. Nodes that never do, or that write in their
    #: own atomic block (the save nodes), say False and cost no SAVEPOINT round trips.
    savepoint: ClassVar[bool] = True
    #: the palette's group (one of GROUPS, ThingsBoard's component type)
    group: ClassVar[str] = "ACTION"
    #: the configuration a node dragged onto the canvas starts with (ThingsBoard's defaultConfiguration)
    defaults: ClassVar[dict] = {}
    #: the configuration form (:func:`field` each); "Edit as JSON" reaches every other key
    fields: ClassVar[tuple] = ()
    #: True when the relation names are free (a script switch's names, a called chain's outputs)
    custom_relations: ClassVar[bool] = False
    #: True when the node writes or sends (stores data, raises alarms, calls out, waits): a test
    #: run ("Test this chain") does not run it but sends the message on by :meth:`simulate`
    side_effects: ClassVar[bool] = False

    def __init__(self, row):
        self.row = row
        self.id, self.name = row.pk, row.name
        configuration = dict(row.configuration or {})
        keys = self.credential_keys(configuration)
        if any(names_secret(get_keys(configuration, k)) for k in keys):
            try:  # ${secret:name;type:TEXT} in a credential field gets the tenant's value (vault/resolution.py)
                configuration = resolve(row.tenant_id, configuration, keys)
            except SecretError as e:
                raise ConfigError(e.message) from None
        self.config = self.clean_config(configuration)

    @classmethod
    def credential_keys(cls, configuration: dict) -> list[list[str]]:
        """The key paths of ``configuration`` where a secret placeholder is resolved: ``secret_fields``
        and ``secret_slots``, a ``*`` part once per key of the map there."""
        return [keys for path in (*cls.secret_fields, *cls.secret_slots) for keys in expand_keys(configuration, path)]

    @classmethod
    def clean_config(cls, configuration: dict) -> dict:
        """The configuration as the node uses it; ConfigError naming the problem. Must not run scripts."""
        return configuration

    @classmethod
    def check(cls, configuration: dict) -> None:
        """Save-time checks beyond the shape (e.g. that a script compiles); ConfigError if not."""
        cls.clean_config(configuration)

    def process(self, ctx: NodeContext, msg: Msg) -> list[Out]:
        raise NotImplementedError

    def simulate(self, ctx: NodeContext, msgs: list[Msg]) -> list[list[Out]]:
        """A test run's stand-in for a node with ``side_effects``: each message leaves by Success as it came."""
        return [[Out(SUCCESS, msg)] for msg in msgs]

    def process_batch(self, ctx: NodeContext, msgs: list[Msg]) -> list[list[Out]]:
        outs = []
        for msg in msgs:
            try:
                outs.append(self.process(ctx, msg))
            except NodeError as e:
                outs.append(fail(msg, e))
        return outs


_PATTERN = re.compile(r"\$\{([^}]*)\}|\$\[([^\]]*)\]")


def substitute(pattern: str, msg: Msg) -> str:
    """ThingsBoard's templates: ``${key}`` from the metadata, ``$[path.to.key]`` from the data;
    an unknown key is left as it is."""

    def value(match):
        meta_key, data_path = match.groups()
        if meta_key is not None:
            found = msg.metadata.get(meta_key)
            return match.group(0) if found is None else found
        node = msg.data
        for part in data_path.split("."):
            if not isinstance(node, dict) or part not in node:
                return match.group(0)
            node = node[part]
        return node if isinstance(node, str) else json.dumps(node)

    return _PATTERN.sub(value, pattern) if "$" in pattern else pattern
