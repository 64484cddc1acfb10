/* common/run.h — the timing contract, written once: warm-up, timed runs, phases, check, report.
 *
 * For each run the driver (runs_repeat) resets the result, lines the team up,
 * reads the monotonic clock, calls the model's decomposition, reads the clock
 * again, and only then verifies and prints. So input generation and
 * verification stay outside the timed region, while creating and joining
 * workers, forking and reaping, and MPI messages stay inside it: they are
 * the model's real cost. The model also splits its time into phases.
 */
#ifndef RUN_H
#define RUN_H

#include <stddef.h>
#include <stdio.h>

#include "cli.h"
#include "clock.h"
#include "report.h"

/* One worker's stay in the kernel, stamped by the worker itself on the
 * shared monotonic clock. */
struct span {
    double start, end;
};

/* Where a run's time went; result lines print these as setup= comm= compute= combine=.
 * Under MPI each is the maximum over ranks. They need not add up to the
 * total: waiting for the slowest worker (imbalance) belongs to none of them. */
struct phases {
    double setup;   /* starting workers: thread creation, fork, waking an OpenMP team */
    double comm;    /* moving data between address spaces: MPI messages, pipes */
    double compute; /* the longest any worker spent in the kernel */
    double combine; /* joining or reaping workers and merging their results */
};

/* The workload's side of a run, apart from the model's decomposition. */
struct task {
    void (*reset)(void *work);                            /* poison the result, so skipped work shows */
    enum outcome (*verify)(void *work);                   /* whole result against an independent reference */
    void (*corrupt)(void *work);                          /* --inject-error: spoil one value of the result */
    void (*figures)(void *work, double seconds, FILE *out); /* its own key=value pairs, e.g. gflops= */
};

/* The model's decomposition: one timed computation of the whole result. */
typedef enum outcome (*decomposition)(void *work, struct phases *phases);

/* runs_repeat: the warm-up runs, then opt->reps timed runs with one result line
 * each (a warm-up run's line appears only when its result is wrong, as rep=0),
 * and for 3 runs or more a summary line on stderr: median, min and max seconds.
 * Returns OUTCOME_FAILED at the first failure or wrong result. */
enum outcome runs_repeat(const struct options *opt, const struct task *task, void *work,
                         decomposition run);

/* phases_from_spans: the phases of a shared-memory run that began at start
 * and has just ended: setup until the last worker began, compute the longest
 * span, combine from the last worker's end until now. */
void phases_from_spans(struct phases *phases, double start, const struct span *spans, size_t count);

/* block_range: the index-th of parts near-equal slices of 0..total, as [*first, *last). */
void block_range(size_t total, size_t parts, size_t index, size_t *first, size_t *last);

#endif
