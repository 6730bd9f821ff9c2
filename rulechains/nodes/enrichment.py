"""Enrichment nodes: the originator's fields, and the originator's attributes and latest telemetry."""

from devices.attributes import attribute_values
from devices.choices import AttributeScope
from devices.telemetry import latest_many
from rulechains.messages import SUCCESS, changed
from rulechains.nodes.base import BaseNode, ConfigError, Out, fail, field, substitute

__all__ = ["OriginatorFieldsNode", "OriginatorAttributesNode", "FETCH_TO", "entity_field"]

FETCH_TO = ("METADATA", "DATA")


def _fetch_to(configuration: dict) -> str:
    fetch_to = str(configuration.get("fetchTo") or "METADATA").upper()
    if fetch_to not in FETCH_TO:
        raise ConfigError(f"fetchTo must be METADATA or DATA, got {fetch_to[:40]!r}")
    return fetch_to


def _enrich(msg, values: dict, fetch_to: str):
    if fetch_to == "DATA":
        if not isinstance(msg.data, dict):
            raise ValueError("the message data is not a JSON object: cannot add fields to it")
        return changed(msg, data={**msg.data, **values})
    return changed(msg, metadata={**msg.metadata, **values})


def entity_field(entity, name: str):
    """ThingsBoard's originator field names on our Device/Asset/Customer rows (None: not a field)."""
    if name == "id":
        return str(entity.pk)
    if name == "createdTime":
        return entity.created_time
    if name == "type":
        return getattr(entity, "type", None)
    if name == "additionalInfo":
        return entity.additional_info
    value = getattr(entity, name, None)
    return value if isinstance(value, (str, int, float)) else None


class OriginatorFieldsNode(BaseNode):
    """``dataMapping`` (``fieldsMapping`` before ThingsBoard 3.6) maps originator fields (name,
    type, label, id, createdTime, ...) to keys of the metadata, or of the data with
    ``fetchTo: DATA``. Fields the originator does not have are skipped, empty strings too when
    ``ignoreNullStrings``. Failure when the originator does not exist."""

    label = "originator fields"
    group = "ENRICHMENT"
    defaults = {"dataMapping": {"name": "originatorName", "type": "originatorType"}, "ignoreNullStrings": False,
                "fetchTo": "METADATA"}
    fields = (field("dataMapping", "json", "Originator field -> key"),
              field("fetchTo", "select", "Add to", choices=FETCH_TO),
              field("ignoreNullStrings", "bool", "Skip empty fields"))

    @classmethod
    def clean_config(cls, configuration):
        mapping = configuration.get("dataMapping", configuration.get("fieldsMapping"))
        if not isinstance(mapping, dict) or not mapping:
            raise ConfigError("dataMapping must be a non-empty object of originator field -> key")
        if not all(isinstance(k, str) and isinstance(v, str) and v for k, v in mapping.items()):
            raise ConfigError("dataMapping must map field names to non-empty key names")
        return {"mapping": mapping, "fetchTo": _fetch_to(configuration),
                "ignoreNullStrings": bool(configuration.get("ignoreNullStrings"))}

    def process_batch(self, ctx, msgs):
        entities = ctx.originators(msgs)
        return [self._one(msg, entities.get(msg.originator_id)) for msg in msgs]

    def _one(self, msg, entity):
        if entity is None:
            return fail(msg, f"{msg.originator_type.title()} with id [{msg.originator_id}] is not found")
        values = {}
        for name, key in self.config["mapping"].items():
            value = entity_field(entity, name)
            if value is None or (value == "" and self.config["ignoreNullStrings"]):
                continue
            values[key] = value
        try:
            return [Out(SUCCESS, _enrich(msg, values, self.config["fetchTo"]))]
        except ValueError as e:
            return fail(msg, e)


_SCOPES = (("clientAttributeNames", AttributeScope.CLIENT_SCOPE, "cs_"),
           ("sharedAttributeNames", AttributeScope.SHARED_SCOPE, "shared_"),
           ("serverAttributeNames", AttributeScope.SERVER_SCOPE, "ss_"))
_LATEST = "latestTsKeyNames"


class OriginatorAttributesNode(BaseNode):
    """Adds the originator's attributes (``clientAttributeNames`` as ``cs_<key>``,
    ``sharedAttributeNames`` as ``shared_<key>``, ``serverAttributeNames`` as ``ss_<key>``) and
    latest telemetry (``latestTsKeyNames``, unprefixed; ``{ts, value}`` with
    ``getLatestValueWithTs``) to the metadata, or the data with ``fetchTo: DATA``. Key names may
    use ``${metadataKey}`` / ``$[dataKey]``. With ``tellFailureIfAbsent`` (default true) a missing
    key sends the enriched message by Failure. One query per scope for the whole batch."""

    label = "originator attributes"
    group = "ENRICHMENT"
    defaults = {"tellFailureIfAbsent": True, "fetchTo": "METADATA", "clientAttributeNames": [],
                "sharedAttributeNames": [], "serverAttributeNames": [], "latestTsKeyNames": [],
                "getLatestValueWithTs": False}
    fields = (field("clientAttributeNames", "list", "Client attributes"),
              field("sharedAttributeNames", "list", "Shared attributes"),
              field("serverAttributeNames", "list", "Server attributes"),
              field("latestTsKeyNames", "list", "Latest telemetry"),
              field("fetchTo", "select", "Add to", choices=FETCH_TO),
              field("tellFailureIfAbsent", "bool", "Failure if a key is absent"),
              field("getLatestValueWithTs", "bool", "Latest value with its timestamp"))

    @classmethod
    def clean_config(cls, configuration):
        lists = {}
        for name in (*(s[0] for s in _SCOPES), _LATEST):
            keys = configuration.get(name) or []
            if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
                raise ConfigError(f"{name} must be a list of key names")
            lists[name] = [k for k in keys if k.strip()]
        tell = configuration.get("tellFailureIfAbsent")
        return {**lists, "fetchTo": _fetch_to(configuration), "tellFailureIfAbsent": tell is None or bool(tell),
                "getLatestValueWithTs": bool(configuration.get("getLatestValueWithTs"))}

    def process_batch(self, ctx, msgs):
        wanted = [{name: [substitute(k, m) for k in self.config[name]] for name in (*(s[0] for s in _SCOPES), _LATEST)}
                  for m in msgs]
        ids = {m.originator_id for m in msgs}
        found = {}
        for name, scope, _ in _SCOPES:
            keys = {k for w in wanted for k in w[name]}
            found[name] = attribute_values(ids, scope, keys) if keys else {}
        latest_keys = {k for w in wanted for k in w[_LATEST]}
        found[_LATEST] = latest_many(ids, sorted(latest_keys)) if latest_keys else {}
        return [self._one(msg, keys, found) for msg, keys in zip(msgs, wanted, strict=True)]

    def _one(self, msg, keys: dict, found: dict):
        values, missing = {}, []
        prefixes = {name: prefix for name, _, prefix in _SCOPES} | {_LATEST: ""}
        for name, names in keys.items():
            for key in names:
                hit = found[name].get((msg.originator_id, key))
                if hit is None:
                    missing.append(f"{prefixes[name]}{key}")
                    continue
                ts, value = hit
                if name == _LATEST and self.config["getLatestValueWithTs"]:
                    value = {"ts": ts, "value": value}
                values[prefixes[name] + key] = value
        try:
            out = _enrich(msg, values, self.config["fetchTo"])
        except ValueError as e:
            return fail(msg, e)
        if missing and self.config["tellFailureIfAbsent"]:
            return fail(out, f"The following attribute/telemetry keys are not present in the DB: {', '.join(missing)}")
        return [Out(SUCCESS, out)]
