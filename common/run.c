/* common/run.c — the repetition driver every program's main() hands its work to. */
#include "run.h"

#include "team.h"

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
    putchar('\n');
    if (fflush(stdout) != 0 || ferror(stdout)) {
        report_error("cannot write the result line to stdout");
        return OUTCOME_FAILED;
    }
    return OUTCOME_OK;
}

enum outcome runs_repeat(const struct options *opt, const struct task *task, void *work,
                         decomposition run)
{
    for (unsigned i = 0; i < opt->warmup + opt->reps; i++) {
        int timed = i >= opt->warmup;
        task->reset(work);
        struct phases ph = {0, 0, 0, 0};

        team_barrier();
        double start = clock_now();
        enum outcome ran = run(work, &ph);
        double seconds = clock_now() - start;

        if (team_worst(ran) != OUTCOME_OK)
            return OUTCOME_FAILED;
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
        if (timed && team_rank() == 0 &&
            print_result(opt, i - opt->warmup + 1, times[0], &ph, verdict_word(opt, checked), task,
                         work) != OUTCOME_OK)
            checked = OUTCOME_FAILED;
        if (team_worst(checked) != OUTCOME_OK) {
            if (!timed && team_rank() == 0)
                report_error("warm-up run %u did not verify", i + 1);
            return OUTCOME_FAILED;
        }
    }
    return OUTCOME_OK;
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
