/* common/content.h — the files the file server makes up, and the checksum both sides compute.
 *
 * bin/fileserver serves /files/NAME?size=BYTES without any disk: the file is
 * the first BYTES bytes of an endless stream that is a pure function of NAME.
 * So a client can regenerate any file it downloaded and compare every byte,
 * independently of the server (the download workload's check does), and the
 * server can produce any byte range on demand (Range requests, resumes).
 *
 * The stream: key = splitmix64's finalizer applied to the 64-bit FNV-1a hash
 * of NAME's bytes; 64-bit word w of the stream is splitmix64's w-th output
 * from state key, that is mix(key + (w + 1) · 0x9e3779b97f4a7c15), stored
 * little-endian. The checksum is CRC-32C (Castagnoli, as in iSCSI, ext4 and
 * cloud object stores), sent by the server in CONTENT_CHECKSUM_HEADER.
 *
 * No libcurl, no threads: the server links this too.
 */
#ifndef CONTENT_H
#define CONTENT_H

#include <stddef.h>
#include <stdint.h>

/* The response header that carries a file's CRC-32C, as 8 lower-case hex digits.
 * It is the whole file's checksum, also in a 206 response to a Range request. */
#define CONTENT_CHECKSUM_HEADER "X-Checksum-CRC32C"

/* content_key: the number NAME's stream is made from. */
uint64_t content_key(const char *name);

/* content_fill: bytes offset .. offset + length - 1 of the stream of key, into out. */
void content_fill(uint64_t key, uint64_t offset, void *out, size_t length);

/* content_crc32c: the CRC-32C of data following a CRC-32C of what came before
 * (0 to start), like zlib's crc32(): crc32c(crc32c(0, a), b) == crc32c(0, a·b). */
uint32_t content_crc32c(uint32_t crc, const void *data, size_t length);

/* content_checksum: the CRC-32C of the generated file of key and size bytes. */
uint32_t content_checksum(uint64_t key, uint64_t size);

#endif
