"""Splitting a TCP byte stream into frames, as ThingsBoard's TCP integration (Netty decoders) does.

    framer = make_framer(handler_configuration)     # TEXT, BINARY or JSON (types/tcp.py schemas)
    for item in framer.feed(chunk):                 # each call: what this chunk completed
        if isinstance(item, FrameError): ...        # dropped bytes and why; the stream carries on
        else: ...                                   # one frame: bytes for the uplink converter

- TEXT: Netty's ``DelimiterBasedFrameDecoder`` with fail-fast: frames end at the delimiter
  (``\\n`` or ``\\r\\n``, NUL, or a custom string), which is stripped when ``stripDelimiter``; a
  frame longer than ``maxFrameLength`` is reported as soon as that many bytes are buffered and
  discarded through the next delimiter. The frame is decoded with ``charsetName`` and handed on
  as UTF-8.
- BINARY: Netty's ``LengthFieldBasedFrameDecoder``: the length field at ``lengthFieldOffset``
  (``lengthFieldLength`` bytes, ``byteOrder``) plus ``lengthAdjustment`` plus the end offset of
  the field is the frame length; ``initialBytesToStrip`` bytes are cut off its front. An
  oversize frame is skipped whole and reported at once (``failFast``) or once it was skipped.
- JSON: Netty's ``JsonObjectDecoder``: each top-level ``{...}`` or ``[...]`` (braces counted
  outside strings) is one frame; whitespace between them is skipped. Unlike Netty, bytes that
  cannot start a JSON value are dropped up to the next ``{``/``[`` instead of closing the stream,
  and a frame that does not parse as JSON is dropped rather than handed to the converter.
"""

import codecs
import json
import re
from dataclasses import dataclass

__all__ = ["FrameError", "TextFramer", "LengthFieldFramer", "JsonFramer", "make_framer", "HEAD_BYTES",
           "JSON_MAX_OBJECT_LENGTH"]

#: How much of a dropped frame is kept for its debug event.
HEAD_BYTES = 1024
#: Netty's JsonObjectDecoder default; ThingsBoard's JSON handler has no maxFrameLength.
JSON_MAX_OBJECT_LENGTH = 1024 * 1024


@dataclass(frozen=True, slots=True)
class FrameError:
    """Bytes the framer dropped: ``head`` is their beginning (for the debug event)."""

    reason: str
    head: bytes = b""


class TextFramer:
    """Delimiter-based frames; ``delimiters`` are tried together, the nearest one wins."""

    def __init__(self, delimiters: list[bytes], *, max_frame_length: int, strip_delimiter: bool = True,
                 charset: str = "UTF-8"):
        self.delimiters = sorted(delimiters, key=len, reverse=True)  # "\r\n" before "\n" at one index
        self.max, self.strip = max_frame_length, strip_delimiter
        self.charset = codecs.lookup(charset).name
        self._buf = bytearray()
        self._discarding = False

    def _find(self, pos: int, found: dict) -> tuple[int, int]:
        """The nearest delimiter at or after ``pos``; ``found`` remembers each one's next index
        (-1: none left) during one feed, so that a chunk of many frames is scanned once."""
        best, size = -1, 0
        for delimiter in self.delimiters:
            index = found.get(delimiter, -2)
            if index == -2 or 0 <= index < pos:
                index = found[delimiter] = self._buf.find(delimiter, pos)
            if index >= 0 and (best < 0 or index < best):
                best, size = index, len(delimiter)
        return best, size

    def _text(self, frame: bytes) -> bytes:
        if self.charset == "utf-8":
            return frame
        return frame.decode(self.charset, errors="replace").encode("utf-8")

    def feed(self, data: bytes) -> list:
        buf, out, pos, found = self._buf, [], 0, {}
        buf += data
        while True:
            index, size = self._find(pos, found)
            if index < 0:
                break
            if self._discarding:  # the rest of an oversize frame, reported when it was detected
                self._discarding = False
            elif index - pos > self.max:
                out.append(FrameError(f"Frame of {index - pos} bytes is longer than maxFrameLength ({self.max})",
                                      bytes(buf[pos:min(index, pos + HEAD_BYTES)])))
            else:
                out.append(self._text(bytes(buf[pos:index if self.strip else index + size])))
            pos = index + size
        if self._discarding:
            pos = len(buf)
        elif len(buf) - pos > self.max:
            out.append(FrameError(f"Frame is longer than maxFrameLength ({self.max}) and has no delimiter yet",
                                  bytes(buf[pos:pos + HEAD_BYTES])))
            self._discarding, pos = True, len(buf)
        del buf[:pos]
        return out


class LengthFieldFramer:
    """Length-field frames with Netty's LengthFieldBasedFrameDecoder semantics."""

    def __init__(self, *, max_frame_length: int, length_field_offset: int = 0, length_field_length: int = 4,
                 length_adjustment: int = 0, initial_bytes_to_strip: int = 0, byte_order: str = "big",
                 fail_fast: bool = True):
        self.max, self.offset, self.size = max_frame_length, length_field_offset, length_field_length
        self.adjustment, self.strip, self.order = length_adjustment, initial_bytes_to_strip, byte_order
        self.fail_fast = fail_fast
        self.end_offset = length_field_offset + length_field_length
        self._buf = bytearray()
        self._to_discard = 0
        self._pending: FrameError | None = None  # reported once the oversize frame is skipped

    def feed(self, data: bytes) -> list:
        buf, out, pos = self._buf, [], 0
        buf += data
        while True:
            if self._to_discard:
                skipped = min(self._to_discard, len(buf) - pos)
                pos += skipped
                self._to_discard -= skipped
                if self._to_discard:
                    break
                if self._pending is not None:
                    out.append(self._pending)
                    self._pending = None
            available = len(buf) - pos
            if available < self.end_offset:
                break
            raw = int.from_bytes(buf[pos + self.offset:pos + self.end_offset], self.order, signed=self.size == 8)
            length = raw + self.adjustment + self.end_offset

            def head(pos=pos, length=length):
                return bytes(buf[pos:pos + min(HEAD_BYTES, max(length, self.end_offset))])

            if raw < 0:
                out.append(FrameError(f"Negative pre-adjustment length field: {raw}", head()))
                pos += self.end_offset
            elif length < self.end_offset:
                out.append(FrameError(f"Adjusted frame length ({length}) is less than lengthFieldEndOffset: "
                                      f"{self.end_offset}", head()))
                pos += self.end_offset
            elif length > self.max:
                error = FrameError(f"Adjusted frame length exceeds maxFrameLength ({self.max}): {length}", head())
                skipped = min(length, available)
                pos += skipped
                self._to_discard = length - skipped
                if not self._to_discard or self.fail_fast:
                    out.append(error)
                else:
                    self._pending = error
            elif available < length:
                break
            elif self.strip > length:
                out.append(FrameError(f"Adjusted frame length ({length}) is less than initialBytesToStrip: "
                                      f"{self.strip}", head()))
                pos += length
            else:
                out.append(bytes(buf[pos + self.strip:pos + length]))
                pos += length
        del buf[:pos]
        return out


_SPECIAL = re.compile(rb'[{}\[\]"]')
_STRING_END = re.compile(rb'[\\"]')
_NOT_SPACE = re.compile(rb"[^ \t\r\n]")
_OPENER = re.compile(rb"[{\[]")


class JsonFramer:
    """Top-level JSON objects and arrays out of a stream, by counting brackets outside strings."""

    def __init__(self, *, max_object_length: int = JSON_MAX_OBJECT_LENGTH):
        self.max = max_object_length
        self._buf = bytearray()
        self._depth = self._pos = self._start = 0  # scan position and object start in _buf
        self._in_string = self._escape = self._discarding = self._garbage = False

    def feed(self, data: bytes) -> list:
        buf, out, pos, start = self._buf, [], self._pos, self._start
        buf += data
        while pos < len(buf):
            if not self._depth:
                match = _NOT_SPACE.search(buf, pos)
                if match is None:
                    pos = len(buf)
                    break
                pos = match.start()
                if buf[pos] in b"{[":
                    start, self._depth, pos, self._garbage = pos, 1, pos + 1, False
                    continue
                opener = _OPENER.search(buf, pos)
                end = opener.start() if opener else len(buf)
                if not self._garbage:  # one event per run of stray bytes, however it arrives
                    out.append(FrameError("Bytes outside a JSON object or array",
                                          bytes(buf[pos:min(end, pos + HEAD_BYTES)])))
                self._garbage, pos = opener is None, end
                continue
            if self._in_string:
                if self._escape:
                    self._escape, pos = False, pos + 1
                    continue
                match = _STRING_END.search(buf, pos)
                if match is None:
                    pos = len(buf)
                    break
                pos = match.start() + 1
                if buf[match.start()] == 0x5C:  # backslash: the next byte is escaped
                    self._escape = True
                else:
                    self._in_string = False
                continue
            match = _SPECIAL.search(buf, pos)
            if match is None:
                pos = len(buf)
                break
            char, pos = buf[match.start()], match.start() + 1
            if char == 0x22:
                self._in_string = True
            elif char in b"{[":
                self._depth += 1
            else:
                self._depth -= 1
                if not self._depth:
                    if self._discarding:
                        self._discarding = False
                    else:
                        out.append(_parsed(bytes(buf[start:pos])))
        if self._depth and not self._discarding and len(buf) - start > self.max:
            out.append(FrameError(f"JSON object longer than {self.max} bytes", bytes(buf[start:start + HEAD_BYTES])))
            self._discarding = True
        keep = start if self._depth and not self._discarding else pos
        del buf[:keep]
        self._pos, self._start = pos - keep, 0
        return out


def _parsed(frame: bytes):
    try:
        json.loads(frame)
    except ValueError as exc:
        return FrameError(f"Not valid JSON: {exc}", frame[:HEAD_BYTES])
    return frame


#: ThingsBoard's messageSeparator -> delimiters (SYSTEM_LINE_SEPARATOR: Netty's line delimiters)
SEPARATORS = {"SYSTEM_LINE_SEPARATOR": [b"\r\n", b"\n"], "NUL_DELIMITER": [b"\x00"]}


def make_framer(handler):
    """A fresh framer (one per connection) for a TCP ``handlerConfiguration`` (types/tcp.py)."""
    if handler.handlerType == "TEXT":
        if handler.messageSeparator == "CUSTOM_SEPARATOR":
            delimiters = [handler.customSeparator.encode(handler.charsetName)]
        else:
            delimiters = SEPARATORS[handler.messageSeparator]
        return TextFramer(delimiters, max_frame_length=handler.maxFrameLength,
                          strip_delimiter=handler.stripDelimiter, charset=handler.charsetName)
    if handler.handlerType == "BINARY":
        return LengthFieldFramer(max_frame_length=handler.maxFrameLength,
                                 length_field_offset=handler.lengthFieldOffset,
                                 length_field_length=handler.lengthFieldLength,
                                 length_adjustment=handler.lengthAdjustment,
                                 initial_bytes_to_strip=handler.initialBytesToStrip,
                                 byte_order="little" if handler.byteOrder == "LITTLE_ENDIAN" else "big",
                                 fail_fast=handler.failFast)
    return JsonFramer()
