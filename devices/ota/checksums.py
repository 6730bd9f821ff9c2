"""The checksums ThingsBoard computes for an OTA package, by its ChecksumAlgorithm names.

ThingsBoard hashes with Guava and prints Guava's ``HashCode.toString()``: the hash's bytes in hex, in
the order Guava keeps them. For the digests (MD5, SHA-*) that is the usual hex digest; for CRC32 and
MURMUR3_32, which Guava keeps as an int, it is the int's bytes little-endian (CRC32 of "123456789",
0xcbf43926, prints "2639f4cb"); MURMUR3_128 is x64 128-bit MurmurHash3 with seed 0, its two 64-bit
halves little-endian (what ``mmh3.hash_bytes`` gives).
"""

import hashlib
import zlib

import mmh3

from devices.choices import ChecksumAlgorithm

__all__ = ["ALGORITHMS", "checksum", "same_checksum"]

ALGORITHMS = tuple(ChecksumAlgorithm.values)


def _int_le(value: int) -> str:
    return (value & 0xFFFFFFFF).to_bytes(4, "little").hex()


_FUNCTIONS = {
    "MD5": lambda data: hashlib.md5(data, usedforsecurity=False).hexdigest(),
    "SHA256": lambda data: hashlib.sha256(data).hexdigest(),
    "SHA384": lambda data: hashlib.sha384(data).hexdigest(),
    "SHA512": lambda data: hashlib.sha512(data).hexdigest(),
    "CRC32": lambda data: _int_le(zlib.crc32(data)),
    "MURMUR3_32": lambda data: _int_le(mmh3.hash(data, 0, signed=False)),
    "MURMUR3_128": lambda data: mmh3.hash_bytes(data, 0).hex(),
}


def checksum(algorithm: str, data: bytes) -> str:
    """The checksum of ``data`` as ThingsBoard prints it; KeyError for an unknown algorithm."""
    return _FUNCTIONS[algorithm](bytes(data))


def same_checksum(given: str, computed: str) -> bool:
    """A checksum a user typed matches: hex case and a leading "0x" do not matter."""
    given = given.strip().lower()
    if given.startswith("0x"):
        given = given[2:]
    return given == computed.lower()
