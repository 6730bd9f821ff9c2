"""Concurrent misses of one key share one load, per event loop (the ingress's two caches use it).

    lookup = single_flight(lambda key: load(key))   # load: a coroutine function key -> value
    value = await lookup(key)                       # the 20 requests that miss at once: one load

When an entry expires under load every request in flight misses at once; without this each one
would run the same query. A caller that gives up (cancelled, timed out) does not cancel the load
the others wait for.
"""

import asyncio
import weakref
from collections.abc import Awaitable, Callable, Hashable

__all__ = ["single_flight"]


def single_flight(load: Callable[[Hashable], Awaitable]) -> Callable[[Hashable], Awaitable]:
    running: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[Hashable, asyncio.Future]] = \
        weakref.WeakKeyDictionary()

    async def shared(key: Hashable):
        loads = running.setdefault(asyncio.get_running_loop(), {})
        future = loads.get(key)
        if future is None:
            future = loads[key] = asyncio.ensure_future(load(key))
            future.add_done_callback(lambda done: loads.pop(key, None) if loads.get(key) is done else None)
        return await asyncio.shield(future)

    return shared
