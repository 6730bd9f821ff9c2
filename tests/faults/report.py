"""The fault suite's figures: one row per fault, written to var/faults/report.{json,md} and printed.

    figures = measure(name, stream, watcher, fault_started, visibility_s, notes)
    record(figures)     # the session's rows; write() at its end

Definitions (docs/reliability.md repeats them):

- sent: messages the stream sent (HTTP POSTs and MQTT QoS 1 publishes together).
- accepted: answered 2xx (HTTP) or acknowledged with a PUBACK (MQTT).
- stored: accepted messages whose telemetry row exists; dead letters: accepted ones dead-lettered.
- lost: accepted, yet neither stored nor a dead letter. Must be 0.
- duplicates: accepted messages the pipeline ran on more than once (DEBUG_INTEGRATION events).
  Explained: accepted before the system recovered (a batch the fault interrupted, run again), or
  run twice at least the visibility timeout apart (Redis handed out again a task message a busy
  worker held that long). Any other duplicate fails the test.
- recovery: seconds from the fault until, for each transport, everything it accepted before the
  fault and that was stored at all was stored, and something it accepted after the fault was
  stored too (the larger of the two transports).
"""

import json
import platform
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

__all__ = ["Figures", "measure", "record", "write", "REPORT_DIR", "rows"]

REPORT_DIR = Path(__file__).resolve().parents[2] / "var" / "faults"
_rows: list["Figures"] = []


@dataclass
class Figures:
    fault: str
    sent: int
    accepted: int
    stored: int
    dead_letters: int
    lost: int
    duplicates: int
    #: duplicates the fault explains (see the module docstring)
    duplicates_explained: int
    recovery_s: float | None
    #: answers that were not an acceptance: {"HTTP 503": n, "HTTP ConnectionRefusedError": m, ...}
    refused: dict[str, int] = field(default_factory=dict)
    #: stored although not accepted (the answer was lost with the web process, say)
    stored_unaccepted: int = 0
    #: the first lost messages: [seq, transport, seconds sent after the fault began, pipeline runs]
    lost_seqs: list[list] = field(default_factory=list)
    by_transport: dict[str, dict] = field(default_factory=dict)
    notes: str = ""


def measure(fault: str, stream, watcher, fault_started: float, visibility_s: float, notes: str = "", *,
            repaired: float | None = None) -> Figures:
    """``repaired``: when the fault's last break was repaired (a fault may break things more than
    once); a duplicate of a message accepted before then, plus the recovery, is explained."""
    records = stream.records.values()
    accepted = [r for r in records if r.accepted]
    runs = watcher.runs()
    duplicated = [r for r in accepted if len(runs.get(r.seq, ())) > 1]
    refused = Counter(f"{'HTTP' if r.transport == 'http' else 'MQTT'} {r.answer}" for r in records if not r.accepted)
    by_transport = {}
    for transport in ("http", "mqtt"):
        mine = [r for r in records if r.transport == transport]
        by_transport[transport] = {
            "sent": len(mine), "accepted": sum(r.accepted for r in mine),
            "stored": sum(r.accepted and r.seq in watcher.stored for r in mine),
            "dead_letters": sum(r.accepted and r.seq in watcher.dead for r in mine),
            "recovery_s": _recovery([r for r in mine if r.accepted], watcher, fault_started)}
    recoveries = [t["recovery_s"] for t in by_transport.values()]
    recovered = max(fault_started, repaired or fault_started) + max((r for r in recoveries if r is not None),
                                                                     default=0.0)
    lost = watcher.missing()

    def explained(r) -> bool:
        times = sorted(runs[r.seq])
        return r.sent <= recovered or times[-1] - times[0] >= (visibility_s - 1) * 1000

    return Figures(
        fault=fault, sent=len(records), accepted=len(accepted),
        stored=sum(r.seq in watcher.stored for r in accepted),
        dead_letters=sum(r.seq in watcher.dead and r.seq not in watcher.stored for r in accepted),
        lost=len(lost), duplicates=len(duplicated),
        lost_seqs=[[s, stream.records[s].transport, round(stream.records[s].sent - fault_started, 2),
                    len(runs.get(s, ()))] for s in lost[:20]],
        duplicates_explained=sum(explained(r) for r in duplicated),
        recovery_s=None if None in recoveries else max(recoveries), refused=dict(refused),
        stored_unaccepted=sum(not r.accepted and r.seq in watcher.stored for r in records),
        by_transport=by_transport, notes=notes)


def _recovery(accepted, watcher, fault_started: float) -> float | None:
    """Seconds from the fault until the backlog accepted before it was stored and a message
    accepted after it was stored (None: one of the two never happened)."""
    def seen(r):
        return watcher.stored.get(r.seq, watcher.dead.get(r.seq))

    before = [t for t in (seen(r) for r in accepted if r.sent <= fault_started) if t is not None]  # lost: not here
    after = [seen(r) for r in accepted if r.sent > fault_started]
    if not any(after):
        return None
    backlog_done = max(before, default=fault_started)
    fresh = min(t for t in after if t is not None)
    return round(max(backlog_done, fresh) - fault_started, 1)


def record(figures: Figures) -> None:
    _rows.append(figures)


def rows() -> list[Figures]:
    return list(_rows)


def markdown(figures: list[Figures], when: str) -> str:
    lines = [f"Fault suite (`tests/faults/`), {when}, {platform.node()} ({platform.machine()}, "
             f"Python {platform.python_version()}):", "",
             "| fault | sent | accepted | stored | dead letters | lost | duplicates | recovery s | not accepted |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    for f in figures:
        refused = ", ".join(f"{k} ×{v}" for k, v in sorted(f.refused.items())) or "none"
        dup = f"{f.duplicates} ({f.duplicates_explained} explained)" if f.duplicates else "0"
        recovery = "—" if f.recovery_s is None else f"{f.recovery_s:.1f}"
        lines.append(f"| {f.fault} | {f.sent:,} | {f.accepted:,} | {f.stored:,} | {f.dead_letters:,} | {f.lost} | "
                     f"{dup} | {recovery} | {refused} |")
    notes = [f"- **{f.fault}**: {f.notes}" for f in figures if f.notes]
    return "\n".join(lines + ([""] + notes if notes else [])) + "\n"


def write() -> str | None:
    """Write the session's rows; returns the Markdown table (None when no fault ran)."""
    if not _rows:
        return None
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    REPORT_DIR.mkdir(parents=True, exist_ok=True)
    text = markdown(_rows, when)
    (REPORT_DIR / "report.md").write_text(text)
    (REPORT_DIR / "report.json").write_text(json.dumps({"when": when, "faults": [asdict(f) for f in _rows]},
                                                       indent=2) + "\n")
    return text
