"""Downlink encoding: messages in, the downlink converter's script, payloads out.

    outcomes = encode(converter, inputs, limits=limits, batch=collector, now=now)

Each input is what ThingsBoard's ``Encoder(msg, metadata, msgType, integrationMetadata)`` takes
(the message as JSON text first). The script runs once for the whole batch; each outcome is a
normalised :class:`~converters.downlink_payload.DownlinkPayload` or the error text, and every run is a
converter debug event (under the converter's debug policy) added to ``batch``. Queueing,
delivery and retries are the integrations' (integrations/downlinks/).
"""

import time

from converters import engine, health
from converters.choices import DebugKind
from converters.downlink_payload import DownlinkPayload, normalise_downlink
from converters.engine import Limits
from converters.events import EventBatch
from converters.output import OutputError
from converters.services import describe_error, record_debug

__all__ = ["encode"]


def encode(converter, inputs: list[tuple[str, dict, str, dict]], *, limits: Limits, batch: EventBatch,
           now: int) -> list[tuple[DownlinkPayload | None, str | None]]:
    """One ``(payload, None)`` or ``(None, error)`` per input, in order; see the module docstring."""
    started = time.perf_counter()
    results = engine.encode(converter.engine_key, converter.script_version, converter.script, inputs, limits=limits,
                            lang=converter.script_lang)
    meter = health.Meter()
    meter.add(converter.pk, results, time.perf_counter() - started)
    meter.flush()  # one upsert per batch (converters.health)
    outcomes: list[tuple[DownlinkPayload | None, str | None]] = []
    for (msg, metadata, msg_type, integration_metadata), result in zip(inputs, results, strict=True):
        out, error = None, None
        if result.error is not None:
            error = describe_error(result.error, limits)
        else:
            try:
                out = normalise_downlink(result.output_json)
            except OutputError as e:
                error = f"Invalid converter output: {e}"
        record_debug(converter, msg, "JSON", metadata, result.output_json, error, DebugKind.DOWNLINK,
                     msg_type=msg_type, integration_metadata=integration_metadata, batch=batch, now=now)
        outcomes.append((out, error))
    return outcomes
