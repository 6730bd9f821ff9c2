"""Back-off of Celery retries, kept below the broker's visibility timeout.

Redis hands a task message to another worker (or the same one) when the worker it was delivered
to has not acknowledged it within BROKER_VISIBILITY_TIMEOUT seconds: that is how the messages of
a killed worker come back. A retry scheduled further ahead than that is held, unacknowledged, by
a live worker for longer, so Redis would hand it out a second time and it would run twice.
"""

from django.conf import settings

__all__ = ["countdown", "capped"]


def countdown(retries: int, longest: float) -> float:
    """Seconds before retry number ``retries`` (0 first): 5, 10, 20 ... up to ``longest``, and
    never more than half the broker's visibility timeout."""
    return capped(min(longest, 5 * 2 ** retries))


def capped(seconds: float) -> float:
    """``seconds``, or half the broker's visibility timeout when that is shorter."""
    return min(seconds, settings.BROKER_VISIBILITY_TIMEOUT / 2)
