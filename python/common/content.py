"""python/common/content.py — bin/fileserver's made-up files and their CRC-32C, as common/content.c makes them.

The server's file NAME of BYTES bytes is the first BYTES bytes of an endless
stream that is a pure function of NAME: key = splitmix64's finalizer of the
64-bit FNV-1a hash of NAME's bytes; 64-bit word w of the stream is
finalize(key + (w + 1) · golden), stored little-endian (common/content.h).
The download check regenerates every byte of a file from its name here,
independently of the server. CRC-32C is crcmod's (C code, python3-crcmod).
"""
import os
import struct

from . import mix, report

# FNV-1a's 64-bit offset basis and prime.
FNV_OFFSET, FNV_PRIME = 0xcbf29ce484222325, 0x100000001b3
WORD = 8
# The response header that carries a file's CRC-32C, as 8 hex digits.
CHECKSUM_HEADER = "X-Checksum-CRC32C"

_crc = []  # crcmod's CRC-32C function, once loaded
_numpy = []  # NumPy if it is there (it regenerates a file's words many at a time), once looked for


def numpy_or_none():
    """NumPy, or None: imported on first use, so that a download's start-up does not pay for it."""
    if not _numpy:
        try:
            import numpy
            _numpy.append(numpy)
        except ImportError:
            _numpy.append(None)
    return _numpy[0]


def key(name):
    """The number NAME's stream is made from (content_key)."""
    h = FNV_OFFSET
    for byte in os.fsencode(name):
        h = ((h ^ byte) * FNV_PRIME) & mix.MASK
    return mix.finalize(h)


def words(key_value, first, count):
    """count 64-bit words of key's stream from word first, as little-endian bytes."""
    np = numpy_or_none()
    if np is not None:
        index = np.arange(first + 1, first + 1 + count, dtype=np.uint64)
        values = mix.finalize_array(np.uint64(key_value) + index * np.uint64(mix.GOLDEN), np)
        return values.astype("<u8").tobytes()
    return struct.pack("<%dQ" % count, *(mix.finalize(key_value + (w + 1) * mix.GOLDEN)
                                         for w in range(first, first + count)))


def fill(key_value, offset, length):
    """Bytes offset .. offset + length - 1 of key's stream (content_fill)."""
    first = offset // WORD
    last = (offset + length + WORD - 1) // WORD
    skip = offset % WORD
    return words(key_value, first, last - first)[skip:skip + length]


def crc32c(data, crc=0):
    """The CRC-32C of data following a CRC-32C of what came before (0 to start), like content_crc32c."""
    if not _crc:
        predefined = report.require("crcmod.predefined", "python3-crcmod", "download (CRC-32C)")
        _crc.append(predefined.mkCrcFun("crc-32c"))
    return _crc[0](data, crc)
