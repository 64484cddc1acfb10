/* lessons/examples/race.c — P threads add 1 to one shared counter, with no lock: a data race.
 *
 * Run:   bin/lessons/race -p 2 -n 1000000
 * Shows: "counter=... expected=..." and exit 1 when updates were lost. counter++
 *        is three steps (load, add, store); two threads interleaving them can
 *        both load 41 and both store 42. How many are lost changes run to run.
 *        The fix, two ways: race_fixed.c (diff -u race.c race_fixed.c).
 *        ThreadSanitizer names the race every time:
 *        make FLAVOR=tsan bin/tsan/lessons/race, then bin/tsan/lessons/race -p 2 -n 1000.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_THREADS 256

static long increments = 1000000; /* -n: additions per thread */
/* Shared by every thread, guarded by nothing. volatile only stops the
 * compiler from folding the loop into one "counter += increments" (which a
 * race lets it do, and which would hide the bug); it makes nothing atomic. */
static volatile long counter;

/* add: this thread's share of the additions. */
static void *add(void *unused)
{
    (void)unused;
    for (long i = 0; i < increments; i++)
        counter++; /* load, add, store: another thread can run in between */
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

int main(int argc, char **argv)
{
    long threads = 2;
    for (int i = 1; i < argc; i++) {
        if (i + 1 < argc && strcmp(argv[i], "-p") == 0)
            threads = read_count("-p", argv[++i], 1, MAX_THREADS);
        else if (i + 1 < argc && strcmp(argv[i], "-n") == 0)
            increments = read_count("-n", argv[++i], 1, 1000000000L);
        else {
            fprintf(stderr, "usage: %s [-p THREADS] [-n INCREMENTS]\n", argv[0]);
            return 2;
        }
    }
    pthread_t thread[MAX_THREADS];
    for (long t = 0; t < threads; t++) {
        int rc = pthread_create(&thread[t], NULL, add, NULL);
        if (rc != 0) {
            fprintf(stderr, "pthread_create: %s\n", strerror(rc));
            return 1;
        }
    }
    for (long t = 0; t < threads; t++)
        pthread_join(thread[t], NULL);
    long expected = threads * increments;
    printf("counter=%ld expected=%ld lost=%ld\n", counter, expected, expected - counter);
    return counter == expected ? 0 : 1;
}
