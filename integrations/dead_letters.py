"""Dead letters: uplinks that failed conversion or storage, kept whole so they can be replayed.

:func:`replay` re-runs chosen letters (by id, or received in a time range) through the
integration's *current* converter, in pipeline batches. A letter that now stores is marked
replayed (``replayed_ts``) and leaves the pending list; one that fails again keeps its letter with
the new error and stage, ``attempts`` + 1. Replays run even while the integration is disabled
(fix the converter with traffic stopped, replay, enable), count in its statistics, write debug
events under the usual policy, and leave its status columns alone. Telemetry without its own
timestamp is stored at the letter's ``received_ts``, and an attribute is not overwritten by an
older replayed value, so a replay cannot undo newer data.

:func:`prune` (a periodic job) deletes letters older than DEAD_LETTERS_TTL_DAYS. :func:`keep`
makes letters of a whole batch the pipeline could not run at all (an unexpected error).
"""

import base64

from django.conf import settings

from converters.events import truncate
from integrations import pipeline
from integrations.messages import RawUplink
from integrations.models import DeadLetter, Integration
from tbproject.clock import now_ms

__all__ = ["pending", "replay", "prune", "letter_json", "keep"]

DAY_MS = 86_400_000
DELETE_BATCH = 5000


def pending(integration):
    """The integration's letters that were not replayed successfully, oldest first."""
    return DeadLetter.objects.filter(integration=integration, replayed_ts__isnull=True).order_by("received_ts", "pk")


def replay(integration, *, ids=None, start_ts: int | None = None, end_ts: int | None = None,
           limit: int | None = None) -> dict:
    """Re-run the pending letters selected by ``ids`` and/or ``start_ts <= received_ts <= end_ts``.

    Returns ``{"replayed": n, "failed": m, "remaining": k}``; ``remaining`` counts the selected
    letters left for another request because of REPLAY_MAX_MESSAGES."""
    selected = pending(integration)
    if ids is not None:
        selected = selected.filter(pk__in=list(ids))
    if start_ts is not None:
        selected = selected.filter(received_ts__gte=start_ts)
    if end_ts is not None:
        selected = selected.filter(received_ts__lte=end_ts)
    limit = settings.REPLAY_MAX_MESSAGES if limit is None else limit
    letters = list(selected[:limit])
    replayed = failed = 0
    size = settings.UPLINK_BATCH_SIZE
    for start in range(0, len(letters), size):
        chunk = letters[start:start + size]
        ok, bad = _replay_chunk(integration, chunk)
        replayed, failed = replayed + ok, failed + bad
    # The ones that failed again are still pending and selected: they are not "remaining".
    remaining = max(0, selected.count() - failed) if len(letters) == limit else 0
    return {"replayed": replayed, "failed": failed, "remaining": remaining}


def _replay_chunk(integration, letters: list[DeadLetter]) -> tuple[int, int]:
    uplinks = [RawUplink(str(integration.pk), bytes(letter.payload), letter.metadata or {}, letter.received_ts,
                         letter.content_type) for letter in letters]
    outcomes = pipeline.process(uplinks, dead_letters=False, replay=True)
    now = now_ms()
    done, again = [], []
    for letter, outcome in zip(letters, outcomes, strict=True):
        if outcome.status == pipeline.OK:
            done.append(letter.pk)
        else:
            letter.error = outcome.error or "failed again"
            letter.stage = outcome.stage or "provision"  # dropped: the entity may not be created
            letter.attempts += 1
            letter.converter_version = outcome.converter_version or letter.converter_version
            again.append(letter)
    DeadLetter.objects.filter(pk__in=done).update(replayed_ts=now)
    DeadLetter.objects.bulk_update(again, ["error", "stage", "attempts", "converter_version"], batch_size=500)
    return len(done), len(again)


def prune(now: int | None = None) -> int:
    """Delete letters older than DEAD_LETTERS_TTL_DAYS (0 keeps them); returns how many."""
    ttl = int(settings.DEAD_LETTERS_TTL_DAYS)
    if ttl <= 0:
        return 0
    cutoff = (now_ms() if now is None else now) - ttl * DAY_MS
    expired = DeadLetter.objects.filter(received_ts__lt=cutoff)
    deleted = 0
    while pks := list(expired.values_list("pk", flat=True)[:DELETE_BATCH]):
        deleted += DeadLetter.objects.filter(pk__in=pks).delete()[0]
    return deleted


def letter_json(letter: DeadLetter) -> dict:
    """A letter as the deadLetters API shows it; the payload as text for JSON/TEXT, else base64."""
    raw = bytes(letter.payload)
    payload = None
    if letter.content_type in ("JSON", "TEXT"):
        try:
            payload = raw.decode("utf-8")
        except UnicodeDecodeError:
            payload = None
    return {
        "id": {"id": str(letter.pk)},
        "integrationId": {"entityType": "INTEGRATION", "id": str(letter.integration_id)},
        "receivedTs": letter.received_ts,
        "createdTime": letter.received_ts,
        "contentType": letter.content_type,
        "payload": payload if payload is not None else base64.b64encode(raw).decode("ascii"),
        "payloadEncoding": "text" if payload is not None else "base64",
        "metadata": letter.metadata,
        "error": letter.error,
        "stage": letter.stage,
        "attempts": letter.attempts,
        "replayedTs": letter.replayed_ts,
        "converterVersionNumber": letter.converter_version,
    }


def keep(uplinks: list[RawUplink], error: str, stage: str = "pipeline") -> int:
    """Dead letters for ``uplinks`` as they came (uplinks of deleted integrations are dropped, as
    the pipeline drops them); returns how many were written."""
    tenants = {str(pk): tenant for pk, tenant in
               Integration.objects.filter(pk__in={u.integration_id for u in uplinks}).values_list("pk", "tenant_id")}
    letters = [DeadLetter(tenant_id=tenants[str(u.integration_id)], integration_id=u.integration_id,
                          received_ts=u.received_ts or now_ms(), payload=u.payload, metadata=u.metadata,
                          content_type=u.content_type or "BINARY", error=truncate(error, pipeline.MAX_ERROR),
                          stage=stage)
               for u in uplinks if str(u.integration_id) in tenants]
    DeadLetter.objects.bulk_create(letters, batch_size=500)
    return len(letters)
