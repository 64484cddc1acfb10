/* tests/http_parse.c — bin/tests/http-parse: io_bound/http.c alone, for tests/test_http.py's table.
 *
 * Run:    bin/tests/http-parse request 'GET /files/a%20b?size=3 HTTP/1.1\r\nRange: bytes=0-1\r\n\r\n'
 *           frame=complete length=54 status=0 method=GET target=/files/a%20b?size=3 version=HTTP/1.1
 *           close=0 range=bytes=0-1 path=/files/a\x20b query=size=3 climbs_out=0
 *         bin/tests/http-parse range 'bytes=-10' 100
 *           range=some first=90 last=99
 * The request is written with C escapes (\r \n \t \\ \xNN), so any byte can
 * be given, NUL included; it is framed, then parsed, the way bin/fileserver
 * does it. Every value printed is one token: bytes that are not visible
 * ASCII, and '\', come out as \xNN. Exit status 0 whatever the verdict, 2
 * for a bad command line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

#define USAGE "usage: http-parse request ESCAPED_TEXT | http-parse range VALUE SIZE\n"
#define USAGE_EXIT 2
/* Room for a decoded target's path. */
#define PATH_BYTES 4096

/* hex_digit: a hexadecimal digit's value, or -1. */
static int hex_digit(char c)
{
    const char *digits = "0123456789abcdef0123456789ABCDEF", *found = c ? strchr(digits, c) : NULL;
    return found ? (int)(found - digits) % 16 : -1;
}

/* unescape: text with its C escapes turned into bytes, into out (as long as
 * text at most); the count of bytes, or -1 for an escape it does not know. */
static long unescape(const char *text, char *out)
{
    long n = 0;
    for (const char *p = text; *p; p++) {
        if (*p != '\\') {
            out[n++] = *p;
            continue;
        }
        p++;
        if (*p == 'r' || *p == 'n' || *p == 't' || *p == '\\') {
            out[n++] = *p == 'r' ? '\r' : *p == 'n' ? '\n' : *p == 't' ? '\t' : '\\';
        } else if (*p == 'x' && hex_digit(p[1]) >= 0 && hex_digit(p[2]) >= 0) {
            out[n++] = (char)(hex_digit(p[1]) * 16 + hex_digit(p[2]));
            p += 2;
        } else {
            return -1;
        }
    }
    return n;
}

/* print_value: " key=value", the value as one token. */
static void print_value(const char *key, const char *value)
{
    printf(" %s=", key);
    for (const unsigned char *p = (const unsigned char *)value; *p; p++)
        if (*p > ' ' && *p < 0x7f && *p != '\\')
            putchar(*p);
        else
            printf("\\x%02x", *p);
}

/* show_request: frame the bytes, parse the request, decode its target; one line. */
static void show_request(char *bytes, size_t count)
{
    static const char *const frames[] = {"incomplete", "complete", "too_large"};
    size_t length = 0;
    enum http_frame frame = http_frame(bytes, count, &length);
    printf("frame=%s", frames[frame]);
    if (frame != HTTP_COMPLETE) {
        printf("\n");
        return;
    }
    char *text = malloc(length + 1), path[PATH_BYTES];
    if (!text) {
        fprintf(stderr, "http-parse: out of memory\n");
        exit(1);
    }
    memcpy(text, bytes, length);
    text[length] = '\0';
    struct http_request r;
    int status = http_parse_request(text, length, &r);
    printf(" length=%zu status=%d", length, status);
    if (status == 0) {
        print_value("method", r.method);
        print_value("target", r.target);
        print_value("version", r.version);
        printf(" close=%d", r.wants_close);
        if (r.range)
            print_value("range", r.range);
        const char *query = NULL;
        if (http_decode_target(r.target, path, sizeof path, &query) == 0) {
            print_value("path", path);
            print_value("query", query);
            printf(" climbs_out=%d", http_climbs_out(path));
        } else {
            printf(" path=bad");
        }
    }
    printf("\n");
    free(text);
}

/* show_range: what a Range value asks of a file of size bytes; one line. */
static void show_range(const char *value, unsigned long long size)
{
    static const char *const verdicts[] = {"none", "some", "unsatisfiable"};
    uint64_t first = 0, last = 0;
    enum http_range range = http_parse_range(value, size, &first, &last);
    printf("range=%s", verdicts[range]);
    if (range == HTTP_RANGE_SOME)
        printf(" first=%llu last=%llu", (unsigned long long)first, (unsigned long long)last);
    printf("\n");
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "request") == 0) {
        char *bytes = malloc(strlen(argv[2]) + 1);
        long count = bytes ? unescape(argv[2], bytes) : -1;
        if (count < 0) {
            fprintf(stderr, "http-parse: %s\n",
                    bytes ? "an escape other than \\r \\n \\t \\\\ \\xNN" : "out of memory");
            free(bytes);
            return USAGE_EXIT;
        }
        show_request(bytes, (size_t)count);
        free(bytes);
        return 0;
    }
    char *end = NULL;
    unsigned long long size = argc == 4 ? strtoull(argv[3], &end, 10) : 0;
    if (argc == 4 && strcmp(argv[1], "range") == 0 && end != argv[3] && *end == '\0') {
        show_range(argv[2], size);
        return 0;
    }
    fprintf(stderr, USAGE);
    return USAGE_EXIT;
}
