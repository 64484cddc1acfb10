/* io_bound/http.h — bin/fileserver's HTTP/1.1 request parser: bytes in, fields or a status out, no I/O.
 *
 * Every function here is a pure function of its arguments: no sockets, no
 * files, no allocation, no global state. So the parser is tested alone with a
 * table of requests (tests/test_http.py, through tests/http_parse.c) and
 * fuzzed alone (tests/fuzz/http.c), apart from the server around it.
 *
 * It reads the part of RFC 9112 a file server needs: a request line and
 * headers (lines ending in CRLF or a bare LF), HTTP/1.0 and 1.1, no request
 * body, Connection, and one byte range (RFC 9110's Range: bytes=A-B, A-, -N).
 */
#ifndef HTTP_H
#define HTTP_H

#include <stddef.h>
#include <stdint.h>

/* Request line and headers, at most (else 431). */
#define HTTP_MAX_REQUEST 8192

/* The statuses the file server answers with. */
enum http_status {
    HTTP_OK = 200,
    HTTP_PARTIAL_CONTENT = 206,
    HTTP_BAD_REQUEST = 400,
    HTTP_FORBIDDEN = 403,
    HTTP_NOT_FOUND = 404,
    HTTP_METHOD_NOT_ALLOWED = 405,
    HTTP_REQUEST_TIMEOUT = 408,
    HTTP_RANGE_NOT_SATISFIABLE = 416,
    HTTP_HEADERS_TOO_LARGE = 431,
    HTTP_INTERNAL_ERROR = 500,
    HTTP_UNAVAILABLE = 503,
    HTTP_VERSION_NOT_SUPPORTED = 505,
};

/* How much of what has arrived is a whole request. */
enum http_frame {
    HTTP_INCOMPLETE, /* no blank line yet: more must arrive */
    HTTP_COMPLETE,   /* a whole request line and headers, through the blank line */
    HTTP_TOO_LARGE,  /* HTTP_MAX_REQUEST bytes and still no blank line: 431 */
};

/* The parts of a request the server reads: pointers into the parsed text. */
struct http_request {
    char *method, *target, *version;
    const char *range; /* the Range header's value, or NULL */
    int wants_close;   /* Connection: close (or HTTP/1.0 without keep-alive) */
    int has_body;      /* a request body, which no request here may have */
};

/* What a Range header asks of a file. */
enum http_range {
    HTTP_RANGE_NONE,          /* no range, or one to ignore (several, or malformed): the whole file, 200 */
    HTTP_RANGE_SOME,          /* bytes first..last of the file: 206 */
    HTTP_RANGE_UNSATISFIABLE, /* starts past the end (or asks for nothing): 416 */
};

/* http_frame: whether the first request in buf (bytes received so far) is
 * whole; if it is, its length through the blank line in *length. */
enum http_frame http_frame(const char *buf, size_t bytes, size_t *length);

/* http_parse_request: the framed request in text (length bytes, then a NUL;
 * cut into fields in place) into r; 0, or the status to refuse it with
 * (400 malformed: a NUL or control byte, a folded or nameless header, a
 * body, ...; 505 an HTTP version other than 1.0 and 1.1). */
int http_parse_request(char *text, size_t length, struct http_request *r);

/* http_decode_target: a target's path with %XX decoded, into path
 * (path_size bytes); *query points at what follows '?' in target ("" if
 * nothing). 0, or -1 for a bad escape, %00, or a path that does not fit. */
int http_decode_target(const char *target, char *path, size_t path_size, const char **query);

/* http_climbs_out: whether a decoded path has a ".." segment (it would leave where it starts). */
int http_climbs_out(const char *path);

/* http_parse_range: a Range header's value (NULL: none) against a file of size bytes. */
enum http_range http_parse_range(const char *value, uint64_t size, uint64_t *first, uint64_t *last);

/* http_reason: a status's reason phrase ("Not Found"). */
const char *http_reason(int status);

#endif
