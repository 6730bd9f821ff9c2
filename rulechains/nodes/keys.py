"""Key and value transformation nodes: copy, rename and delete keys, JSONPath, split an array.

ThingsBoard's ``TbMsgSource`` nodes (copy, rename, delete) name where they act with
``copyFrom``/``renameIn``/``deleteFrom`` (DATA or METADATA) since 3.6; exports of older versions
carry ``fromMetadata: true/false`` instead, which ThingsBoard upgrades to METADATA/DATA, and so do we.
"""

import contextvars
import functools
import json
import re
import time

import jsonpath
import regex
from jsonpath.function_extensions import Match, Search
from jsonpath.selectors import IndexSelector, NameSelector

from rulechains.messages import SUCCESS, changed
from rulechains.nodes.base import BaseNode, ConfigError, NodeError, Out, field

__all__ = ["CopyKeysNode", "RenameKeysNode", "DeleteKeysNode", "JsonPathNode", "SplitArrayMsgNode"]

SOURCES = ("DATA", "METADATA")


def _source(configuration: dict, name: str) -> str:
    """``name`` (DATA/METADATA), or the older ``fromMetadata`` flag ThingsBoard upgrades to it."""
    value = configuration.get(name)
    if value is None and "fromMetadata" in configuration:
        old = str(configuration["fromMetadata"]).lower()
        if old not in ("true", "false"):
            raise ConfigError(f"fromMetadata must be true or false, got {str(configuration['fromMetadata'])[:40]!r}")
        return "METADATA" if old == "true" else "DATA"
    if value not in SOURCES:
        raise ConfigError(f"{name} must be DATA or METADATA, got {str(value)[:40]!r}")
    return value


def _patterns(configuration: dict) -> list:
    """``keys``: regular expressions a whole key must match (Java's Pattern.matches)."""
    keys = configuration.get("keys")
    if keys is None:
        return []
    if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
        raise ConfigError("keys must be a list of key names or regular expressions")
    try:  # the regex package (re's syntax) for its timeout: a user's pattern must not hang a worker
        return [regex.compile(k) for k in keys]
    except regex.error as e:
        raise ConfigError(f"keys: invalid regular expression {str(e.pattern)[:100]!r}: {e}") from None


#: the time a message's regular expression matching may take in all (catastrophic backtracking:
#: "(a+)+b" over "aaaa...!" takes seconds) before the message fails
MATCH_SECONDS = 0.05
#: the longest key (or JSONPath ``=~`` subject) matched; a longer one fails its message
MAX_MATCHED = 1024


def _deadline() -> float:
    return time.monotonic() + MATCH_SECONDS


def _bounded(pattern, text: str, deadline: float, how: str = "fullmatch") -> bool:
    """``pattern.fullmatch(text)`` (or ``search``) within the message's ``deadline``; NodeError
    when ``text`` is too long or the time is up."""
    if len(text) > MAX_MATCHED:
        raise NodeError(f"Can't match {text[:40]!r}...: longer than {MAX_MATCHED} characters")
    try:
        return bool(getattr(pattern, how)(text, timeout=max(deadline - time.monotonic(), 0.001)))
    except TimeoutError:
        raise NodeError(f"Regular expression {str(pattern.pattern)[:100]!r} took too long "
                        f"(over {MATCH_SECONDS} s) on {text[:40]!r}") from None


def _matches(patterns, key: str, deadline: float) -> bool:
    return any(_bounded(p, key, deadline) for p in patterns)


def _text(value) -> str:
    """A data value as ThingsBoard puts it into the metadata: strings as they are, the rest as JSON."""
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"), ensure_ascii=False)


class CopyKeysNode(BaseNode):
    """Copies the keys matching ``keys`` (regular expressions) from the data to the metadata
    (``copyFrom: DATA``; non-string values as JSON text) or from the metadata to the data
    (``copyFrom: METADATA``). A message whose data is not a JSON object passes unchanged."""

    label = "copy key-value pairs"
    group = "TRANSFORMATION"
    savepoint = False
    defaults = {"copyFrom": "DATA", "keys": []}
    fields = (field("copyFrom", "select", "Copy from", choices=SOURCES),
              field("keys", "list", "Keys", help="regular expressions; a key must match one as a whole"))

    @classmethod
    def clean_config(cls, configuration):
        return {"source": _source(configuration, "copyFrom"), "patterns": _patterns(configuration)}

    def process(self, ctx, msg):
        patterns, deadline = self.config["patterns"], _deadline()
        if not isinstance(msg.data, dict):
            return [Out(SUCCESS, msg)]
        if self.config["source"] == "METADATA":
            found = {k: v for k, v in msg.metadata.items() if _matches(patterns, k, deadline)}
            return [Out(SUCCESS, changed(msg, data={**msg.data, **found}) if found else msg)]
        found = {k: _text(v) for k, v in msg.data.items() if _matches(patterns, k, deadline)}
        return [Out(SUCCESS, changed(msg, metadata={**msg.metadata, **found}) if found else msg)]


class RenameKeysNode(BaseNode):
    """Renames keys of the data (``renameIn: DATA``; only when it is a JSON object) or of the
    metadata (``renameIn: METADATA``) by ``renameKeysMapping`` (old name -> new name); keys that
    are not there are skipped."""

    label = "rename keys"
    group = "TRANSFORMATION"
    savepoint = False
    defaults = {"renameIn": "DATA", "renameKeysMapping": {"temperatureCelsius": "temperature"}}
    fields = (field("renameIn", "select", "Rename in", choices=SOURCES),
              field("renameKeysMapping", "json", "Current name -> new name"))

    @classmethod
    def clean_config(cls, configuration):
        mapping = configuration.get("renameKeysMapping")
        if not isinstance(mapping, dict) or not mapping:
            raise ConfigError("renameKeysMapping: at least one mapping entry should be specified!")
        if not all(isinstance(v, str) for v in mapping.values()):
            raise ConfigError("renameKeysMapping must map key names to new key names")
        return {"source": _source(configuration, "renameIn"), "mapping": mapping}

    def process(self, ctx, msg):
        if self.config["source"] == "METADATA":
            metadata = _renamed(msg.metadata, self.config["mapping"])
            return [Out(SUCCESS, msg if metadata is None else changed(msg, metadata=metadata))]
        data = _renamed(msg.data, self.config["mapping"]) if isinstance(msg.data, dict) else None
        return [Out(SUCCESS, msg if data is None else changed(msg, data=data))]


def _renamed(values: dict, mapping: dict) -> dict | None:
    """The renamed copy, or None when no key of ``mapping`` is there."""
    out, hit = dict(values), False
    for old, new in mapping.items():
        if old in out:
            hit = True
            value = out[old]
            out[new] = value
            del out[old]  # after the put, as ThingsBoard: renaming a key to itself drops it
    return out if hit else None


class DeleteKeysNode(BaseNode):
    """Deletes the keys matching ``keys`` (regular expressions) from the data (``deleteFrom:
    DATA``; only when it is a JSON object) or from the metadata (``deleteFrom: METADATA``)."""

    label = "delete key-value pairs"
    group = "TRANSFORMATION"
    savepoint = False
    defaults = {"deleteFrom": "DATA", "keys": []}
    fields = (field("deleteFrom", "select", "Delete from", choices=SOURCES),
              field("keys", "list", "Keys", help="regular expressions; a key must match one as a whole"))

    @classmethod
    def clean_config(cls, configuration):
        return {"source": _source(configuration, "deleteFrom"), "patterns": _patterns(configuration)}

    def process(self, ctx, msg):
        patterns, deadline = self.config["patterns"], _deadline()
        if self.config["source"] == "METADATA":
            kept = {k: v for k, v in msg.metadata.items() if not _matches(patterns, k, deadline)}
            return [Out(SUCCESS, changed(msg, metadata=kept) if len(kept) < len(msg.metadata) else msg)]
        if not isinstance(msg.data, dict):
            return [Out(SUCCESS, msg)]
        kept = {k: v for k, v in msg.data.items() if not _matches(patterns, k, deadline)}
        return [Out(SUCCESS, changed(msg, data=kept) if len(kept) < len(msg.data) else msg)]


class SplitArrayMsgNode(BaseNode):
    """A message whose data is a JSON array leaves as one message per element, each with the
    same type and metadata, by Success; an empty array is acknowledged (nothing leaves);
    any other data goes by Failure ("Msg data is not a JSON Array!")."""

    label = "split array msg"
    group = "TRANSFORMATION"
    savepoint = False
    defaults = {"version": 0}

    def process(self, ctx, msg):
        if not isinstance(msg.data, list):
            raise NodeError("Msg data is not a JSON Array!")
        return [Out(SUCCESS, changed(msg, data=item)) for item in msg.data]


# --- JSONPath (Jayway's syntax, as ThingsBoard uses it) ------------------------------------------

#: the deadline of the message a JSONPath runs over (its filters' regular expressions share it)
_JSONPATH_DEADLINE: contextvars.ContextVar = contextvars.ContextVar("jsonpath_deadline", default=None)


def _jsonpath_deadline() -> float:
    return _JSONPATH_DEADLINE.get() or _deadline()


@functools.lru_cache(maxsize=256)
def _bounded_pattern(pattern: str, flags: int):
    """A filter's ``/re/flags`` (compiled by python-jsonpath with re) as a regex pattern, which
    takes a timeout; the flags the literal can carry are i, m, s and a."""
    mapped = 0
    for re_flag, regex_flag in ((re.I, regex.I), (re.M, regex.M), (re.S, regex.S), (re.A, regex.A)):
        if flags & re_flag:
            mapped |= regex_flag
    return regex.compile(pattern, mapped)


class _BoundedMatch(Match):
    """``match(@.x, 'pattern')`` within the message's matching time."""

    def __call__(self, value, pattern):
        found = self.check_cache(pattern) if isinstance(value, str) and isinstance(pattern, str) else None
        return found is not None and _bounded(found, value, _jsonpath_deadline())


class _BoundedSearch(Search):
    """``search(@.x, 'pattern')`` within the message's matching time."""

    def __call__(self, value, pattern):
        found = self.check_cache(pattern) if isinstance(value, str) and isinstance(pattern, str) else None
        return found is not None and _bounded(found, value, _jsonpath_deadline(), "search")


class _Environment(jsonpath.JSONPathEnvironment):
    """python-jsonpath with its regular expressions (``=~ /re/``, ``match()``, ``search()``)
    bounded in time: a user's pattern that backtracks catastrophically fails its message."""

    def setup_function_extensions(self) -> None:
        super().setup_function_extensions()
        self.function_extensions["match"] = _BoundedMatch()
        self.function_extensions["search"] = _BoundedSearch()

    def compare(self, left, operator, right) -> bool:
        if operator == "=~" and isinstance(right, re.Pattern) and isinstance(left, str):
            return _bounded(_bounded_pattern(right.pattern, right.flags), left, _jsonpath_deadline())
        return super().compare(left, operator, right)


_ENV = _Environment()
#: Jayway's functions at the end of a path (``$.values.length()``), applied to what the path finds
_FUNCTION = re.compile(r"^(.*)\.(min|max|avg|stddev|length|size|sum|keys|first|last)\(\)\s*$", re.S)
_JACKSON = "com.fasterxml.jackson.databind.node."
_PROVIDER = "com.jayway.jsonpath.spi.json.JacksonJsonNodeJsonProvider"


class JsonPathNode(BaseNode):
    """Replaces the data by what ``jsonPath`` selects in it (Jayway JsonPath syntax: ``$.a.b``,
    ``$['a']``, ``[0]``, ``[-1]``, ``[0,1]``, ``[1:3]``, ``[*]``, ``..``, filters such as
    ``[?(@.price < 10 && @.kind == 'x')]`` or ``[?(@.name =~ /ab.*/i)]``, and a trailing
    ``.length()``, ``.min()``, ``.max()``, ``.avg()``, ``.sum()``, ``.stddev()``, ``.keys()``,
    ``.first()`` or ``.last()``). A definite path gives the value itself and goes by Failure
    when nothing is there ("No results for path: $['a']"); a path with wildcards, filters,
    slices or ``..`` gives an array, maybe empty. ``$`` (the default) passes the message as it is."""

    label = "json path"
    group = "TRANSFORMATION"
    savepoint = False
    defaults = {"jsonPath": "$"}
    fields = (field("jsonPath", "text", "JSONPath", help="e.g. $.values.temperature or $..items[?(@.on)]"),)

    @classmethod
    def clean_config(cls, configuration):
        path = configuration.get("jsonPath")
        if not isinstance(path, str) or not path.strip():
            raise ConfigError("jsonPath: path can not be null or empty")
        if path == "$":
            return {"path": path, "query": None, "function": None}
        match = _FUNCTION.match(path)
        body, function = (match.group(1), match.group(2)) if match else (path, None)
        try:
            query = _ENV.compile(body)
        except (jsonpath.JSONPathError, RecursionError, ValueError) as e:
            raise ConfigError(f"jsonPath: invalid path {path[:100]!r}: {str(e).splitlines()[0]}") from None
        return {"path": path, "query": query, "function": function}

    def process(self, ctx, msg):
        query, function = self.config["query"], self.config["function"]
        if query is None:
            return [Out(SUCCESS, msg)]
        definite = isinstance(query, jsonpath.JSONPath) and query.singular_query()
        token = _JSONPATH_DEADLINE.set(_deadline())
        try:
            value = _definite(query, msg.data) if definite else [m.obj for m in query.finditer(msg.data)]
        except NodeError:
            raise
        except Exception as e:  # a filter over odd data: this message fails, not the batch
            raise NodeError(f"{type(e).__name__}: {(str(e).splitlines() or [''])[0]}") from None
        finally:
            _JSONPATH_DEADLINE.reset(token)
        if function:
            value = _apply(function, value)
        return [Out(SUCCESS, changed(msg, data=value))]


def _definite(query, data):
    """Walks a definite path (names and indexes only) with Jayway's errors."""
    here, node = "$", data
    segments = query.segments
    for i, segment in enumerate(segments):
        selector = segment.selectors[0]
        if isinstance(selector, NameSelector):
            if not isinstance(node, dict):
                raise NodeError(f"Expected to find an object with property {_fragment(selector)} in path {here} but "
                                f"found '{_java_class(node)}'. This is not a json object according to the "
                                f"JsonProvider: '{_PROVIDER}'.")
            if selector.name not in node:
                if i == len(segments) - 1:
                    raise NodeError(f"No results for path: {_jayway(query)}")
                raise NodeError(f"Missing property in path {here}{_fragment(selector)}")
            node = node[selector.name]
        else:
            if not isinstance(node, list):
                rest = "".join(_fragment(s.selectors[0]) for s in segments[i:])
                raise NodeError(f"Filter: {rest} can only be applied to arrays. Current context is: {_compact(node)}")
            index = selector.index
            if not -len(node) <= index < len(node):
                raise NodeError(f"No results for path: {_jayway(query)}")
            node = node[index]
        here += _fragment(selector)
    return node


def _fragment(selector) -> str:
    if isinstance(selector, NameSelector):
        return "['" + selector.name + "']"
    if isinstance(selector, IndexSelector):
        return f"[{selector.index}]"
    return f"[{selector}]"


def _jayway(query) -> str:
    """A definite path as Jayway writes it: ``$['a'][0]``."""
    return "$" + "".join(_fragment(s.selectors[0]) for s in query.segments)


def _java_class(value) -> str:
    if value is None:
        return _JACKSON + "NullNode"
    if isinstance(value, bool):
        return _JACKSON + "BooleanNode"
    if isinstance(value, int):
        return _JACKSON + ("IntNode" if -2**31 <= value < 2**31 else "LongNode")
    kinds = {float: "DoubleNode", str: "TextNode", list: "ArrayNode"}
    return _JACKSON + kinds.get(type(value), "ObjectNode")


def _compact(value) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _apply(function: str, value):
    """Jayway's path functions over the value (or the list of values) the path found."""
    if function in ("length", "size"):
        if isinstance(value, (list, dict, str)):
            return len(value)
        raise NodeError(f"Invalid function: {function}() can only be applied to arrays, objects or strings")
    if function == "keys":
        if not isinstance(value, dict):
            raise NodeError("Invalid function: keys() can only be applied to objects")
        return list(value)
    if not isinstance(value, list):
        raise NodeError(f"Aggregation function attempted to calculate value using non array: {function}()")
    if function in ("first", "last"):
        if not value:
            raise NodeError(f"Aggregation function attempted to calculate value using empty array: {function}()")
        return value[0] if function == "first" else value[-1]
    try:
        numbers = [float(v) for v in value if isinstance(v, (int, float)) and not isinstance(v, bool)]
    except OverflowError:  # an integer beyond a double (10**400)
        raise NodeError(f"Aggregation function {function}(): a number is out of the range of a double") from None
    if not numbers:
        raise NodeError("Aggregation function attempted to calculate value using empty array")
    if function == "min":
        return min(numbers)
    if function == "max":
        return max(numbers)
    total = sum(numbers)
    if function == "sum":
        return total
    mean = total / len(numbers)
    if function == "avg":
        return mean
    return (sum(n * n for n in numbers) / len(numbers) - mean * mean) ** 0.5
