/* common/run.c — the repetition driver every program's main() hands its work to. */
#include "run.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "team.h"

/* From this many timed runs on, a summary line (median, min, max) follows them on stderr. */
#define SUMMARY_MIN_REPS 3u

/* verdict_word: what verified= says. */
static const char *verdict_word(const struct options *opt, enum outcome checked)
{
    if (!opt->verify)
        return "skipped";
    return checked == OUTCOME_OK ? "yes" : "no";
}

/* print_result: one result line; OUTCOME_FAILED if stdout cannot take it. */
static enum outcome print_result(const struct options *opt, unsigned rep, double seconds,
                                 const struct phases *ph, const char *verified,
                                 const struct task *task, void *work)
{
    printf("workload=%s model=%s n=%lu workers=%u rep=%u seconds=%.9f setup=%.9f comm=%.9f "
           "compute=%.9f combine=%.9f verified=%s",
           opt->workload->name, opt->model, opt->n, opt->workers, rep, seconds, ph->setup,
           ph->comm, ph->compute, ph->combine, verified);
    task->figures(work, seconds, stdout);
    team_figures(stdout);
    putchar('\n');
    if (fflush(stdout) != 0 || ferror(stdout)) {
        report_error("cannot write the result line to stdout: %s", strerror(errno));
        return OUTCOME_FAILED;
    }
    return OUTCOME_OK;
}

/* compare_seconds: qsort's order for run times. */
static int compare_seconds(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

/* print_summary: one line on stderr with the median, fastest and slowest of
 * the timed runs, so that nobody reads a median off the lines by eye. Sorts seconds. */
static void print_summary(double *seconds, unsigned count)
{
    qsort(seconds, count, sizeof *seconds, compare_seconds);
    double median = count % 2 ? seconds[count / 2] : (seconds[count / 2 - 1] + seconds[count / 2]) / 2;
    fprintf(stderr, "%s: summary of %u timed runs: median_seconds=%.9f min_seconds=%.9f max_seconds=%.9f\n",
            report_program(), count, median, seconds[0], seconds[count - 1]);
}

/* report_wrong_warmup: why a program stopped before its first timed run. */
static void report_wrong_warmup(void)
{
    report_error("stopping: the first run's result was wrong (rep=0 above: an untimed warm-up run, made "
                 "before the timed ones; --warmup 0 leaves it out), so no timed run was made");
}

enum outcome runs_repeat(const struct options *opt, const struct task *task, void *work,
                         decomposition run)
{
    int summarize = opt->reps >= SUMMARY_MIN_REPS && team_rank() == 0;
    double *seconds_of = summarize ? malloc(opt->reps * sizeof *seconds_of) : NULL;
    if (summarize && !seconds_of) {
        report_error("cannot allocate room for %u run times", opt->reps);
        return OUTCOME_FAILED;
    }
    enum outcome result = OUTCOME_OK;
    for (unsigned i = 0; i < opt->warmup + opt->reps && result == OUTCOME_OK; i++) {
        int timed = i >= opt->warmup;
        task->reset(work);
        struct phases ph = {0, 0, 0, 0};

        team_barrier();
        double start = clock_now();
        enum outcome ran = run(work, &ph);
        double seconds = clock_now() - start;

        if (team_worst(ran) != OUTCOME_OK) {
            result = OUTCOME_FAILED;
            break;
        }
        double times[] = {seconds, ph.setup, ph.comm, ph.compute, ph.combine};
        team_max(times, (int)(sizeof times / sizeof times[0]));
        ph = (struct phases){times[1], times[2], times[3], times[4]};

        enum outcome checked = OUTCOME_OK;
        if (team_rank() == 0) {
            if (opt->inject_error)
                task->corrupt(work);
            if (opt->verify)
                checked = task->verify(work);
        }
        checked = team_worst(checked);
        /* A warm-up run's line is printed only when it is wrong (as rep=0), so
         * that a wrong result is always seen, timed or not. */
        unsigned rep = timed ? i - opt->warmup + 1 : 0;
        if ((timed || checked != OUTCOME_OK) && team_rank() == 0 &&
            print_result(opt, rep, times[0], &ph, verdict_word(opt, checked), task, work) != OUTCOME_OK)
            checked = OUTCOME_FAILED;
        if (team_worst(checked) != OUTCOME_OK) {
            if (!timed && team_rank() == 0)
                report_wrong_warmup();
            result = OUTCOME_FAILED;
        } else if (timed && summarize) {
            seconds_of[rep - 1] = times[0];
        }
    }
    if (result == OUTCOME_OK && summarize)
        print_summary(seconds_of, opt->reps);
    free(seconds_of);
    return result;
}

void phases_from_spans(struct phases *phases, double start, const struct span *spans, size_t count)
{
    double now = clock_now();
    double last_start = start, last_end = start, longest = 0;
    for (size_t w = 0; w < count; w++) {
        if (spans[w].start > last_start)
            last_start = spans[w].start;
        if (spans[w].end > last_end)
            last_end = spans[w].end;
        if (spans[w].end - spans[w].start > longest)
            longest = spans[w].end - spans[w].start;
    }
    phases->setup = last_start - start;
    phases->compute = longest;
    phases->combine = now - last_end;
}

void block_range(size_t total, size_t parts, size_t index, size_t *first, size_t *last)
{
    /* index * total fits: total <= 2^40 and parts <= 2^20 wherever this is used. */
    *first = total * index / parts;
    *last = total * (index + 1) / parts;
}
