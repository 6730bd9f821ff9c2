"""Block-wise transfers (RFC 7959) of the device CoAP transport, bounded (aiocoap's own spool and cache keep any
number of them, for anyone):

- :class:`Uploads` assembles Block1 requests: at most MAX_UPLOADS_PER_SENDER at once per sender address and
  MAX_UPLOADS in all (past either a new one is :class:`Full`, 5.03); the site admits an upload (path, token) before
  its first block is kept.
- :class:`Downloads` keeps bodies sent block-wise (a response or an observe notification over one block) for the
  client's follow-up Block2 requests: MAX_BODIES_PER_SENDER per sender and MAX_BODY_BYTES in all (the oldest go
  first); a body over MAX_BODY_BYTES is not kept. Packages are read block by block from the database instead.

Both keep a transfer LIFETIME seconds after its last block (RFC 7252's MAX_TRANSMIT_WAIT).
"""

import time
from collections import OrderedDict

import aiocoap
from aiocoap import error
from aiocoap.numbers.optionnumbers import OptionNumber
from aiocoap.optiontypes import BlockOption

__all__ = ["Uploads", "Downloads", "Full", "Incomplete", "key", "first_block", "LIFETIME", "MAX_UPLOADS",
           "MAX_UPLOADS_PER_SENDER", "MAX_BODY_BYTES", "MAX_BODIES_PER_SENDER"]

LIFETIME = 93.0
MAX_UPLOADS = 256
MAX_UPLOADS_PER_SENDER = 4
MAX_BODY_BYTES = 16 * 1024 * 1024
MAX_BODIES_PER_SENDER = 8
_IGNORED = [OptionNumber.BLOCK1, OptionNumber.BLOCK2, OptionNumber.OBSERVE]


class Full(Exception):
    """Too many transfers at once (5.03)."""


class Incomplete(Exception):
    """A block of no transfer kept here, or one that does not follow on (4.08 Request Entity Incomplete)."""


def key(request) -> tuple:
    """What every block of one transfer shares (aiocoap's block key: the sender, the method, the options)."""
    return request.remote.blockwise_key, request.code, request.get_cache_key(_IGNORED)


class Uploads:
    def __init__(self):
        self._parts: dict[tuple, list] = {}  # key -> [expires, sender, the request assembled so far]

    def _prune(self, now: float) -> None:
        for gone in [k for k, entry in self._parts.items() if entry[0] < now]:
            del self._parts[gone]

    def count(self) -> int:
        return len(self._parts)

    def feed(self, request, sender: str):
        """The whole request once its last block came (``request`` itself when not block-wise), else None."""
        block1 = request.opt.block1
        if block1 is None:
            return request
        now = time.monotonic()
        self._prune(now)
        k = key(request)
        if block1.block_number == 0:
            if k not in self._parts and (len(self._parts) >= MAX_UPLOADS or sum(
                    1 for entry in self._parts.values() if entry[1] == sender) >= MAX_UPLOADS_PER_SENDER):
                raise Full()
            self._parts[k] = [now + LIFETIME, sender, request]
        else:
            entry = self._parts.get(k)
            if entry is None:
                raise Incomplete()
            try:
                entry[2]._append_request_block(request)
            except (ValueError, error.Error):
                del self._parts[k]
                raise Incomplete() from None
            entry[0] = now + LIFETIME
        if block1.more:
            return None
        return self._parts.pop(k)[2]


class Downloads:
    def __init__(self):
        self._bodies: OrderedDict[tuple, tuple] = OrderedDict()  # key -> (expires, sender, response)
        self._bytes = 0

    def _drop(self, k) -> None:
        self._bytes -= len(self._bodies.pop(k)[2].payload)

    def keep(self, k: tuple, sender: str, response) -> None:
        now = time.monotonic()
        if k in self._bodies:
            self._drop(k)
        for gone in [old for old, entry in self._bodies.items() if entry[0] < now]:
            self._drop(gone)
        size = len(response.payload)
        if size > MAX_BODY_BYTES:
            return
        mine = [old for old, entry in self._bodies.items() if entry[1] == sender]
        for old in mine[:max(len(mine) + 1 - MAX_BODIES_PER_SENDER, 0)]:
            self._drop(old)
        while self._bodies and self._bytes + size > MAX_BODY_BYTES:
            self._drop(next(iter(self._bodies)))
        self._bodies[k] = (now + LIFETIME, sender, response)
        self._bytes += size

    def block(self, request):
        """The block ``request`` (Block2 number > 0) asks for of the body kept for its transfer."""
        entry = self._bodies.get(key(request))
        if entry is None or entry[0] < time.monotonic():
            raise Incomplete()
        block2 = request.opt.block2
        try:
            return entry[2]._extract_block(block2.block_number, block2.size_exponent,
                                           request.remote.maximum_payload_size)
        except error.Error:
            raise Incomplete() from None

    def count(self) -> int:
        return len(self._bodies)


def first_block(downloads: Downloads, request, response, sender: str, k: tuple | None = None):
    """``response``, or its first block (the whole body kept in ``downloads``) when it is over one block."""
    block2 = request.opt.block2
    limit = request.remote.maximum_payload_size
    if len(response.payload) <= limit and (block2 is None or len(response.payload) <= block2.size):
        return response
    downloads.keep(key(request) if k is None else k, sender, response)
    block2 = block2 or BlockOption.BlockwiseTuple(0, 0, request.remote.maximum_block_size_exp)
    return response._extract_block(0, block2.size_exponent, limit)


def too_large(max_bytes: int) -> aiocoap.Message:
    message = aiocoap.Message(code=aiocoap.REQUEST_ENTITY_TOO_LARGE)
    message.opt.size1 = max_bytes
    return message
