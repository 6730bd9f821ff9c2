"""ThingsBoard's rate-limit strings: ``"100:1,2000:60"`` = at most 100 per second AND 2000 per minute.

Each ``capacity:seconds`` pair is one token bucket of ``capacity`` tokens refilled evenly over
``seconds`` (ThingsBoard's greedy refill). An empty string or None means no limit.
"""

from dataclasses import dataclass

__all__ = ["Window", "parse", "validate", "describe", "retry_after"]


@dataclass(frozen=True, slots=True)
class Window:
    capacity: int
    seconds: int

    @property
    def interval_ms(self) -> float:
        """Milliseconds between two refilled tokens."""
        return self.seconds * 1000 / self.capacity


def parse(text: str | None) -> tuple[Window, ...]:
    """The windows of a limit string; () for no limit. Raises ValueError with the reason."""
    if text is None:
        return ()
    if not isinstance(text, str):
        raise ValueError(f"a rate limit is a string like '100:1,2000:60', not {type(text).__name__}")
    windows = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        capacity, sep, seconds = part.partition(":")
        try:
            window = Window(int(capacity), int(seconds))
        except ValueError:
            raise ValueError(f"'{part[:40]}' is not <count>:<seconds>, e.g. '100:1'") from None
        if not sep or window.capacity <= 0 or window.seconds <= 0:
            raise ValueError(f"'{part[:40]}' needs a positive count and a positive number of seconds")
        windows.append(window)
    return tuple(windows)


def validate(text) -> str | None:
    """Why ``text`` is not a rate limit, or None when it is one (or empty)."""
    try:
        parse(text)
    except ValueError as e:
        return str(e)
    return None


def describe(windows: tuple[Window, ...]) -> str:
    return ",".join(f"{w.capacity}:{w.seconds}" for w in windows)


def retry_after(wait_ms: int) -> int:
    """A refusal's wait as the ``Retry-After`` header gives it: whole seconds, at least 1."""
    return max(1, -(-wait_ms // 1000))
