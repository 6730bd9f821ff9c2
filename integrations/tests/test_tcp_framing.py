"""TCP framing (integrations/listeners/framing.py): TEXT, BINARY and JSON frames as ThingsBoard's
Netty decoders cut them, whatever the chunks the stream arrives in, and the bad frames they drop."""

import pytest

from integrations.listeners.framing import FrameError, JsonFramer, LengthFieldFramer, TextFramer


def feed_bytewise(framer, data: bytes) -> list:
    out = []
    for i in range(len(data)):
        out += framer.feed(data[i:i + 1])
    return out


def reasons(items) -> list[str]:
    return [i.reason for i in items if isinstance(i, FrameError)]


def frames(items) -> list[bytes]:
    return [i for i in items if not isinstance(i, FrameError)]


# --- TEXT ----------------------------------------------------------------------------------------

def test_text_frames_end_at_line_separators_across_chunks():
    framer = TextFramer([b"\r\n", b"\n"], max_frame_length=128)
    assert framer.feed(b"SN-1,t,1\nSN-2,t,2\r\nSN-") == [b"SN-1,t,1", b"SN-2,t,2"]
    assert framer.feed(b"3,t,3\r") == []
    assert framer.feed(b"\n") == [b"SN-3,t,3"]
    kept = TextFramer([b"\r\n", b"\n"], max_frame_length=128, strip_delimiter=False)
    assert kept.feed(b"a\r\nb\n") == [b"a\r\n", b"b\n"]


def test_text_frames_with_nul_and_custom_separators_split_anywhere():
    assert feed_bytewise(TextFramer([b"\x00"], max_frame_length=16), b"one\x00two\x00") == [b"one", b"two"]
    assert feed_bytewise(TextFramer([b"||"], max_frame_length=16), b"a|b||c||") == [b"a|b", b"c"]


def test_a_text_frame_longer_than_max_frame_length_is_dropped_and_the_stream_carries_on():
    framer = TextFramer([b"\n"], max_frame_length=4)
    out = framer.feed(b"1234\n12345\nok\n")
    assert frames(out) == [b"1234", b"ok"]
    assert reasons(out) == ["Frame of 5 bytes is longer than maxFrameLength (4)"]
    # no delimiter yet: reported as soon as it is too long, discarded up to the next delimiter
    out = framer.feed(b"abcdefgh") + framer.feed(b"ijk\nfine\n")
    assert frames(out) == [b"fine"] and out[0].head == b"abcdefgh"
    assert reasons(out) == ["Frame is longer than maxFrameLength (4) and has no delimiter yet"]


def test_text_frames_are_decoded_with_the_charset_and_handed_on_as_utf8():
    framer = TextFramer([b"\n"], max_frame_length=16, charset="ISO-8859-1")
    assert framer.feed("café\n".encode("latin-1")) == ["café".encode()]


# --- BINARY --------------------------------------------------------------------------------------

def test_binary_frames_as_in_thingsboards_tcp_guide():
    """4 dummy bytes, a 1-byte length (17), the payload; 5 bytes stripped; little endian."""
    framer = LengthFieldFramer(max_frame_length=128, length_field_offset=4, length_field_length=1,
                               initial_bytes_to_strip=5, byte_order="little")
    message = b"0000\x11SN-002default25.7"
    assert framer.feed(message + message[:7]) == [b"SN-002default25.7"]
    assert framer.feed(message[7:]) == [b"SN-002default25.7"]


@pytest.mark.parametrize(("order", "header"), [("big", b"\x00\x07"), ("little", b"\x07\x00")])
def test_binary_length_includes_the_header_with_a_negative_adjustment(order, header):
    framer = LengthFieldFramer(max_frame_length=64, length_field_length=2, length_adjustment=-2,
                               byte_order=order)
    assert feed_bytewise(framer, header + b"abcde" + header + b"fghij") == [header + b"abcde", header + b"fghij"]


def test_binary_three_and_eight_byte_length_fields():
    three = LengthFieldFramer(max_frame_length=64, length_field_length=3, initial_bytes_to_strip=3)
    assert three.feed(b"\x00\x00\x02hi") == [b"hi"]
    eight = LengthFieldFramer(max_frame_length=64, length_field_length=8, initial_bytes_to_strip=8)
    assert eight.feed((2).to_bytes(8, "big") + b"ok") == [b"ok"]
    assert reasons(eight.feed((-1).to_bytes(8, "big", signed=True))) == ["Negative pre-adjustment length field: -1"]


@pytest.mark.parametrize("fail_fast", [True, False])
def test_an_oversize_binary_frame_is_skipped_whole_and_reported(fail_fast):
    framer = LengthFieldFramer(max_frame_length=8, length_field_length=1, initial_bytes_to_strip=1,
                               fail_fast=fail_fast)
    first = framer.feed(b"\x0aabcde")  # 11 bytes announced, 6 here
    second = framer.feed(b"fghij\x02ok")
    reason = "Adjusted frame length exceeds maxFrameLength (8): 11"
    if fail_fast:  # reported when the length field is read
        assert reasons(first) == [reason] and second == [b"ok"]
    else:  # reported once the frame was skipped
        assert first == [] and reasons(second) == [reason] and frames(second) == [b"ok"]


def test_binary_length_fields_that_cannot_be_right_are_reported():
    short = LengthFieldFramer(max_frame_length=64, length_field_length=2, length_adjustment=-5)
    assert reasons(short.feed(b"\x00\x01")) == ["Adjusted frame length (-2) is less than lengthFieldEndOffset: 2"]
    strip = LengthFieldFramer(max_frame_length=64, length_field_length=1, initial_bytes_to_strip=4)
    assert reasons(strip.feed(b"\x01x\x02ab")) == ["Adjusted frame length (2) is less than initialBytesToStrip: 4",
                                                  "Adjusted frame length (3) is less than initialBytesToStrip: 4"]


# --- JSON ----------------------------------------------------------------------------------------

def test_json_frames_are_whole_objects_and_arrays_whatever_the_chunks():
    stream = b' {"name": "x}\\"{", "v": [1, {"n": 2}]}\n[{"name": "y"}]{"z":1}'
    expected = [b'{"name": "x}\\"{", "v": [1, {"n": 2}]}', b'[{"name": "y"}]', b'{"z":1}']
    assert JsonFramer().feed(stream) == expected
    assert feed_bytewise(JsonFramer(), stream) == expected


def test_json_stray_bytes_invalid_and_oversize_objects_are_dropped():
    framer = JsonFramer(max_object_length=32)
    out = feed_bytewise(framer, b'junk {"bad": } {"ok": 1} {"long": "' + b"x" * 40 + b'"} {"after": 2}')
    assert frames(out) == [b'{"ok": 1}', b'{"after": 2}']
    assert reasons(out) == ["Bytes outside a JSON object or array",
                            "Not valid JSON: Expecting value: line 1 column 9 (char 8)",
                            "JSON object longer than 32 bytes"]
