"""Run a folder of real converters through our testUpLink / testDownLink API and the live path.

    .venv/bin/python -m converters.tests.corpus_runner /tmp/corpus [--only TEXT] [--show N] [--json FILE]
    .venv/bin/python -m converters.tests.corpus_runner /tmp/corpus --url http://127.0.0.1:8080 \
        --user tenant@example.com --password ...

Any folder holding a ``converter.json`` (a ThingsBoard converter export: ``type``,
``converterVersion``, ``configuration.{scriptLang, decoder|tbelDecoder, encoder|tbelEncoder}``)
is one entry, wherever it sits (``thingsboard/data-converters``'s ``VENDORS/<vendor>/<model>/
<integration>/<uplink|downlink>`` layout, or any other). Its samples are ``payload[_N].json|txt|
base64|hex`` (for a downlink: the rule-engine message), with ``result[_N].json`` the expected
answer where there is one, and ``metadata.json`` (for a downlink also ``msgType.txt`` and
``integrationMetadata.json``). The integration type is the converter's ``integrationType`` or the
parent folder's name.

Samples are posted as ThingsBoard's own check of its library (the ``validate-data-converters``
workflow) posts them: a ``.json`` payload re-serialised, the whole converter beside an uplink (a
typed converter gets the network server's envelope itself), a downlink with ``msgType``
POST_TELEMETRY_REQUEST and empty ``integrationMetadata`` unless files say otherwise; the result is
compared with ``output``, or ``outputMsg`` for a typed converter. Uplink samples also go through the live path
(``converters.library.samples.run_uplink_case``: unwrap, decode, ``converters.uplink.interpret``),
so that what the test endpoint accepts is also what the pipeline stores. Comparison ignores key
order; numbers compare by value unless ``--strict-numbers`` (then ``2`` and ``2.0`` differ, as
ThingsBoard's printing tells a Long from a Double). Nothing here is committed with the corpus.
"""

import argparse
import base64
import json
import os
import sys
import urllib.request
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

from converters.library.catalogue import Entry, integration_type_of

__all__ = ["main", "run_folder", "find_entries"]


def find_entries(root: Path) -> list[Entry]:
    found = []
    for file in sorted(root.rglob("converter.json")):
        folder = file.parent
        converter = _read(file)
        if not isinstance(converter, dict):
            continue
        kind = converter.get("integrationType") or integration_type_of(folder.parent.name) or "HTTP"
        direction = "DOWNLINK" if str(converter.get("type", "")).upper() == "DOWNLINK" else "UPLINK"
        found.append(Entry("", str(folder.relative_to(root)), kind, direction, folder))
    return found


def _read(path: Path, default=None):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return default


def _spec(entry: Entry) -> SimpleNamespace:
    converter = entry.converter
    config = converter.get("configuration") or {}
    lang = str(config.get("scriptLang") or "JS").upper()
    if entry.converter_type == "DOWNLINK":
        script = config.get("tbelEncoder") if lang == "TBEL" else config.get("encoder")
    else:
        script = config.get("tbelDecoder") if lang == "TBEL" else config.get("decoder")
    return SimpleNamespace(type=entry.converter_type, converter_version=converter.get("converterVersion") or 1,
                           configuration=config, script=script or "", script_lang=lang)


class InProcess:
    """The API called in this process through DRF's request factory, as a tenant admin of a
    throwaway test database (created here, as pytest-django would)."""

    def __init__(self):
        from django.db import connection
        from rest_framework.test import APIRequestFactory, force_authenticate

        from tenants.choices import Authority
        from tenants.models import Tenant, User

        connection.creation.create_test_db(verbosity=0, autoclobber=True)
        tenant = Tenant.objects.create(title="corpus")
        self.factory, self.force = APIRequestFactory(), force_authenticate
        self.user = User.objects.create_user("corpus@example.com", "corpus-pass", authority=Authority.TENANT_ADMIN,
                                             tenant=tenant)

    def post(self, path: str, body: dict) -> tuple[int, dict]:
        from django.urls import resolve

        request = self.factory.post(path, body, format="json")
        self.force(request, user=self.user)
        match = resolve(path.split("?")[0])
        response = match.func(request, *match.args, **match.kwargs)
        response.render()
        return response.status_code, json.loads(response.content or b"{}")


class Live:
    """A running server (``manage.py serve``), logged in through ``/api/auth/login``."""

    def __init__(self, url: str, user: str, password: str):
        self.url = url.rstrip("/")
        _, answer = self._send("/api/auth/login", {"username": user, "password": password}, {})
        self.headers = {"X-Authorization": f"Bearer {answer['token']}"}

    def _send(self, path: str, body: dict, headers: dict) -> tuple[int, dict]:
        request = urllib.request.Request(self.url + path, json.dumps(body).encode(), method="POST",
                                         headers={"Content-Type": "application/json", **headers})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"{}")

    def post(self, path: str, body: dict) -> tuple[int, dict]:
        return self._send(path, body, self.headers)


def same(expected, actual, strict: bool = False) -> bool:
    """Equal as JSON values: key order ignored, numbers by value (and by kind when ``strict``)."""
    if isinstance(expected, bool) or isinstance(actual, bool):
        return expected is actual
    if isinstance(expected, int | float) and isinstance(actual, int | float):
        if strict and type(expected) is not type(actual):
            return False
        return abs(expected - actual) <= 1e-9 * max(1.0, abs(expected), abs(actual))
    if isinstance(expected, dict) and isinstance(actual, dict):
        return expected.keys() == actual.keys() and all(same(v, actual[k], strict) for k, v in expected.items())
    if isinstance(expected, list) and isinstance(actual, list):
        return len(expected) == len(actual) and all(same(a, b, strict) for a, b in zip(expected, actual, strict=True))
    return expected == actual


def _string_map(value) -> dict:
    return {k: v if isinstance(v, str) else json.dumps(v) for k, v in (value or {}).items() if v is not None}


def _as_sent(sample) -> bytes:
    """The payload as ThingsBoard's own check of the library sends it: a ``.json`` file re-serialised
    by Python's ``json.dumps`` (ThingsBoard's ``validate-data-converters`` workflow), others as they are."""
    if sample.name.endswith(".json"):
        try:
            return json.dumps(json.loads(sample.payload)).encode()
        except ValueError:
            pass
    return sample.payload


def _uplink_api(client, entry: Entry, spec, sample, metadata: dict, strict: bool,
                unwrap_first: bool = False) -> str | None:
    """None when it passes, else what went wrong."""
    payload, meta = base64.b64encode(_as_sent(sample)).decode(), metadata
    if spec.converter_version == 2 and unwrap_first:
        status, answer = client.post(f"/api/converter/unwrap/{entry.integration_type}",
                                     {"payload": payload, "metadata": metadata})
        if status != 200:
            return f"unwrap {status}: {answer.get('message', answer)}"
        payload, meta = answer["payload"], answer["metadata"]
    body = {"payload": payload, "metadata": meta, "decoder": spec.script,
            "converter": {**entry.converter, "configuration": spec.configuration}}
    status, answer = client.post(f"/api/converter/testUpLink?scriptLang={spec.script_lang}", body)
    if status != 200:
        return f"testUpLink {status}: {answer}"
    if answer.get("error"):
        return f"error: {answer['error']}"
    if sample.expected is None:
        return None
    got = answer.get("outputMsg") if spec.converter_version == 2 else json.loads(answer["output"])
    if spec.converter_version == 2 and isinstance(got, dict):
        got = {k: v for k, v in got.items() if k in sample.expected or v not in (None, "", {}, [])}
    if not same(sample.expected, got, strict):
        return "differs: " + "; ".join(diff(sample.expected, got, strict)[:8])
    return None


def diff(expected, actual, strict: bool = False, path: str = "") -> list[str]:
    """Where two JSON values differ, one ``path: expected X, got Y`` line each."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        found = []
        for key in sorted(set(expected) | set(actual), key=str):
            where = f"{path}.{key}" if path else str(key)
            if key not in actual:
                found.append(f"{where}: expected {_short(expected[key], 120)}, missing")
            elif key not in expected:
                found.append(f"{where}: not expected, got {_short(actual[key], 120)}")
            else:
                found += diff(expected[key], actual[key], strict, where)
        return found
    if isinstance(expected, list) and isinstance(actual, list) and len(expected) == len(actual):
        return [line for i, (a, b) in enumerate(zip(expected, actual, strict=True))
                for line in diff(a, b, strict, f"{path}[{i}]")]
    if same(expected, actual, strict):
        return []
    return [f"{path or '.'}: expected {_short(expected, 120)}, got {_short(actual, 120)}"]


def _short(value, limit: int = 600) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= limit else text[:limit] + "..."


def _downlink_api(client, entry: Entry, spec, sample, metadata: dict, strict: bool) -> str | None:
    folder = entry.path
    # as ThingsBoard's check of its library sends a downlink sample
    msg_type = (folder / "msgType.txt").read_text().strip() if (folder / "msgType.txt").is_file() \
        else "POST_TELEMETRY_REQUEST"
    integration_metadata = _string_map(_read(folder / "integrationMetadata.json", {}))
    body = {"msg": _as_sent(sample).decode("utf-8", "replace"), "msgType": msg_type, "metadata": metadata,
            "integrationMetadata": integration_metadata, "encoder": spec.script}
    status, answer = client.post(f"/api/converter/testDownLink?scriptLang={spec.script_lang}", body)
    if status != 200:
        return f"testDownLink {status}: {answer}"
    if answer.get("error"):
        return f"error: {answer['error']}"
    if sample.expected is not None and not same(sample.expected, json.loads(answer["output"]), strict):
        return "differs: " + "; ".join(diff(sample.expected, json.loads(answer["output"]), strict)[:8])
    return None


def run_folder(root: Path, client, *, only: str = "", strict: bool = False) -> list[dict]:
    from converters.library.samples import run_uplink_case

    rows = []
    for entry in find_entries(root):
        name = str(entry.path.relative_to(root))
        if only and only.lower() not in name.lower():
            continue
        spec = _spec(entry)
        metadata = {"integrationName": f"{entry.integration_type} integration",
                    **_string_map(_read(entry.path / "metadata.json", {}))}
        category = f"{spec.script_lang} {'down' if entry.converter_type == 'DOWNLINK' else 'up'}"
        for sample in entry.samples() or []:
            row = {"entry": name, "sample": sample.name, "category": category, "expected": sample.expected_name}
            if entry.converter_type == "DOWNLINK":
                row["api"] = _downlink_api(client, entry, spec, sample, metadata, strict)
            else:
                row["api"] = _uplink_api(client, entry, spec, sample, metadata, strict)
                live = run_uplink_case(spec, entry.integration_type, sample.name, sample.expected_name,
                                       sample.payload, metadata, sample.expected)
                row["live"] = None if live.passed else (live.error or "; ".join(live.differences[:5]))
            rows.append(row)
    return rows


def summary(rows: list[dict]) -> str:
    total, passed, live_failed = Counter(), Counter(), Counter()
    for row in rows:
        total[row["category"]] += 1
        passed[row["category"]] += row["api"] is None
        live_failed[row["category"]] += bool(row.get("live")) and row["api"] is None
    lines = [f"{cat:10} api {passed[cat]}/{total[cat]}  (live path refused {live_failed[cat]} of the api passes)"
             for cat in sorted(total)]
    lines.append(f"{'all':10} api {sum(passed.values())}/{sum(total.values())}  "
                 f"entries {len({r['entry'] for r in rows})}")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--only", default="")
    parser.add_argument("--show", type=int, default=50, help="failures to print")
    parser.add_argument("--strict-numbers", action="store_true")
    parser.add_argument("--json", type=Path, help="write every row here")
    parser.add_argument("--url")
    parser.add_argument("--user", default=os.environ.get("TB_USER", ""))
    parser.add_argument("--password", default=os.environ.get("TB_PASSWORD", ""))
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tbproject.settings")
    import django

    django.setup()
    client = Live(args.url, args.user, args.password) if args.url else InProcess()
    rows = run_folder(args.folder, client, only=args.only, strict=args.strict_numbers)
    shown = 0
    for row in rows:
        if (row["api"] or row.get("live")) and shown < args.show:
            shown += 1
            print(f"FAIL {row['entry']} [{row['sample']}] ({row['category']})\n  api:  {row['api']}\n"
                  f"  live: {row.get('live')}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    print(summary(rows))
    return 0 if all(r["api"] is None for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
