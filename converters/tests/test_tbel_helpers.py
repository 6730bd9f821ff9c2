"""ThingsBoard's TBEL helpers (TbUtils) with the behaviour ThingsBoard documents, run through the
engine: bytes/hex/base64, number parsing with offsets, lengths and endianness, toFixed, toFlatMap."""

import json

import pytest

from converters import engine


def run(body: str, payload: bytes = b""):
    result = engine.decode(None, 0, body, [(payload, {})], lang="TBEL")[0]
    assert result.error is None, result.error
    return json.loads(result.output_json)


def value(expr: str, payload: bytes = b""):
    return run(f"return {expr};", payload)


def error(expr: str) -> str:
    result = engine.decode(None, 0, f"return {expr};", [(b"", {})], lang="TBEL")[0]
    assert result.error is not None, result.output_json
    return result.error


@pytest.mark.parametrize("expr, expected", [
    ("parseBytesToInt([0xAA, 0xBB, 0xCC, 0xDD], 0, 3, true)", 0xAABBCC),
    ("parseBytesToInt([0xAA, 0xBB, 0xCC, 0xDD], 0, 3, false)", 0xCCBBAA),
    ("parseBytesToInt([0xAA, 0xBB, 0xCC, 0xDD], 0, 4)", -1430532899),
    ("parseBytesToInt([0x01, 0x02], 0, 2)", 258),
    ("parseBytesToInt([0x00, 0x01, 0x02], 1)", 258),
    ("parseBytesToInt(base64ToBytes('AQID'), 1, 2)", 0x0203),
    ('"" + parseBytesToLong([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE], 0, 8)', "-2"),
    ("parseBytesToLong([0x01, 0x02, 0x03, 0x04, 0x05], 0, 5) / 2", 0x0102030405 // 2),
    ("parseBytesToLong([0x01, 0x02], 0, 2, false)", 0x0201),
    ("parseBytesToFloat([0x44, 0xBB, 0x93, 0x33])", 1500.6),
    ("parseBytesToFloat([0x33, 0x93, 0xBB, 0x44], 0, 4, false)", 1500.6),
    ("parseBytesToDouble([0x40, 0x09, 0x21, 0xFB, 0x54, 0x44, 0x2D, 0x18])", 3.141592653589793),
    ("parseBytesIntToFloat([0x00, 0x0A], 0, 2)", 10.0),
    ("parseBytesToInt(payload, 0, 2)", 0xFF01),
])
def test_parse_bytes(expr, expected):
    assert value(expr, bytes([0xFF, 0x01])) == expected


def test_parse_bytes_refuses_a_bad_range_or_length():
    assert "out of bounds" in error("parseBytesToInt([1, 2], 1, 2)")
    assert "too large" in error("parseBytesToInt([1, 2, 3, 4, 5], 0, 5)")


@pytest.mark.parametrize("expr, expected", [
    ("hexToBytes('BBAA')", [-69, -86]),
    ("hexToBytes('0x01FF')", [1, -1]),
    ("bytesToHex([-69, -86])", "BBAA"),
    ("bytesToHex(base64ToBytes('Kkk='))", "2A49"),
    ("base64ToHex('Kkk=')", "2A49"),
    ("hexToBase64('2A49')", "Kkk="),
    ("bytesToBase64([42, 73])", "Kkk="),
    ("base64ToBytes('Kkk=')", "Kkk="),  # a byte[] in a result is written as base64, as Jackson does
    ("byteArrayToExecutionArrayList(base64ToBytes('Kkk='))", [42, 73]),
    ("base64ToBytes('Kkk=').length", 2),
    ("decodeToString([0x48, 0x69, 0xC3, 0xA9])", "Hié"),
    ("bytesToString([0x48, 0x69])", "Hi"),
    ("stringToBytes('Hié')", [72, 105, -61, -87]),
    ("decodeToJson('{\"a\": [1, 2]}')", {"a": [1, 2]}),
    ("btoa('Hello')", "SGVsbG8="),
    ("atob('SGVsbG8=')", "Hello"),
    ("bytesToExecutionArrayList(base64ToBytes('AQI=')).size()", 2),
    ("byteArrayToExecutionArrayList(base64ToBytes('/w=='))", [-1]),
    ("printUnsignedBytes(hexToBytes('FF01'))", [255, 1]),
])
def test_bytes_hex_and_base64(expr, expected):
    assert value(expr) == expected


def test_base64_to_bytes_is_a_java_array_without_size():
    assert "size" in error("base64ToBytes('AQID').size()")


def test_decode_to_json_of_the_payload():
    assert value("decodeToJson(payload).temperature", b'{"temperature": 21.5}') == 21.5


@pytest.mark.parametrize("expr, expected", [
    ("parseHexToInt('BBAA')", 48042),
    ("parseHexToInt('BBAA', false)", 43707),
    ("parseLittleEndianHexToInt('BBAA')", 43707),
    ("parseBigEndianHexToInt('BBAA')", 48042),
    ("parseHexToInt('7FFFFFFF')", 2147483647),
    ('"" + parseHexToLong("7FFFFFFFFFFFFFFF")', "9223372036854775807"),
    ("parseInt('0xFF')", 255),
    ("parseInt('FF')", 255),
    ("parseInt('-123')", -123),
    ("parseInt('FF', 16)", 255),
    ("parseInt('1010', 2)", 10),
    ("parseInt('777', 8)", 511),
    ("parseInt('zz', 36)", 1295),
    ('"" + parseLong("9223372036854775807")', "9223372036854775807"),
    ("parseFloat('1.5')", 1.5),
    ("parseFloat('0x41200000')", 10.0),
    ("parseDouble('1.5')", 1.5),
    ("parseHexToFloat('41200000')", 10.0),
    ("parseInt('')", None),
])
def test_number_parsing_with_radix_sniffing(expr, expected):
    assert value(expr) == expected


def test_parse_int_refuses_what_is_neither_decimal_nor_hex():
    assert "NumberFormatException" in error("parseHexToInt('FFFFFFFF')")  # Integer.parseInt(s, 16) overflows
    assert "NumberFormatException" in error("parseInt('12x')")
    assert "NumberFormatException" in error("parseInt('ABC')")  # odd-length hex


@pytest.mark.parametrize("expr, expected", [
    ("toFixed(0.345, 1)", 0.3),
    ("toFixed(0.345, 2)", 0.35),
    ("toFixed(1.005, 2)", 1.01),
    ("toFixed(2.5, 0)", 3.0),
    ("toFixed(-2.5, 0)", -3.0),
    ('"" + toFixed(2.0, 2)', "2.0"),
    ("toFixed(123.456789, 3)", 123.457),
    ("toFixed(1.0E-5, 6)", 1e-05),
])
def test_to_fixed_rounds_the_decimal_text_half_up_and_returns_a_double(expr, expected):
    assert value(expr) == expected


@pytest.mark.parametrize("expr, expected", [
    ("intToHex(41)", "29"),
    ("intToHex(171, true, true)", "0xAB"),
    ("intToHex(0xABCD, false)", "CDAB"),
    ("intToHex(0xABCDEF, true, false, 2)", "EF"),
    ("intToHex(-1)", "FFFF"),  # TbUtils strips leading FF bytes, then keeps one FF pair
    ("longToHex(9223372036854775807L)", "7FFFFFFFFFFFFFFF"),
    ("longToHex(0x1234L, true, true)", "0x1234"),
    ("intLongToRadixString(255L, 16)", "FF"),
    ("intLongToRadixString(5L, 2)", "00000101"),
    ("floatToHex(1.0f)", "0x3F800000"),
])
def test_numbers_to_hex(expr, expected):
    assert value(expr) == expected


@pytest.mark.parametrize("expr, expected", [
    ("parseByteToBinaryArray(0x1F)", [0, 0, 0, 1, 1, 1, 1, 1]),
    ("parseByteToBinaryArray(0x1F, 4)", [1, 1, 1, 1]),
    ("parseByteToBinaryArray(0x1F, 8, false)", [1, 1, 1, 1, 1, 0, 0, 0]),
    ("parseBytesToBinaryArray([0x01, 0x80])", [0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0]),
    ("parseBytesToBinaryArray([0x01, 0x80], 4)", [0, 0, 0, 0]),
    ("parseLongToBinaryArray(5L, 4)", [0, 1, 0, 1]),
    ("parseBinaryArrayToInt([1, 0, 1])", 5),
])
def test_binary_arrays(expr, expected):
    assert value(expr) == expected


@pytest.mark.parametrize("expr, expected", [
    ("isBinary('1011')", 2),
    ("isBinary('1021')", -1),
    ("isOctal('0756')", 8),
    ("isDecimal('-10.5')", 10),
    ("isDecimal('1e5')", 10),  # TbUtils 4.x: [+-]?digits, optional fraction and exponent
    ("isHexadecimal('0xFF')", 16),
    ("isHexadecimal('FG')", -1),
    ("padStart('7', 3, '0')", "007"),
    ("padEnd('7', 3, '*')", "7**"),
    ("encodeURI('a b/c?d=é')", "a%20b/c?d=%C3%A9"),
    ("decodeURI('a%20b/c?d=%C3%A9')", "a b/c?d=é"),
])
def test_string_predicates_and_uri(expr, expected):
    assert value(expr) == expected


def test_raise_error_fails_the_script_with_its_message():
    assert "Bad payload for value 7" in error("raiseError('Bad payload', 7)")
    assert "Unknown" in error("raiseError('Unknown')")


def test_to_flat_map_with_paths_excludes_and_short_keys():
    src = ('{"key1": "v1", "key3": {"key4": "v4", "key6": [{"key7": "v7"}, "s", 56]}, '
           '"key11": {"key_over": "second"}}')
    body = f"var j = decodeToJson('{src}');\nreturn [toFlatMap(j), toFlatMap(j, ['key4']), toFlatMap(j, false)];"
    full, excluded, short = run(body)
    assert full == {"key1": "v1", "key3.key4": "v4", "key3.key6.0.key7": "v7", "key3.key6.1": "s",
                    "key3.key6.2": 56, "key11.key_over": "second"}
    assert "key3.key4" not in excluded and excluded["key1"] == "v1"
    assert short == {"key1": "v1", "key4": "v4", "key7": "v7", "key6.1": "s", "key6.2": 56, "key_over": "second"}
