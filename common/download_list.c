/* common/download_list.c — download's URL list (-i FILE, or made from --server) and its output directory (-o). */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "download_private.h"

/* Longest file name: NAME.part must fit in a directory entry. */
#define MAX_NAME (NAME_MAX - (sizeof DOWNLOAD_PART_SUFFIX - 1))
/* Longest HOST in --server HOST:PORT (a DNS name is at most 253 characters). */
#define MAX_HOST 256

/* ---- the list: URLs and the names their files get ---- */

/* add_url: append copies of a URL and its file's name to the list. */
static enum outcome add_url(struct download *d, size_t *capacity, const char *url, const char *name)
{
    if (d->count == *capacity) {
        size_t grown = *capacity ? 2 * *capacity : 64;
        char **urls = realloc(d->urls, grown * sizeof *urls);
        if (urls)
            d->urls = urls;
        char **names = urls ? realloc(d->names, grown * sizeof *names) : NULL;
        if (!names) {
            report_error("out of memory for a list of %zu URLs", grown);
            return OUTCOME_FAILED;
        }
        d->names = names;
        *capacity = grown;
    }
    d->urls[d->count] = strdup(url);
    d->names[d->count] = strdup(name);
    d->count++; /* even half made: download_release frees what is there */
    if (!d->urls[d->count - 1] || !d->names[d->count - 1]) {
        report_error("out of memory for a URL");
        return OUTCOME_FAILED;
    }
    return OUTCOME_OK;
}

/* plain_name: whether the length characters at host are a host name or an
 * IPv4 address: letters, digits, '-', '_' and '.', a letter or digit first. */
static int plain_name(const char *host, size_t length)
{
    if (length == 0 || !isalnum((unsigned char)host[0]))
        return 0;
    for (size_t i = 0; i < length; i++)
        if (!isalnum((unsigned char)host[i]) && host[i] != '-' && host[i] != '_' && host[i] != '.')
            return 0;
    return 1;
}

/* host_is_plain: whether url, as written, has "//" and a host there made of
 * letters, digits, '-', '_' and '.' that begins with a letter or digit, or an
 * IPv6 address in brackets (which libcurl has parsed): what a client is
 * meant to connect to. libcurl is more lenient: it reads http:///files/a.bin
 * and http:/files/a.bin as host "files", and decodes percent-escapes in a
 * host ("%31" is host 1, that is 0.0.0.1), each a request nobody meant. */
static int host_is_plain(const char *url)
{
    const char *host = strstr(url, "://");
    if (!host)
        return 0;
    host += 3;
    size_t length = strcspn(host, "/?#");
    const char *at = memchr(host, '@', length); /* user:password@host */
    if (at) {
        length -= (size_t)(at + 1 - host);
        host = at + 1;
    }
    return host[0] == '[' || plain_name(host, strcspn(host, ":/?#")); /* [IPv6]:PORT, or NAME:PORT */
}

/* url_name: check that url is an http(s) URL with a host, and copy the last
 * part of its path (the file's NAME) into name. 0, or -1 with why in reason. */
static int url_name(const char *url, char *name, size_t capacity, char *reason, size_t reason_bytes)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL, *path = NULL;
    int ok = -1;
    if (!u) {
        snprintf(reason, reason_bytes, "out of memory (curl_url)");
        return -1;
    }
    CURLUcode rc = curl_url_set(u, CURLUPART_URL, url, 0);
    if (rc == CURLUE_OK)
        rc = curl_url_get(u, CURLUPART_SCHEME, &scheme, 0);
    if (rc == CURLUE_OK)
        rc = curl_url_get(u, CURLUPART_HOST, &host, 0);
    if (rc == CURLUE_OK)
        rc = curl_url_get(u, CURLUPART_PATH, &path, 0);
    if (rc != CURLUE_OK) {
        snprintf(reason, reason_bytes, "'%s' is not a URL (%s)", url, curl_url_strerror(rc));
    } else if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0) {
        snprintf(reason, reason_bytes, "'%s' is not an http:// or https:// URL", url);
    } else if (host[0] == '\0' || !host_is_plain(url)) {
        snprintf(reason, reason_bytes, "'%s' has no host name or IP address after its '//'", url);
    } else {
        const char *last = strrchr(path, '/');
        last = last ? last + 1 : path;
        if (last[0] == '\0' || strcmp(last, ".") == 0 || strcmp(last, "..") == 0)
            snprintf(reason, reason_bytes, "'%s' names no file (its path must end in a file name)", url);
        else if (strlen(last) > MAX_NAME || strlen(last) >= capacity)
            snprintf(reason, reason_bytes, "'%s': its file name is longer than %zu characters", url,
                     (size_t)MAX_NAME);
        else {
            strcpy(name, last);
            ok = 0;
        }
    }
    curl_free(scheme);
    curl_free(host);
    curl_free(path);
    curl_url_cleanup(u);
    return ok;
}

int download_url_loopback(const char *url, char *host, size_t capacity)
{
    CURLU *u = curl_url();
    char *name = NULL;
    int loopback = 0;
    if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &name, 0) == CURLUE_OK) {
        char bare[MAX_HOST] = "";
        size_t length = strlen(name);
        if (name[0] == '[' && length >= 2 && length - 2 < sizeof bare) /* [IPv6] */
            memcpy(bare, name + 1, length - 2);
        else
            snprintf(bare, sizeof bare, "%s", name);
        size_t bare_length = strlen(bare);
        struct in_addr v4;
        struct in6_addr v6;
        loopback = strcasecmp(bare, "localhost") == 0 ||
                   (bare_length > 10 && strcasecmp(bare + bare_length - 10, ".localhost") == 0) ||
                   (inet_pton(AF_INET, bare, &v4) == 1 && (ntohl(v4.s_addr) >> 24) == 127) ||
                   (inet_pton(AF_INET6, bare, &v6) == 1 && IN6_IS_ADDR_LOOPBACK(&v6));
        snprintf(host, capacity, "%s", name);
    }
    curl_free(name);
    curl_url_cleanup(u);
    return loopback;
}

/* trim: text without the white space (and CR of CRLF lines) around it. */
static char *trim(char *text)
{
    while (*text == ' ' || *text == '\t')
        text++;
    size_t length = strlen(text);
    while (length > 0 && strchr(" \t\r\n", text[length - 1]))
        text[--length] = '\0';
    return text;
}

/* list_from_file: the URLs of -i FILE, one per line; blank lines and lines
 * starting with # are skipped. */
static enum outcome list_from_file(struct download *d, const char *path)
{
    FILE *in = fopen(path, "r");
    if (!in)
        return report_usage_error("-i %s: cannot read it: %s", path, strerror(errno));
    char *line = NULL, name[NAME_MAX + 1], reason[DOWNLOAD_REASON_BYTES];
    size_t line_capacity = 0, capacity = 0, number = 0;
    enum outcome o = OUTCOME_OK;
    while (o == OUTCOME_OK && getline(&line, &line_capacity, in) >= 0) {
        char *url = trim(line);
        number++;
        if (url[0] == '\0' || url[0] == '#')
            continue;
        if (url_name(url, name, sizeof name, reason, sizeof reason) != 0)
            o = report_usage_error("-i %s, line %zu: %s", path, number, reason);
        else if (d->count == DOWNLOAD_MAX_FILES)
            o = report_usage_error("-i %s: more than %d URLs", path, DOWNLOAD_MAX_FILES);
        else
            o = add_url(d, &capacity, url, name);
    }
    if (o == OUTCOME_OK && ferror(in))
        o = report_usage_error("-i %s: reading it failed: %s", path, strerror(errno));
    if (o == OUTCOME_OK && d->count == 0)
        o = report_usage_error("-i %s: no URLs in it", path);
    free(line);
    fclose(in);
    return o;
}

/* parse_server: HOST:PORT (or [IPv6]:PORT) into host and port; 0 or -1. */
static int parse_server(const char *text, char *host, size_t capacity, unsigned *port)
{
    const char *colon;
    if (text[0] == '[') {
        const char *close = strchr(text, ']');
        if (!close || close[1] != ':')
            return -1;
        colon = close + 1;
    } else {
        colon = strchr(text, ':');
        if (!colon || strchr(colon + 1, ':'))
            return -1;
    }
    size_t length = (size_t)(colon - text);
    if (length == 0 || length >= capacity || strcspn(text, "/?#@ \t") < length ||
        (text[0] != '[' && !plain_name(text, length)))
        return -1;
    const char *digits = colon + 1;
    char *end = NULL;
    if (digits[0] < '0' || digits[0] > '9')
        return -1;
    errno = 0;
    unsigned long value = strtoul(digits, &end, 10);
    if (errno != 0 || *end != '\0' || value < 1 || value > 65535)
        return -1;
    memcpy(host, text, length);
    host[length] = '\0';
    *port = (unsigned)value;
    return 0;
}

/* list_from_server: N URLs of bin/fileserver's made-up files, named after
 * the seed and their number, so the list is a pure function of the flags. */
static enum outcome list_from_server(struct download *d, const struct options *opt)
{
    char host[MAX_HOST], url[MAX_HOST + 128], name[NAME_MAX + 1], reason[DOWNLOAD_REASON_BYTES];
    unsigned port;
    size_t capacity = 0;
    if (parse_server(opt->server, host, sizeof host, &port) != 0)
        return report_usage_error("--server '%s': expected HOST:PORT (or [IPv6]:PORT), PORT from 1 to 65535",
                                  opt->server);
    for (size_t i = 0; i < opt->n; i++) {
        snprintf(url, sizeof url, "http://%s:%u/files/file-%llu-%06zu.bin?size=%llu", host, port, opt->seed,
                 i + 1, d->size);
        if (url_name(url, name, sizeof name, reason, sizeof reason) != 0)
            return report_usage_error("--server '%s': %s", opt->server, reason);
        if (add_url(d, &capacity, url, name) != OUTCOME_OK)
            return OUTCOME_FAILED;
    }
    return OUTCOME_OK;
}

/* compare_names: qsort's order of two names. */
static int compare_names(const void *x, const void *y)
{
    return strcmp(*(char *const *)x, *(char *const *)y);
}

/* check_names: two URLs whose files would have the same name are refused:
 * one would overwrite the other; so is a file named like another's NAME.part,
 * which the other's download is written into (and renamed from) until it is
 * complete. */
static enum outcome check_names(const struct download *d)
{
    char **sorted = malloc(d->count * sizeof *sorted);
    if (!sorted) {
        report_error("out of memory for %zu file names", d->count);
        return OUTCOME_FAILED;
    }
    memcpy(sorted, d->names, d->count * sizeof *sorted);
    qsort(sorted, d->count, sizeof *sorted, compare_names);
    enum outcome o = OUTCOME_OK;
    for (size_t i = 1; i < d->count && o == OUTCOME_OK; i++)
        if (strcmp(sorted[i - 1], sorted[i]) == 0)
            o = report_usage_error("two URLs in the list would both be saved as '%s'", sorted[i]);
    char part[NAME_MAX + 1];
    for (size_t i = 0; i < d->count && o == OUTCOME_OK; i++) {
        snprintf(part, sizeof part, "%s" DOWNLOAD_PART_SUFFIX, sorted[i]); /* fits: names are at most MAX_NAME */
        const char *key = part;
        if (bsearch(&key, sorted, d->count, sizeof *sorted, compare_names))
            o = report_usage_error("'%s' in the list is the name '%s' is downloaded into until it is complete; "
                                   "rename one", part, sorted[i]);
    }
    free(sorted);
    return o;
}

/* ---- the output directory ---- */

/* open_output: -o DIR, created if missing, and a descriptor files are made relative to. */
static enum outcome open_output(struct download *d, const char *dir)
{
    struct stat st;
    if (stat(dir, &st) != 0) {
        if (errno != ENOENT)
            return report_usage_error("-o %s: %s", dir, strerror(errno));
        if (mkdir(dir, 0777) != 0 && errno != EEXIST) /* EEXIST: another MPI rank was first */
            return report_usage_error("-o %s: cannot create it: %s", dir, strerror(errno));
    } else if (!S_ISDIR(st.st_mode)) {
        return report_usage_error("-o %s: not a directory", dir);
    }
    if (access(dir, W_OK | X_OK) != 0)
        return report_usage_error("-o %s: cannot write there: %s", dir, strerror(errno));
    d->dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (d->dir_fd < 0)
        return report_usage_error("-o %s: cannot open it: %s", dir, strerror(errno));
    return OUTCOME_OK;
}

/* reclaimed_bytes: the space the files each run removes before it begins
 * (the last run's NAME and NAME.part under -o) hold now. */
static double reclaimed_bytes(const struct download *d)
{
    double bytes = 0;
    char part[NAME_MAX + 1];
    struct stat st;
    for (size_t i = 0; i < d->count; i++) {
        download_part_name(d, i, part);
        if (fstatat(d->dir_fd, d->names[i], &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode))
            bytes += (double)st.st_blocks * 512;
        if (fstatat(d->dir_fd, part, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode))
            bytes += (double)st.st_blocks * 512;
    }
    return bytes;
}

/* check_space: refuse made-up files that cannot fit on DIR's file system,
 * counting as free the space of the files every run removes first. */
static enum outcome check_space(const struct download *d, const char *dir)
{
    struct statvfs fs;
    if (fstatvfs(d->dir_fd, &fs) != 0)
        return OUTCOME_OK; /* cannot tell: the writes will say so */
    double needed = (double)d->count * (double)d->size;
    double free_bytes = (double)fs.f_bavail * (double)fs.f_frsize + reclaimed_bytes(d);
    if (needed <= free_bytes)
        return OUTCOME_OK;
    char need_said[REPORT_SIZE_ROOM], free_said[REPORT_SIZE_ROOM];
    return report_usage_error("--files %zu --size %llu: needs %s, but -o %s has %s free", d->count, d->size,
                              report_size(needed, need_said), dir, report_size(free_bytes, free_said));
}

/* ---- the list and the directory, as download_prepare asks for them ---- */

/* check_sources: exactly one source of URLs, and no flag that the other one takes. */
static enum outcome check_sources(const struct options *opt)
{
    if (opt->input_file && opt->server)
        return report_usage_error("-i %s and --server %s: give one source of URLs, not both", opt->input_file,
                                  opt->server);
    if (!opt->input_file && !opt->server)
        return report_usage_error("no URLs: give -i FILE (a list of URLs) or --server HOST:PORT (bin/fileserver)");
    if (opt->input_file && opt->size)
        return report_usage_error("--size %llu: only with --server; the files of -i %s are what they are",
                                  opt->size, opt->input_file);
    return OUTCOME_OK;
}

enum outcome download_list_make(struct download *d, struct options *opt)
{
    enum outcome o = check_sources(opt);
    if (o == OUTCOME_OK && opt->input_file) {
        o = list_from_file(d, opt->input_file);
        if (o == OUTCOME_OK && opt->n_given && opt->n != d->count)
            o = report_usage_error("-n %lu: -i %s lists %zu URLs, and the list decides the number of files",
                                   opt->n, opt->input_file, d->count);
        opt->n = d->count;
    } else if (o == OUTCOME_OK) {
        d->generated = 1;
        o = list_from_server(d, opt);
    }
    if (o == OUTCOME_OK)
        o = check_names(d);
    return o;
}

enum outcome download_output_open(struct download *d, const char *dir)
{
    enum outcome o = open_output(d, dir);
    if (o == OUTCOME_OK && d->generated)
        o = check_space(d, dir);
    return o;
}

void download_part_name(const struct download *d, size_t index, char *name)
{
    snprintf(name, NAME_MAX + 1, "%s" DOWNLOAD_PART_SUFFIX, d->names[index]);
}
