/* io_bound/http.c — the HTTP/1.1 request parser: framing, the request line, headers, targets, ranges. */
#include "http.h"

#include <string.h>
#include <strings.h>

/* What RFC 9110 forbids in a token (a method, a header name) besides controls and spaces. */
static const char token_delimiters[] = "()<>@,;:\\\"/[]?={}";
/* The one range unit there is. */
static const char bytes_unit[] = "bytes=";

enum http_frame http_frame(const char *buf, size_t bytes, size_t *length)
{
    size_t seen = bytes < HTTP_MAX_REQUEST ? bytes : HTTP_MAX_REQUEST;
    for (size_t i = 1; i < seen; i++)
        if (buf[i] == '\n' && (buf[i - 1] == '\n' || (i >= 2 && buf[i - 1] == '\r' && buf[i - 2] == '\n'))) {
            *length = i + 1;
            return HTTP_COMPLETE;
        }
    return bytes >= HTTP_MAX_REQUEST ? HTTP_TOO_LARGE : HTTP_INCOMPLETE;
}

/* next_line: cut the line at *cursor (ending at '\n', CR removed) and move
 * past it; NULL when no line ends there. */
static char *next_line(char **cursor)
{
    char *line = *cursor, *newline = strchr(line, '\n');
    if (!newline)
        return NULL;
    *newline = '\0';
    if (newline > line && newline[-1] == '\r')
        newline[-1] = '\0';
    *cursor = newline + 1;
    return line;
}

/* has_controls: whether a line holds a control character (a tab too, unless tabs_allowed). */
static int has_controls(const char *line, int tabs_allowed)
{
    for (const char *p = line; *p; p++)
        if (((unsigned char)*p < ' ' && !(tabs_allowed && *p == '\t')) || *p == 0x7f)
            return 1;
    return 0;
}

/* is_token: whether text is a non-empty run of HTTP token characters. */
static int is_token(const char *text)
{
    if (!*text)
        return 0;
    for (; *text; text++)
        if (!(*text > ' ' && *text < 0x7f && !strchr(token_delimiters, *text)))
            return 0;
    return 1;
}

/* version_status: 0 for HTTP/1.0 and 1.1; 505 for another well-formed
 * version (HTTP/DIGITS.DIGITS); 400 for anything else. */
static int version_status(const char *version)
{
    if (strcmp(version, "HTTP/1.1") == 0 || strcmp(version, "HTTP/1.0") == 0)
        return 0;
    if (strncmp(version, "HTTP/", 5) != 0)
        return HTTP_BAD_REQUEST;
    const char *p = version + 5;
    size_t major = strspn(p, "0123456789");
    if (major == 0 || p[major] != '.')
        return HTTP_BAD_REQUEST;
    p += major + 1;
    size_t minor = strspn(p, "0123456789");
    return minor > 0 && p[minor] == '\0' ? HTTP_VERSION_NOT_SUPPORTED : HTTP_BAD_REQUEST;
}

/* parse_request_line: METHOD SP TARGET SP VERSION into r; 0 or the status to refuse it with. */
static int parse_request_line(char *line, struct http_request *r)
{
    if (has_controls(line, 0))
        return HTTP_BAD_REQUEST;
    r->method = line;
    char *space = strchr(line, ' ');
    if (!space)
        return HTTP_BAD_REQUEST;
    *space = '\0';
    r->target = space + 1;
    space = strchr(r->target, ' ');
    if (!space)
        return HTTP_BAD_REQUEST;
    *space = '\0';
    r->version = space + 1;
    if (!is_token(r->method) || r->target[0] != '/' || strchr(r->version, ' '))
        return HTTP_BAD_REQUEST;
    return version_status(r->version);
}

/* trim: a header value without the spaces and tabs around it. */
static char *trim(char *value)
{
    while (*value == ' ' || *value == '\t')
        value++;
    size_t length = strlen(value);
    while (length > 0 && (value[length - 1] == ' ' || value[length - 1] == '\t'))
        value[--length] = '\0';
    return value;
}

int http_parse_request(char *text, size_t length, struct http_request *r)
{
    *r = (struct http_request){0};
    if (memchr(text, '\0', length))
        return HTTP_BAD_REQUEST; /* it would hide what follows from every check below */
    char *cursor = text, *line = next_line(&cursor);
    if (!line)
        return HTTP_BAD_REQUEST;
    int status = parse_request_line(line, r);
    if (status != 0)
        return status;
    int http10 = strcmp(r->version, "HTTP/1.0") == 0, keep_alive_asked = 0;
    while ((line = next_line(&cursor)) && line[0] != '\0') {
        if (line[0] == ' ' || line[0] == '\t')
            return HTTP_BAD_REQUEST; /* obsolete line folding */
        char *colon = strchr(line, ':');
        if (!colon || has_controls(line, 1))
            return HTTP_BAD_REQUEST;
        *colon = '\0';
        char *value = trim(colon + 1);
        if (!is_token(line))
            return HTTP_BAD_REQUEST;
        if (strcasecmp(line, "Connection") == 0) {
            r->wants_close |= strcasestr(value, "close") != NULL;
            keep_alive_asked |= strcasestr(value, "keep-alive") != NULL;
        } else if (strcasecmp(line, "Range") == 0) {
            r->range = value;
        } else if (strcasecmp(line, "Transfer-Encoding") == 0 ||
                   (strcasecmp(line, "Content-Length") == 0 && strcmp(value, "0") != 0)) {
            r->has_body = 1;
        }
    }
    if (!line)
        return HTTP_BAD_REQUEST; /* no blank line: not a whole request */
    if (http10 && !keep_alive_asked)
        r->wants_close = 1;
    return r->has_body ? HTTP_BAD_REQUEST : 0;
}

/* hex_value: a hexadecimal digit's value, or -1. */
static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int http_decode_target(const char *target, char *path, size_t path_size, const char **query)
{
    size_t n = 0;
    const char *p = target;
    if (path_size == 0)
        return -1;
    for (; *p && *p != '?'; p++) {
        char c = *p;
        if (c == '%') {
            int high = hex_value(p[1]), low = high >= 0 ? hex_value(p[2]) : -1;
            if (low < 0)
                return -1;
            c = (char)(high * 16 + low);
            if (c == '\0')
                return -1;
            p += 2;
        }
        if (n + 1 >= path_size)
            return -1;
        path[n++] = c;
    }
    path[n] = '\0';
    *query = *p == '?' ? p + 1 : "";
    return 0;
}

int http_climbs_out(const char *path)
{
    for (const char *p = path; (p = strstr(p, "..")); p += 2)
        if ((p == path || p[-1] == '/') && (p[2] == '\0' || p[2] == '/'))
            return 1;
    return 0;
}

/* read_number: the decimal digits at *text as a number (UINT64_MAX when it
 * does not fit: a position past the end of any file), moving *text past
 * them; -1 if no digit is there. */
static int read_number(const char **text, uint64_t *value)
{
    const char *p = *text;
    if (*p < '0' || *p > '9')
        return -1;
    uint64_t v = 0;
    for (; *p >= '0' && *p <= '9'; p++) {
        unsigned digit = (unsigned)(*p - '0');
        v = v > (UINT64_MAX - digit) / 10 ? UINT64_MAX : v * 10 + digit;
    }
    *value = v;
    *text = p;
    return 0;
}

enum http_range http_parse_range(const char *value, uint64_t size, uint64_t *first, uint64_t *last)
{
    uint64_t a, b;
    if (!value || strncasecmp(value, bytes_unit, sizeof bytes_unit - 1) != 0)
        return HTTP_RANGE_NONE;
    const char *p = value + sizeof bytes_unit - 1;
    if (*p == '-') { /* -N: the last N bytes */
        p++;
        if (read_number(&p, &b) != 0 || *p != '\0')
            return HTTP_RANGE_NONE;
        if (b == 0 || size == 0)
            return HTTP_RANGE_UNSATISFIABLE;
        *first = b >= size ? 0 : size - b;
        *last = size - 1;
        return HTTP_RANGE_SOME;
    }
    if (read_number(&p, &a) != 0 || *p != '-')
        return HTTP_RANGE_NONE; /* several ranges (a comma), another unit, or malformed: ignored, as HTTP allows */
    p++;
    b = UINT64_MAX; /* A-: to the end */
    if (*p != '\0' && (read_number(&p, &b) != 0 || *p != '\0'))
        return HTTP_RANGE_NONE;
    if (b < a)
        return HTTP_RANGE_NONE;
    if (a >= size)
        return HTTP_RANGE_UNSATISFIABLE;
    *first = a;
    *last = b < size ? b : size - 1;
    return HTTP_RANGE_SOME;
}

const char *http_reason(int status)
{
    switch (status) {
    case HTTP_OK: return "OK";
    case HTTP_PARTIAL_CONTENT: return "Partial Content";
    case HTTP_BAD_REQUEST: return "Bad Request";
    case HTTP_FORBIDDEN: return "Forbidden";
    case HTTP_NOT_FOUND: return "Not Found";
    case HTTP_METHOD_NOT_ALLOWED: return "Method Not Allowed";
    case HTTP_REQUEST_TIMEOUT: return "Request Timeout";
    case HTTP_RANGE_NOT_SATISFIABLE: return "Range Not Satisfiable";
    case HTTP_HEADERS_TOO_LARGE: return "Request Header Fields Too Large";
    case HTTP_INTERNAL_ERROR: return "Internal Server Error";
    case HTTP_UNAVAILABLE: return "Service Unavailable";
    case HTTP_VERSION_NOT_SUPPORTED: return "HTTP Version Not Supported";
    default: return "Unknown";
    }
}
