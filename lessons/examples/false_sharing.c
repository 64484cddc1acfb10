/* lessons/examples/false_sharing.c — each thread counts in its own slot of one array: correct, but slow.
 *
 * Run:   bin/lessons/false_sharing -p 2 -n 100000000
 * Shows: "total=... expected=... seconds=...". No slot is shared, so there is no
 *        race and the total is right; but the slots sit side by side, 8 bytes
 *        apart, so neighbouring ones share a 64-byte cache line (up to eight to
 *        a line), and every add by one core takes that line away from the
 *        others. The fix pads each slot to a line of its own:
 *        false_sharing_fixed.c (diff -u the two); compare the seconds.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_THREADS 64

/* One thread's counter. */
struct slot {
    volatile long count; /* volatile: one store per add, as a real tally would do */
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
