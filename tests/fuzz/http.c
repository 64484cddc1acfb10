/* tests/fuzz/http.c — libFuzzer target: bin/fileserver's HTTP request parser (io_bound/http.c) on any bytes.
 *
 * Run:    make fuzz FUZZ_SECONDS=120        (every target; tests/fuzz/run says how)
 *         bin/fuzz/http FILE...             (replay inputs, e.g. the files of tests/fuzz/corpus/http/)
 * Each input is what a client might send: it is framed, parsed, its target
 * decoded and checked for "..", the way bin/fileserver does it; the input
 * itself and the request's Range are also read as Range values against
 * files of a few sizes. ASan and UBSan watch every byte read; on top, each
 * promise io_bound/http.h makes is checked here, and a broken one aborts
 * (which libFuzzer reports as a crash, with the input).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

/* Room for a decoded path, as the server has (PATH_MAX). */
#define PATH_BYTES 4096

/* require: abort, naming the promise, unless it holds. */
static void require(int holds, const char *promise)
{
    if (!holds) {
        fprintf(stderr, "io_bound/http.c broke a promise: %s\n", promise);
        abort();
    }
}

/* check_range: a Range value against files of several sizes: a range it
 * accepts lies inside the file. */
static void check_range(const char *value)
{
    static const uint64_t sizes[] = {0, 1, 1000, UINT64_MAX};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        uint64_t first = 0, last = 0;
        if (http_parse_range(value, sizes[i], &first, &last) == HTTP_RANGE_SOME)
            require(first <= last && last < sizes[i], "a range it accepts lies inside the file");
    }
}

/* check_request: a framed request, parsed and its target decoded. */
static void check_request(char *text, size_t length)
{
    struct http_request r;
    int had_nul = memchr(text, '\0', length) != NULL; /* asked first: the parser cuts the text with NULs */
    int status = http_parse_request(text, length, &r);
    require(status == 0 || status == HTTP_BAD_REQUEST || status == HTTP_VERSION_NOT_SUPPORTED,
            "a request is accepted, or refused with 400 or 505");
    require(status != 0 || !had_nul, "a request with a NUL byte is refused");
    if (status != 0)
        return;
    require(r.method >= text && r.method < text + length && r.target > r.method && r.version > r.target,
            "the fields point into the request, in order");
    require(r.target[0] == '/', "a target starts with /");
    require(strcmp(r.version, "HTTP/1.1") == 0 || strcmp(r.version, "HTTP/1.0") == 0, "the version is 1.0 or 1.1");
    require(!r.has_body, "no request with a body is accepted");
    check_range(r.range);
    char path[PATH_BYTES];
    const char *query = NULL;
    if (http_decode_target(r.target, path, sizeof path, &query) != 0)
        return;
    require(strlen(path) < sizeof path && query != NULL, "a decoded path fits, and the query is set");
    size_t n = strlen(path);
    if (!http_climbs_out(path))
        require(strstr(path, "/../") == NULL && !(n >= 3 && strcmp(path + n - 3, "/..") == 0),
                "a path with a .. segment climbs out");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    check_range(text);

    size_t length = 0;
    enum http_frame frame = http_frame(text, size, &length);
    require(frame != HTTP_TOO_LARGE || size >= HTTP_MAX_REQUEST, "too large only at HTTP_MAX_REQUEST bytes");
    if (frame == HTTP_COMPLETE) {
        require(length >= 2 && length <= size && length <= HTTP_MAX_REQUEST, "a frame lies inside what arrived");
        require(text[length - 1] == '\n', "a frame ends at a line's end");
        text[length] = '\0'; /* what follows is the next request, as in the server */
        check_request(text, length);
    }
    free(text);
    return 0;
}
