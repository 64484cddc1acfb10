"""tools/harness/content.py — the files bin/fileserver makes up, and their CRC-32C, in Python from their definition.

common/content.h defines them; this is a second, independent writing of that
definition, so a check built on it does not share the C code's mistakes:

  made_up(name, size)  the bytes of the server's /files/NAME?size=SIZE
  crc32c(data)         the checksum it sends in X-Checksum-CRC32C, as a number

The tests check the servers and the downloaded files with it; a Python
program that downloads them (the Python lane) can check its files with it
too. Plain Python, no dependencies, and slow for it (a byte at a time):
fine for a check outside the timed region, not inside it.
"""
import struct

MASK = (1 << 64) - 1                      # arithmetic modulo 2^64, as uint64_t does
FNV_OFFSET, FNV_PRIME = 0xcbf29ce484222325, 0x100000001b3
GOLDEN_GAMMA = 0x9e3779b97f4a7c15         # splitmix64's increment
CRC32C_POLYNOMIAL = 0x82F63B78            # Castagnoli, bit-reversed


def mix(z):
    """splitmix64's finalizer."""
    z = ((z ^ (z >> 30)) * 0xbf58476d1ce4e5b9) & MASK
    z = ((z ^ (z >> 27)) * 0x94d049bb133111eb) & MASK
    return z ^ (z >> 31)


def content_key(name):
    """The number NAME's stream is made from: mix of the 64-bit FNV-1a hash of its bytes."""
    h = FNV_OFFSET
    for b in name.encode():
        h = ((h ^ b) * FNV_PRIME) & MASK
    return mix(h)


def made_up(name, size, first=0):
    """Bytes first .. size-1 of bin/fileserver's file NAME: word w of the
    stream is mix(key + (w + 1) * GOLDEN_GAMMA), little-endian."""
    key = content_key(name)
    words = range(first // 8, (size + 7) // 8)
    data = b"".join(struct.pack("<Q", mix((key + (w + 1) * GOLDEN_GAMMA) & MASK)) for w in words)
    return data[first % 8:first % 8 + size - first]


def crc32c_table():
    """The 256 CRC-32C remainders of one byte, worked out bit by bit."""
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ CRC32C_POLYNOMIAL if c & 1 else c >> 1
        table.append(c)
    return table


CRC_TABLE = crc32c_table()


def crc32c(data):
    """CRC-32C (Castagnoli) of data, a byte at a time."""
    crc = 0xffffffff
    for b in data:
        crc = CRC_TABLE[(crc ^ b) & 0xff] ^ (crc >> 8)
    return crc ^ 0xffffffff
