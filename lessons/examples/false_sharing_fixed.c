/* lessons/examples/false_sharing_fixed.c — the same per-thread slots, each padded to a cache line of its own.
 *
 * Run:   bin/lessons/false_sharing_fixed -p 2 -n 100000000
 * Shows: the same total as false_sharing.c, in less time: each slot now fills
 *        a whole 64-byte cache line (bytes_between_slots=64), so a core adding
 *        to its slot keeps the line in its own cache. The bug: false_sharing.c.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_THREADS 64
#define CACHE_LINE 64 /* bytes the cores move between them as one piece (x86, most ARM) */

/* One thread's counter, alone on its cache line. */
struct slot {
    _Alignas(CACHE_LINE) volatile long count; /* volatile: one store per add, as a real tally would do */
};

static struct slot slots[MAX_THREADS];
static long increments = 100000000; /* -n: additions per thread */

/* count: add to this thread's own slot, and nobody else's. */
static void *count(void *arg)
{
    struct slot *mine = arg;
    for (long i = 0; i < increments; i++)
        mine->count++;
    return NULL;
}

/* read_count: a whole number in [min, max] from a flag's value, or exit 2. */
static long read_count(const char *flag, const char *text, long min, long max)
{
    char *end;
    errno = 0;
    long value = strtol(text, &end, 10);
    if (errno || *end || end == text || value < min || value > max) {
        fprintf(stderr, "%s: '%s' is not a whole number from %ld to %ld\n", flag, text, min, max);
        exit(2);
    }
    return value;
}

/* now: seconds on the monotonic clock. */
static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(int argc, char **argv)
{
    long threads = 2;
    for (int i = 1; i < argc; i++) {
        if (i + 1 < argc && strcmp(argv[i], "-p") == 0)
            threads = read_count("-p", argv[++i], 1, MAX_THREADS);
        else if (i + 1 < argc && strcmp(argv[i], "-n") == 0)
            increments = read_count("-n", argv[++i], 1, 10000000000L);
        else {
            fprintf(stderr, "usage: %s [-p THREADS] [-n INCREMENTS]\n", argv[0]);
            return 2;
        }
    }
    pthread_t thread[MAX_THREADS];
    double start = now();
    for (long t = 0; t < threads; t++) {
        int rc = pthread_create(&thread[t], NULL, count, &slots[t]);
        if (rc != 0) {
            fprintf(stderr, "pthread_create: %s\n", strerror(rc));
            return 1;
        }
    }
    for (long t = 0; t < threads; t++)
        pthread_join(thread[t], NULL);
    double seconds = now() - start;
    long total = 0;
    for (long t = 0; t < threads; t++)
        total += slots[t].count;
    printf("total=%ld expected=%ld seconds=%.3f bytes_between_slots=%zu\n", total, threads * increments,
           seconds, sizeof(struct slot));
    return total == threads * increments ? 0 : 1;
}
