"""The pipeline's conversion step (integrations/pipeline.py): the uplink converters of a batch.

    convert(messages)   # each message gets input, ran, skipped, updates / warnings, or fails

Each converter runs once over all its messages of the batch (several integrations may share
one; an integration pinned to an older version runs apart). A typed converter or a TS013 codec
first gets the network server's envelope unwrapped (converters.uplink.prepare); the result is
normalised (converters.uplink.interpret). Messages over the tenant's
converterExecutionsPerTenantRateLimit are deferred.

A message a remote runner already converted (RawUplink.conversion: the integration's
``convertRemotely``, remote/convert.py) takes the remote's output, error or skip instead of a
run here, provided the remote ran the converter version this server would run now (engine key
and version number); otherwise, a converter saved while the remote's batch was on its way, it
is converted here from its raw payload. A remote's run is not rate limited again: it happened.
"""

import time

from converters import engine, health, uplink
from converters.engine import Limits
from converters.output import OutputError
from converters.services import describe_error
from tenants import limits as rate_limits

__all__ = ["convert", "normalise"]


def convert(messages: list) -> None:
    """Run each converter once over all its messages (pipeline._Message) of the batch."""
    limits = Limits.from_settings()
    meter = health.Meter()
    by_converter: dict = {}
    keys: dict = {}  # id(integration) -> its converter's engine key (a property: formatted each time)
    for message in messages:  # by engine key: an integration pinned to an older version runs apart
        integration = message.integration
        key = keys.get(id(integration))
        if key is None:
            key = keys[id(integration)] = integration.default_converter.engine_key
        by_converter.setdefault(key, []).append(message)
    for group in by_converter.values():
        converter = group[0].integration.default_converter
        runnable = []
        for message in group:  # unwrap network-server envelopes for typed converters and TS013 codecs
            if _converted_remotely(message, converter, limits, meter):
                continue
            item = message.input = uplink.prepare(converter, message.integration.type, message.uplink.payload,
                                                  message.uplink.metadata)
            if item.dropped:  # a join/status/ack event: nothing to convert, not an error
                message.skipped = item.dropped
            elif item.error:
                message.fail("convert", item.error)
            else:
                runnable.append(message)
        runnable = _within_limit(runnable)
        if not runnable:
            continue
        started = time.perf_counter()
        results = engine.decode(converter.engine_key, converter.script_version, converter.script,
                                [(m.input.payload, m.input.metadata) for m in runnable], limits=limits,
                                lang=converter.script_lang)
        meter.add(converter.pk, results, time.perf_counter() - started)
        for message, result in zip(runnable, results, strict=True):
            message.ran = True
            if result.error is not None:
                message.fail("convert", describe_error(result.error, limits))
            else:
                normalise(message, converter, result.output_json)
    meter.flush()  # one upsert per converter of the batch (converters.health)


def _converted_remotely(message, converter, limits: Limits, meter: health.Meter) -> bool:
    """Take the remote runner's conversion of ``message`` if it ran the version that runs here."""
    done = message.uplink.conversion
    if done is None or done["converter"] != converter.engine_key or done["version"] != converter.version_number:
        return False
    raw = message.uplink
    message.input = uplink.Prepared(raw.payload, done.get("metadata", raw.metadata))
    message.server = done.get("server") or None
    message.ran = True
    meter.add_counts(converter.pk, 1, int("error" in done), done.get("us", 0) / 1_000_000)
    if "error" in done:
        message.fail("convert", describe_error(done["error"], limits))
    else:
        normalise(message, converter, done["output"])
    return True


def _within_limit(runnable: list) -> list:
    """The messages the tenant's converterExecutionsPerTenantRateLimit lets run now; the rest are deferred."""
    if not runnable:
        return runnable
    tenant_id = runnable[0].integration.tenant_id
    tenant_limits = rate_limits.limits_of(tenant_id)
    granted, wait_ms = rate_limits.take_with(tenant_limits, rate_limits.CONVERTER_TENANT, tenant_id, len(runnable),
                                             partial=True)
    if granted < len(runnable):
        windows = rate_limits.describe(tenant_limits.windows(rate_limits.CONVERTER_TENANT))
        for message in runnable[granted:]:
            message.defer(max(wait_ms, 1), f"Converter executions over the rate limit "
                                           f"{rate_limits.CONVERTER_TENANT} ({windows}): deferred")
    return runnable[:granted]


def normalise(message, converter, output_json: str) -> None:
    message.output_json = output_json
    try:
        interpreted = uplink.interpret(converter, output_json, message.input.metadata,
                                       server_ts=message.uplink.received_ts)
    except uplink.ConvertError as e:
        message.fail("convert", str(e))
    except OutputError as e:
        message.fail("validate", f"Invalid converter output: {e}")
    else:
        message.updates, message.warnings = interpreted.updates, interpreted.warnings
