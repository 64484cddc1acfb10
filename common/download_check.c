/* common/download_check.c — download's task around each run (reset, check, --inject-error, figures), and its end. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "content.h"
#include "download_private.h"
#include "fdio.h"
#include "team.h"

/* Bytes read at a time by the check. */
#define CHECK_CHUNK (256u << 10)

/* ---- the end of a run ---- */

/* cpu_seconds: user and system CPU time of this process and the children it reaped. */
static void cpu_seconds(double seconds[2])
{
    struct rusage self, children;
    if (getrusage(RUSAGE_SELF, &self) != 0 || getrusage(RUSAGE_CHILDREN, &children) != 0) {
        seconds[0] = seconds[1] = 0; /* cannot fail with these arguments */
        return;
    }
    seconds[0] = (double)(self.ru_utime.tv_sec + children.ru_utime.tv_sec) +
                 (double)(self.ru_utime.tv_usec + children.ru_utime.tv_usec) / 1e6;
    seconds[1] = (double)(self.ru_stime.tv_sec + children.ru_stime.tv_sec) +
                 (double)(self.ru_stime.tv_usec + children.ru_stime.tv_usec) / 1e6;
}

/* count_state: how many files' records are in this state. */
static size_t count_state(const struct download *d, enum file_state state)
{
    size_t count = 0;
    for (size_t i = 0; i < d->count; i++)
        count += d->record[i].state == state;
    return count;
}

void download_finish(struct download *d, struct phases *phases, double start)
{
    phases_from_spans(phases, start, d->span, d->local);
    phases->comm = phases->compute; /* a worker's span is its transfers: time spent waiting on the network */
    phases->compute = 0;
    double now[2];
    cpu_seconds(now);
    d->cpu[0] = now[0] - d->cpu_at_reset[0];
    d->cpu[1] = now[1] - d->cpu_at_reset[1];
    d->failed_total += count_state(d, FILE_FAILED);
}

enum outcome download_failures(const struct download *d)
{
    if (d->failed_total == 0)
        return OUTCOME_OK;
    report_error("%zu download%s given up on (named above)", d->failed_total, d->failed_total == 1 ? " was" : "s were");
    return OUTCOME_FAILED;
}

/* ---- the task: what runs_repeat does around each timed run ---- */

/* clear_files: remove every file of the list, and its NAME.part, from the
 * output directory, so that the run to come really downloads them all. */
static void clear_files(const struct download *d)
{
    char part[NAME_MAX + 1];
    for (size_t i = 0; i < d->count; i++) {
        download_part_name(d, i, part);
        if (unlinkat(d->dir_fd, d->names[i], 0) != 0 && errno != ENOENT)
            report_error("cannot remove the last run's %s: %s", d->names[i], strerror(errno));
        if (unlinkat(d->dir_fd, part, 0) != 0 && errno != ENOENT)
            report_error("cannot remove the last run's %s: %s", part, strerror(errno));
    }
}

static void reset(void *work)
{
    struct download *d = work;
    if (team_rank() == 0) /* one rank clears; the barrier before the clock waits for it */
        clear_files(d);
    memset(d->record, 0, d->count * sizeof *d->record);
    memset(d->span, 0, d->local * sizeof *d->span);
    atomic_store(d->next, 0);
    cpu_seconds(d->cpu_at_reset);
}

/* first_difference: where two blocks known to differ first differ. */
static size_t first_difference(const unsigned char *x, const unsigned char *y)
{
    size_t at = 0;
    while (x[at] == y[at])
        at++;
    return at;
}

/* read_back: up to length bytes of file `index` from offset, retrying after a
 * signal; the count read, or 0 after saying why nothing could be. */
static size_t read_back(const struct download *d, size_t index, int fd, void *buffer, size_t length,
                        uint64_t offset)
{
    ssize_t n = fdio_pread(fd, buffer, length, offset);
    if (n <= 0)
        report_error("wrong result: reading %s at byte %llu failed: %s", d->names[index],
                     (unsigned long long)offset, n < 0 ? strerror(errno) : "it ends there");
    return n > 0 ? (size_t)n : 0;
}

/* compare_generated: the file against the stream it was made from, every byte. */
static enum outcome compare_generated(const struct download *d, size_t index, int fd, unsigned char *got,
                                      unsigned char *want)
{
    uint64_t key = content_key(d->names[index]);
    for (uint64_t offset = 0; offset < d->size;) {
        size_t length = d->size - offset < CHECK_CHUNK ? (size_t)(d->size - offset) : CHECK_CHUNK;
        size_t n = read_back(d, index, fd, got, length, offset);
        if (n == 0)
            return OUTCOME_FAILED;
        content_fill(key, offset, want, n);
        if (memcmp(got, want, n) != 0) {
            size_t at = first_difference(got, want);
            report_error("wrong result: %s byte %llu is 0x%02x, the file the server makes has 0x%02x",
                         d->names[index], (unsigned long long)(offset + at), got[at], want[at]);
            return OUTCOME_FAILED;
        }
        offset += (uint64_t)n;
    }
    return OUTCOME_OK;
}

/* compare_checksum: the file's CRC-32C, read back from disk, against the one the server announced. */
static enum outcome compare_checksum(const struct download *d, size_t index, int fd, uint64_t size,
                                     unsigned char *buffer)
{
    uint32_t crc = 0;
    for (uint64_t offset = 0; offset < size;) {
        size_t n = read_back(d, index, fd, buffer, CHECK_CHUNK, offset);
        if (n == 0)
            return OUTCOME_FAILED;
        crc = content_crc32c(crc, buffer, n);
        offset += (uint64_t)n;
    }
    uint32_t announced = (uint32_t)d->record[index].checksum;
    if (crc != announced) {
        report_error("wrong result: %s has CRC-32C %08x, the server announced %08x", d->names[index],
                     (unsigned)crc, (unsigned)announced);
        return OUTCOME_FAILED;
    }
    return OUTCOME_OK;
}

/* check_file: one delivered file as it is on disk: no NAME.part beside it,
 * the size it was delivered with (--server: the size asked for), and its
 * content: --server's every byte regenerated, otherwise the server's CRC-32C
 * (a server that sent none leaves the size as the only check). */
static enum outcome check_file(const struct download *d, size_t index, unsigned char *got, unsigned char *want)
{
    char part[NAME_MAX + 1];
    const char *name = d->names[index];
    download_part_name(d, index, part);
    if (faccessat(d->dir_fd, part, F_OK, 0) == 0) {
        report_error("wrong result: %s is still there beside %s", part, name);
        return OUTCOME_FAILED;
    }
    int fd = openat(d->dir_fd, name, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        report_error("wrong result: %s was delivered but cannot be opened: %s", name, strerror(errno));
        return OUTCOME_FAILED;
    }
    struct stat st;
    uint64_t expected = d->generated ? d->size : d->record[index].bytes;
    enum outcome o = OUTCOME_OK;
    if (fstat(fd, &st) != 0) {
        report_error("wrong result: fstat of %s failed: %s", name, strerror(errno));
        o = OUTCOME_FAILED;
    } else if ((uint64_t)st.st_size != expected) {
        report_error("wrong result: %s has %lld bytes, expected %llu", name, (long long)st.st_size,
                     (unsigned long long)expected);
        o = OUTCOME_FAILED;
    } else if (d->generated) {
        o = compare_generated(d, index, fd, got, want);
    } else if (d->record[index].checksum & CHECKSUM_KNOWN) {
        o = compare_checksum(d, index, fd, expected, got);
    }
    close(fd); /* read-only: nothing to lose */
    return o;
}

/* hint_loopback: when files failed from a loopback address while the ranks ran on
 * several hosts, say why that cannot work: each host's loopback is its own. */
static void hint_loopback(const struct download *d)
{
    char host[DOWNLOAD_REASON_BYTES];
    for (size_t i = 0; i < d->count && team_hosts() > 1; i++)
        if (d->record[i].state == FILE_FAILED && download_url_loopback(d->urls[i], host, sizeof host)) {
            report_error("%s is a loopback address, and the ranks ran on %d hosts: through it each rank reaches "
                         "its own host, not the server's; give an address every host reaches (under tools/cluster, "
                         "the head's: bin/fileserver --bind 169.254.100.254)", host, team_hosts());
            return;
        }
}

static enum outcome verify(void *work)
{
    struct download *d = work;
    unsigned char *got = malloc(CHECK_CHUNK), *want = malloc(CHECK_CHUNK);
    if (!got || !want) {
        report_error("out of memory for the check's buffers");
        free(got);
        free(want);
        return OUTCOME_FAILED;
    }
    enum outcome verdict = OUTCOME_OK;
    size_t failed = 0, pending = 0;
    for (size_t i = 0; i < d->count && verdict == OUTCOME_OK; i++) {
        if (d->record[i].state == FILE_DONE)
            verdict = check_file(d, i, got, want);
        else if (d->record[i].state == FILE_FAILED)
            failed++;
        else
            pending++;
    }
    free(got);
    free(want);
    if (verdict == OUTCOME_OK && pending > 0) {
        report_error("wrong result: %zu of %zu files were never finished (a worker died?)", pending, d->count);
        verdict = OUTCOME_FAILED;
    }
    if (verdict == OUTCOME_OK && failed > 0) {
        report_error("%zu of %zu files could not be downloaded (named above); the other %zu are intact", failed,
                     d->count, d->count - failed);
        hint_loopback(d);
        verdict = OUTCOME_FAILED;
    }
    return verdict;
}

/* corrupt: spoil the first delivered file in a way its check reads. */
static void corrupt(void *work)
{
    struct download *d = work;
    size_t i = 0;
    while (i < d->count && d->record[i].state != FILE_DONE)
        i++;
    if (i == d->count)
        return; /* nothing was delivered: the check fails anyway */
    /* A file whose bytes the check reads (--server's, or one the server sent
     * a CRC-32C for) gets a byte flipped in its middle; of any other the check
     * knows only the size, so it gets a byte too many (an empty file too). */
    int content_checked = d->generated || (d->record[i].checksum & CHECKSUM_KNOWN);
    unsigned char byte = 0;
    off_t at = (off_t)(content_checked ? d->record[i].bytes / 2 : d->record[i].bytes);
    int fd = openat(d->dir_fd, d->names[i], O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        report_error("--inject-error: cannot open %s: %s", d->names[i], strerror(errno));
        return;
    }
    if ((uint64_t)at < d->record[i].bytes && pread(fd, &byte, 1, at) != 1)
        report_error("--inject-error: cannot read %s: %s", d->names[i], strerror(errno));
    byte = (unsigned char)~byte;
    if (pwrite(fd, &byte, 1, at) != 1)
        report_error("--inject-error: cannot change %s: %s", d->names[i], strerror(errno));
    close(fd);
}

static void figures(void *work, double seconds, FILE *out)
{
    struct download *d = work;
    unsigned long long bytes = 0, retries = 0;
    for (size_t i = 0; i < d->count; i++) {
        bytes += d->record[i].bytes;
        retries += d->record[i].retries;
    }
    fprintf(out, " bytes=%llu files=%zu failures=%zu retries=%llu mbps=%.3f cpu_user=%.6f cpu_sys=%.6f", bytes,
            count_state(d, FILE_DONE), count_state(d, FILE_FAILED), retries,
            seconds > 0 ? (double)bytes / seconds / 1e6 : 0.0, d->cpu[0], d->cpu[1]);
}

const struct task download_task = {reset, verify, corrupt, figures};
