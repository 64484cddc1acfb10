"""python/common/content.py — bin/fileserver's made-up files and their CRC-32C, as common/content.c makes them.

The server's file NAME of BYTES bytes is the first BYTES bytes of an endless
stream that is a pure function of NAME: key = splitmix64's finalizer of the
64-bit FNV-1a hash of NAME's bytes; 64-bit word w of the stream is
finalize(key + (w + 1) · golden), stored little-endian (common/content.h).
The download check regenerates every byte of a file from its name here,
independently of the server.

Two CRC-32Cs, the same function:
  crc32c          crcmod's (python3-crcmod), written apart from the suite's C
                  code: the check's, outside the timed region.
  receive_crc32c  the one the clients run on every chunk as it arrives,
                  inside the timed region: the C clients' own content_crc32c
                  (common/content.c), which make builds as build/libcontent.so
                  for ctypes to call. ctypes lets go of the GIL while it runs,
                  as hashlib and zlib do on large buffers, and it uses the
                  processor's CRC-32C instruction where there is one. crcmod
                  holds the GIL and goes a byte at a time: on the 2-core AMD
                  EPYC Zen 5 VM 16 MiB (a download of 64 files of 256 KiB)
                  took it 40 ms, during which no other thread of a
                  py-threading download could run, and the C code 2 ms.
                  Without the library (the file run without make)
                  receive_crc32c is crcmod's.
"""
import ctypes
import os
import struct
from pathlib import Path

from . import mix, report

# FNV-1a's 64-bit offset basis and prime.
FNV_OFFSET, FNV_PRIME = 0xcbf29ce484222325, 0x100000001b3
WORD = 8
# The response header that carries a file's CRC-32C, as 8 hex digits.
CHECKSUM_HEADER = "X-Checksum-CRC32C"

_crc = []  # crcmod's CRC-32C function, once loaded
_receive_crc = []  # receive_crc32c's function, once loaded
# The C clients' CRC-32C as a shared library (make builds it for the Python lane).
LIBRARY = Path(__file__).resolve().parents[2] / "build" / "libcontent.so"
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


def receive_crc32c(data, crc=0):
    """crc32c, computed by common/content.c's content_crc32c with the GIL let go (crcmod's without the library)."""
    if not _receive_crc:
        _receive_crc.append(c_crc32c() or crc32c)
    return _receive_crc[0](data, crc)


def c_crc32c():
    """content_crc32c from build/libcontent.so, as a function of (bytes, crc); None when it is not there."""
    try:
        library = ctypes.CDLL(str(LIBRARY))  # CDLL, not PyDLL: each call lets go of the GIL
    except OSError:
        return None
    function = library.content_crc32c
    function.restype = ctypes.c_uint32
    function.argtypes = [ctypes.c_uint32, ctypes.c_char_p, ctypes.c_size_t]
    return lambda data, crc=0: function(crc, bytes(data), len(data))
