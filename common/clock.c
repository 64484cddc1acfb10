/* common/clock.c — monotonic wall-clock time and its observed granularity. */
#include "clock.h"

#include <time.h>

/* How many distinct clock steps clock_tick looks at before taking the smallest. */
#define TICK_SAMPLES 32

double clock_now(void)
{
    struct timespec ts;
    /* CLOCK_MONOTONIC cannot fail on Linux with a valid pointer; a zero
     * reading would show up as a zero-second run, never as a crash. */
    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
        return 0.0;
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

double clock_tick(void)
{
    double smallest = 1.0;
    double previous = clock_now();
    for (int seen = 0; seen < TICK_SAMPLES;) {
        double t = clock_now();
        if (t > previous) {
            if (t - previous < smallest)
                smallest = t - previous;
            previous = t;
            seen++;
        }
    }
    return smallest;
}
