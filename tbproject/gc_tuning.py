"""Garbage-collector tuning for the long-running processes (web, worker, integrations).

A worker builds tens of thousands of small objects per uplink batch (messages, points, dicts of
values). CPython's cyclic collector runs a young-generation pass every 700 allocations and walks
ever more long-lived objects as a process grows: py-spy showed 15% of a worker inside object
constructors, which was the collector, and raising the first threshold made a 500-message batch
26% faster. None of these objects form reference cycles that need collecting promptly.

    tune()   # once, after Django is set up: freezes what exists, raises the thresholds

``GC_GEN0_THRESHOLD`` (0 leaves Python's defaults) sets the first threshold; the older
generations keep Python's ratios, so full collections still run, only less often.
"""

import gc

from django.conf import settings

__all__ = ["tune"]


def tune() -> None:
    threshold = settings.GC_GEN0_THRESHOLD
    if threshold <= 0:
        return
    # Objects alive now (modules, settings, Django's app registry) live as long as the process:
    # moved to the permanent generation, no collection walks them again.
    gc.collect()
    gc.freeze()
    _, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(threshold, gen1, gen2)
