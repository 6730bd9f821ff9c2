"""What the server does for a remote runner's connection; synchronous, called by consumer.py in threads.

    integration = authenticate(key, secret, address)    # None: refused (logged, LC_EVENT FAILED)
    acked = open_session(integration, session, hello, address)
    accept_batch(integration, outbox_id, seq, uplinks)  # "queued" or "duplicate"
    report(integration, status_frame); remote_lifecycle(integration, frame); close_session(...)

The deduplication mark (RemoteStatus.last_seq) moves only after ``queue.accept_many`` returned:
a batch is acknowledged once it is durably queued, and a resent one is queued once.
"""

import dataclasses
import hmac
import logging
import threading
import time

from django.core.exceptions import ValidationError

from converters import history
from converters.engine import Limits
from integrations import events, queue
from integrations.downlinks import delivery
from integrations.messages import RawUplink
from integrations.models import Integration, RemoteStatus
from integrations.remote.protocol import ProtocolError
from integrations.sink import record_dropped, write_status
from tbproject.clock import now_ms
from vault.resolution import SecretError, resolve

__all__ = ["authenticate", "open_session", "close_session", "config_of", "converter_of", "converts_remotely",
           "accept_batch", "report", "remote_lifecycle", "dropped", "current", "REFUSAL_EVENT_EVERY",
           "CONVERT_REMOTELY", "replies_of", "reply_taken"]

log = logging.getLogger(__name__)

#: Seconds between two LC_EVENTs of refused connections of one integration: a remote retrying
#: with a wrong secret every few seconds must not fill the debug events.
REFUSAL_EVENT_EVERY = 60.0
#: The integration configuration's key (ours: ThingsBoard has no such option) that has the
#: remote runner run the uplink converter and send its output with the raw uplink.
CONVERT_REMOTELY = "convertRemotely"
_last_refusal: dict = {}
_lock = threading.Lock()


def _refused(integration: Integration, reason: str, address: str) -> None:
    log.warning("remote integration %s (%s) refused from %s: %s", integration.name, integration.pk, address, reason)
    now = time.monotonic()
    with _lock:
        if now - _last_refusal.get(integration.pk, -REFUSAL_EVENT_EVERY) < REFUSAL_EVENT_EVERY:
            return
        _last_refusal[integration.pk] = now
    events.lifecycle(integration, events.FAILED, error=f"Remote runner connection from {address} refused: {reason}")


def authenticate(key: str, secret: str, address: str) -> Integration | None:
    """The integration whose routing key and secret these are, if it may run remotely; else None.

    Neither the secret sent nor the stored one is ever logged."""
    integration = Integration.objects.filter(routing_key=key).first() if key else None
    if integration is None:
        log.warning("remote integration connection from %s refused: unknown integration key", address)
        return None
    if not integration.remote:
        _refused(integration, "the integration is not set to execute remotely", address)
    elif not integration.secret:
        _refused(integration, "the integration has no secret; set one to run it remotely", address)
    elif not hmac.compare_digest(secret.encode(), integration.secret.encode()):
        _refused(integration, "wrong integration secret", address)
    else:
        return integration
    return None


def current(integration_id) -> Integration | None:
    return Integration.objects.filter(pk=integration_id).select_related("default_converter").first()


def config_of(integration: Integration) -> dict:
    """What the remote runs: the integration as its listener host needs it (secrets included:
    the remote authenticated with the integration's secret, and connects to the devices' broker),
    and with ``convertRemotely`` its uplink converter (converter_of)."""
    config = {"id": str(integration.pk), "name": integration.name, "type": integration.type,
              "enabled": integration.enabled and integration.remote, "version": integration.version,
              "configuration": _resolved(integration),
              "allowCreateDevicesOrAssets": integration.allow_create_devices_or_assets}
    if converts_remotely(integration):
        config["converter"] = converter_of(integration)
    if _answers_next_uplink(integration) and integration.default_converter_id is not None:
        config["replyDecoder"] = converter_of(integration)  # names a request's devices (remote/replies.py)
    return config


def _resolved(integration: Integration):
    """The configuration with the ``${secret:..}`` placeholders of its secret fields resolved
    (vault/resolution.py): the remote connects with the values. One that cannot be resolved goes as stored,
    and the reason is the status (written and logged once, not on every poll of the watcher)."""
    try:
        slots = integration.type_class.secret_keys(integration.configuration)
    except KeyError:  # a type this server does not know: nothing to resolve
        return integration.configuration
    try:
        return resolve(integration.tenant_id, integration.configuration, slots)
    except SecretError as e:
        if integration.last_error != e.message:
            log.warning("remote integration %s: %s", integration.pk, e.message)
            write_status(integration.pk, error=e.message)
            integration.last_error = e.message
        return integration.configuration


def _answers_next_uplink(integration: Integration) -> bool:
    try:
        return integration.type_class.answers_next_uplink()
    except KeyError:  # a type this server does not know
        return False


def replies_of(integration: Integration) -> list:
    """``(id, Downlink)`` of the newest PENDING downlink of each device, for types that answer a
    device's next request: what the remote is offered (``replies``); empty for other types."""
    if not (integration.enabled and _answers_next_uplink(integration)):
        return []
    return [(str(row.pk), delivery.as_message(row)) for row in delivery.newest_pending(integration.pk)]


def reply_taken(integration: Integration, data: dict) -> None:
    """``replyTaken``: the remote answered a device's request with this offered downlink."""
    downlink_id = str(data.get("id") or "")
    try:
        taken = delivery.take_offered(integration, downlink_id) if downlink_id else None
    except (ValueError, ValidationError):
        raise ProtocolError(f"'replyTaken' names no downlink: {downlink_id[:64]!r}") from None
    if taken is None:  # expired, cancelled or superseded meanwhile: the device got it anyway
        log.info("remote integration %s answered with downlink %s, no longer pending", integration.pk, downlink_id)


def converts_remotely(integration: Integration) -> bool:
    configuration = integration.configuration
    return isinstance(configuration, dict) and configuration.get(CONVERT_REMOTELY) is True


def converter_of(integration: Integration) -> dict:
    """The uplink converter the remote runs, as the pipeline would run it (a pinned version's
    stand-in, converters.history), with the server's script limits. The pipeline takes the
    remote's output only while ``key`` and ``version`` are still the ones it would run."""
    converter = integration.default_converter
    if integration.pinned_converter_version is not None:
        converter = history.as_converter(converter, integration.pinned_converter_version) or converter
    return {"id": str(converter.pk), "key": converter.engine_key, "version": converter.version_number,
            "scriptVersion": converter.script_version, "type": converter.type,
            "converterVersion": converter.converter_version, "lang": converter.script_lang,
            "script": converter.script, "configuration": converter.configuration,
            "limits": dataclasses.asdict(Limits.from_settings())}


def _text(value, limit: int = 255) -> str:
    return str(value or "")[:limit]


def open_session(integration: Integration, session: str, hello: dict, address: str) -> int:
    """Record the connection; returns the highest batch of the remote's outbox already queued here."""
    outbox_id = _text(hello.get("outboxId"), 64)
    if not outbox_id:
        raise ProtocolError("'hello' must name the remote's 'outboxId'")
    now = now_ms()
    status, _ = RemoteStatus.objects.get_or_create(integration=integration)
    dropped_before = status.dropped
    fields = ["connected", "session", "address", "version", "host", "connected_ts", "last_seen_ts", "outbox_depth",
              "dropped"]  # not last_seq: an older connection may still be moving it
    if status.outbox_id != outbox_id:
        status.outbox_id, status.last_seq = outbox_id, 0  # a new outbox file numbers from 1 again
        dropped_before = 0
        fields += ["outbox_id", "last_seq"]
    status.connected, status.session, status.address = True, session, _text(address)
    status.version, status.host = _text(hello.get("version"), 64), _text(hello.get("host"))
    status.connected_ts = status.last_seen_ts = now
    status.outbox_depth, status.dropped = _count(hello.get("outboxDepth")), _count(hello.get("dropped"))
    status.save(update_fields=fields)
    _report_dropped(integration, dropped_before, status.dropped)
    write_status(integration.pk, service_id=f"remote:{status.host or address}"[:255])
    log.info("remote integration %s (%s) connected from %s (%s, version %s)", integration.name, integration.pk,
             address, status.host, status.version)
    return status.last_seq


def _count(value) -> int:
    try:
        return max(0, int(value or 0))
    except (TypeError, ValueError):
        return 0


def close_session(integration_id, session: str, *, clean: bool) -> None:
    """The connection ended; a newer session of the same integration is left alone."""
    if RemoteStatus.objects.filter(pk=integration_id, session=session).update(connected=False,
                                                                              last_seen_ts=now_ms()) != 1:
        return
    write_status(integration_id, connected=False)
    integration = current(integration_id)
    if integration is not None and not clean:
        events.lifecycle(integration, events.STOPPED, error="The connection to the remote runner was lost")


def accept_batch(integration: Integration, outbox_id: str, seq: int, uplinks: list[RawUplink]) -> str:
    """Queue a batch once: "queued", or "duplicate" when this (outbox, seq) was queued before."""
    status = RemoteStatus.objects.filter(pk=integration.pk).values_list("outbox_id", "last_seq").first()
    if status is not None and status[0] == outbox_id and seq <= status[1]:
        return "duplicate"
    queue.accept_many(uplinks)
    RemoteStatus.objects.filter(pk=integration.pk, outbox_id=outbox_id, last_seq__lt=seq).update(
        last_seq=seq, last_seen_ts=now_ms())
    return "queued"


def report(integration: Integration, data: dict, last_error: str | None) -> str | None:
    """A ``status`` frame: outbox figures, and the listener's connection and error as the status
    columns (an error that changed also becomes an ERROR event). Returns the error now standing."""
    dropped_now = _count(data.get("dropped"))
    before = RemoteStatus.objects.filter(pk=integration.pk).values_list("dropped", flat=True).first() or 0
    RemoteStatus.objects.filter(pk=integration.pk).update(
        outbox_depth=_count(data.get("outboxDepth")), dropped=dropped_now, last_seen_ts=now_ms())
    _report_dropped(integration, before, dropped_now)
    connected, error = data.get("connected"), data.get("error")
    connected = connected if isinstance(connected, bool) else None
    error = _text(error, 4096) if isinstance(error, str) else None
    if error and error != last_error:
        events.error_event(integration, _text(data.get("method") or "connect", 64), error)
    write_status(integration.pk, connected=connected, error=error)
    return (error or None) if error is not None else last_error


def _report_dropped(integration: Integration, before: int, now: int) -> None:
    if now > before:
        events.error_event(integration, "outbox", f"The remote runner's outbox was full: {now - before} "
                                                  f"uplink(s) dropped ({now} in all)")


def remote_lifecycle(integration: Integration, data: dict, host: str) -> None:
    event = data.get("event")
    if event not in (events.STARTED, events.STOPPED, events.UPDATED, events.FAILED):
        raise ProtocolError(f"unknown lifecycle event {event!r}")
    error = _text(data.get("error"), 4096) or None
    events.lifecycle(integration, event, error=error, server=f"remote:{host}"[:255])
    write_status(integration.pk, connected=event in (events.STARTED, events.UPDATED) and not error,
                 error=error if error else ("" if event == events.STARTED else None))


def dropped(integration: Integration, data: dict) -> None:
    import base64

    try:
        payload = base64.b64decode(data.get("payload") or "")[:1024]
    except ValueError:
        payload = b""
    record_dropped(integration, payload, _text(data.get("reason") or "dropped by the remote runner", 1024))
