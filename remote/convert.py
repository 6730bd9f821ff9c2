"""The uplink converter on the remote runner (integration configuration ``convertRemotely``).

The server sends the converter with the configuration (``config`` frame, ``converter``: script,
language, versions, the converter's configuration and the server's script limits) and again
whenever it is saved. It runs here in the same engine as on the server (converters/engine: the
QuickJS-ng worker pool, its limits and watchdog), after the same envelope unwrapping
(converters.uplink.prepare); neither needs Django settings or a database.

    converter = LocalConverter(spec, integration_type)
    uplinks = await converter.convert(uplinks)   # RawUplinks with ``conversion`` set

An uplink the script ran on carries ``{converter, version, output | error, metadata?, us}``
(integrations/remote/protocol.py) beside its raw payload; the server stores the output, or
dead-letters the raw payload with the error, and records the converter's debug event. What the
script did not run on travels raw and the server converts it as usual: an envelope without an
uplink or one that cannot be unwrapped (the server's own checks say so again), an output over
MAX_OUTPUT_CHARS, and everything while the engine cannot start here (EngineError, logged).
"""

import asyncio
import dataclasses
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

from converters import engine, uplink
from converters.engine import EngineError, Limits
from integrations.messages import RawUplink

__all__ = ["LocalConverter", "MAX_OUTPUT_CHARS"]

log = logging.getLogger(__name__)

#: A larger output travels raw (the server converts it): a batch frame stays within its size.
MAX_OUTPUT_CHARS = 256 * 1024

_LIMIT_FIELDS = {f.name for f in dataclasses.fields(Limits)}
_executor: ThreadPoolExecutor | None = None
_lock = threading.Lock()


def _threads() -> ThreadPoolExecutor:
    """Threads that wait for the engine's workers, off the runner's event loop."""
    global _executor
    with _lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(2, thread_name_prefix="remote-converter")
        return _executor


class LocalConverter:
    def __init__(self, spec: dict, integration_type: str):
        """``spec``: the config frame's ``converter``; ValueError/KeyError/TypeError when it is not one."""
        self.spec, self.integration_type = spec, integration_type
        self.key, self.version = str(spec["key"]), int(spec["version"])
        self.script_version = int(spec.get("scriptVersion") or 0)
        self.script, self.lang = str(spec["script"]), str(spec.get("lang") or "JS")
        limits = spec.get("limits") or {}
        self.limits = Limits(**{k: int(v) for k, v in limits.items() if k in _LIMIT_FIELDS})
        # what converters.uplink.prepare and converters.ts013 read of a Converter row
        self.stand_in = SimpleNamespace(type=str(spec.get("type") or "UPLINK"), script=self.script,
                                        converter_version=int(spec.get("converterVersion") or 1),
                                        configuration=spec.get("configuration") or {}, engine_key=self.key,
                                        script_version=self.script_version, script_lang=self.lang)

    def __str__(self) -> str:
        return f"{self.key} version {self.version} ({self.lang})"

    async def convert(self, uplinks: list[RawUplink]) -> list[RawUplink]:
        try:
            return await asyncio.get_running_loop().run_in_executor(_threads(), self.run, uplinks)
        except EngineError as exc:
            log.warning("the converter cannot run on this machine (%s): %d uplink(s) go raw, the server converts "
                        "them", exc, len(uplinks))
            return uplinks

    async def devices_of(self, raw: RawUplink) -> list[str]:
        """The devices the script names for ``raw`` (remote/replies.py); EngineError if it cannot run."""
        return await asyncio.get_running_loop().run_in_executor(_threads(), self.devices, raw)

    def devices(self, raw: RawUplink) -> list[str]:
        return uplink.device_names(self.stand_in, self.integration_type, raw.payload, raw.metadata,
                                   limits=self.limits)

    def run(self, uplinks: list[RawUplink]) -> list[RawUplink]:
        """The uplinks, those the script ran on with their ``conversion`` (blocking: a thread's job)."""
        runnable = []
        for n, raw in enumerate(uplinks):
            item = uplink.prepare(self.stand_in, self.integration_type, raw.payload, raw.metadata)
            if not (item.dropped or item.error):
                runnable.append((n, item))
        if not runnable:
            return uplinks
        started = time.perf_counter()
        results = engine.decode(self.key, self.script_version, self.script,
                                [(item.payload, item.metadata) for _, item in runnable], limits=self.limits,
                                lang=self.lang)
        us = int((time.perf_counter() - started) * 1_000_000 / len(runnable))
        out = list(uplinks)
        for (n, item), result in zip(runnable, results, strict=True):
            if result.error is None and len(result.output_json) > MAX_OUTPUT_CHARS:
                continue
            done = {"converter": self.key, "version": self.version, "us": us}
            if result.error is not None:
                done["error"] = result.error
            else:
                done["output"] = result.output_json
            if item.metadata is not uplinks[n].metadata:  # unwrapped: the network fields the script saw
                done["metadata"] = item.metadata
            out[n] = dataclasses.replace(uplinks[n], conversion=done)
        return out
