/* reference/matmul.c — C = A·B by OpenBLAS's dgemm: the code a user would pick instead.
 *
 * Run:    bin/matmul-blas -n 1024 -r 5           (one thread: the best serial code)
 *         bin/matmul-blas -n 1024 -p 2            (OpenBLAS's own threads)
 * Why:    speedups in this suite are measured against the best serial code,
 *         not against our own serial/matmul.c, and the plots draw this line.
 *         Same inputs, same check and the same result line as the five models;
 *         kernel=openblas says which arithmetic ran, blas_core= which of
 *         OpenBLAS's kernels (its "core"), blas_choice= who chose it, and
 *         blas_core_fits=no when that core is below what the CPU supports.
 * Cores:  OpenBLAS picks its kernels when it loads, from the CPU it sees. On a
 *         CPU it does not know it falls back to an older core (Debian's 0.3.21
 *         runs its SSE3 "Prescott" core on some AVX-512 Xeons), and the lane
 *         would then lose to a textbook kernel. So when the core it detected
 *         is below what the CPU's features support, the program runs itself
 *         again with OPENBLAS_CORETYPE set to a core that fits (it is read only
 *         as the library loads) and says so on stderr. A core the user set in
 *         OPENBLAS_CORETYPE is always kept; an empty OPENBLAS_CORETYPE (as
 *         `OPENBLAS_CORETYPE= make bench` leaves it) names no core, and
 *         OpenBLAS picks one by the CPU's features, so it counts as unset
 *         here too. Every run is verified, so a core that computed wrong
 *         answers would be caught, not trusted.
 * Shared: common/matmul.c (inputs and the check), common/run.c (timing), common/cli.c.
 */
#include <cblas.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <unistd.h>

#include "matmul.h"

#define MODEL "blas"

/* Set by this program when it runs itself again on a better core: the core
 * OpenBLAS had detected. */
#define CORRECTED_VARIABLE "SUITE_BLAS_CORRECTED"
/* For the tests: run as if OpenBLAS had detected this core, to exercise the
 * correction for real on any machine. */
#define TEST_FALLBACK_VARIABLE "SUITE_BLAS_TEST_FALLBACK"
/* Set with TEST_FALLBACK's core: that OPENBLAS_CORETYPE stands for detection, not the user. */
#define DETECTED_BY_TEST_VARIABLE "SUITE_BLAS_DETECTED_BY_TEST"
/* The address space OpenBLAS maps for itself beyond the matrices (its buffers:
 * about 310 MiB in all at n = 512 with Debian's 0.3.21), counted in the memory
 * check: under a tighter `ulimit -v` its allocator retries forever instead of
 * failing, so the run would hang rather than be refused. */
#define OPENBLAS_ROOM (384.0 * 1024 * 1024)
/* What each OpenBLAS thread past the ones it started as it loaded maps: its
 * buffer (128 MiB with Debian's 0.3.21) and its stack. Measured on 2 CPUs at
 * n = 512: 326 MiB at -p 2, 606 at -p 4, 2286 at -p 16, 140 MiB a thread.
 * Address space, hardly touched: counted against `ulimit -v` only, not against
 * the memory (a laptop's -p 32 fits its RAM), and for the same reason as
 * OPENBLAS_ROOM: past the limit, the thread's allocation retries forever. */
#define OPENBLAS_THREAD_ROOM (160.0 * 1024 * 1024)

/* OpenBLAS's own calls for what it runs (declared by cblas.h in newer versions only). */
char *openblas_get_corename(void);
char *openblas_get_config(void);

/* The widest vector instructions an OpenBLAS core uses, lowest first. */
enum blas_tier { TIER_GENERIC, TIER_AVX, TIER_AVX2, TIER_AVX512 };

/* OpenBLAS's x86-64 cores above its generic ones (names as openblas_get_corename says them). */
static const struct {
    const char *core;
    enum blas_tier tier;
} core_tiers[] = {
    {"SkylakeX", TIER_AVX512}, {"Cooperlake", TIER_AVX512}, {"SapphireRapids", TIER_AVX512},
    {"Haswell", TIER_AVX2},    {"Zen", TIER_AVX2},          {"Sandybridge", TIER_AVX},
    {"Bulldozer", TIER_AVX},   {"Piledriver", TIER_AVX},    {"Steamroller", TIER_AVX},
    {"Excavator", TIER_AVX},
};

/* What blas_core=, blas_choice= and blas_core_fits= say. */
static struct {
    const char *core;   /* the core OpenBLAS runs */
    const char *choice; /* "detected", "user" or "corrected" */
    int fits;           /* 1 unless the core is below what the CPU supports */
} lane;

/* core_tier: the tier of an OpenBLAS core by name; unknown names count as generic. */
static enum blas_tier core_tier(const char *core)
{
    for (size_t i = 0; i < sizeof core_tiers / sizeof core_tiers[0]; i++)
        if (strcasecmp(core, core_tiers[i].core) == 0)
            return core_tiers[i].tier;
    return TIER_GENERIC;
}

/* cpu_best_core: the core this CPU's features support (NULL where OpenBLAS's
 * own choice stands: not x86, or no AVX2), and that core's tier. */
static const char *cpu_best_core(enum blas_tier *tier)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) {
        *tier = TIER_AVX512;
        return "SkylakeX";
    }
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        *tier = TIER_AVX2;
        return "Haswell";
    }
#endif
    *tier = TIER_GENERIC;
    return NULL;
}

/* run_again: exec this program anew with the same arguments (the changed
 * environment goes with it); returns only if that failed. */
static void run_again(char **argv)
{
    execv("/proc/self/exe", argv);
    report_error("cannot run itself again (%s); going on with OpenBLAS's own choice", strerror(errno));
}

/* choose_core: keep the core the user set, or the one OpenBLAS detected if it
 * fits this CPU, or run again on one that does; fills `lane`. */
static void choose_core(char **argv)
{
    const char *fallback = getenv(TEST_FALLBACK_VARIABLE);
    if (fallback && !getenv(DETECTED_BY_TEST_VARIABLE)) {
        setenv("OPENBLAS_CORETYPE", fallback, 1);
        setenv(DETECTED_BY_TEST_VARIABLE, "1", 1);
        run_again(argv);
    }
    enum blas_tier cpu_tier;
    const char *best = cpu_best_core(&cpu_tier);
    const char *running = openblas_get_corename();
    const char *set = getenv("OPENBLAS_CORETYPE");
    if (set && *set == '\0')
        set = NULL; /* empty: no core named; OpenBLAS chose by itself */
    const char *corrected_from = getenv(CORRECTED_VARIABLE);
    lane.core = running;
    lane.fits = core_tier(running) >= cpu_tier;
    if (corrected_from) {
        lane.choice = "corrected";
        if (core_tier(running) < cpu_tier)
            report_error("OpenBLAS did not take OPENBLAS_CORETYPE=%s; it runs its %s core", set ? set : "",
                         running);
    } else if (set && !getenv(DETECTED_BY_TEST_VARIABLE)) {
        lane.choice = "user";
        if (strcasecmp(set, running) != 0)
            report_error("OPENBLAS_CORETYPE=%s is set, but OpenBLAS runs its %s core (it did not take that "
                         "name); kept as set", set, running);
        else if (core_tier(running) < cpu_tier)
            report_error("OPENBLAS_CORETYPE=%s is set: a core below what this CPU supports (%s); kept as set, "
                         "so this lane is slower than OpenBLAS can be here", set, best);
    } else {
        lane.choice = "detected";
        if (best && core_tier(running) < cpu_tier) {
            report_error("OpenBLAS chose its %s core, below what this CPU supports; running its %s core "
                         "instead (set OPENBLAS_CORETYPE to choose one yourself)", running, best);
            setenv(CORRECTED_VARIABLE, running, 1);
            setenv("OPENBLAS_CORETYPE", best, 1);
            run_again(argv);
            unsetenv("OPENBLAS_CORETYPE");
        }
    }
}

/* figures: matmul's own (gflops=, kernel=), then what OpenBLAS ran. */
static void figures(void *work, double seconds, FILE *out)
{
    matmul_task.figures(work, seconds, out);
    fprintf(out, " blas_core=%s blas_choice=%s blas_core_fits=%s blas_threads=%d", lane.core, lane.choice,
            lane.fits ? "yes" : "no", openblas_get_num_threads());
}

/* multiply: C = A·B in one dgemm call, on as many threads as OpenBLAS was told. */
static enum outcome multiply(void *work, struct phases *phases)
{
    struct matmul *m = work;
    int n = (int)m->n;
    double start = clock_now();
    m->span[0].start = start;
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0, m->a, n, m->b, n, 0.0, m->c, n);
    m->span[0].end = clock_now();
    phases_from_spans(phases, start, m->span, 1);
    return OUTCOME_OK;
}

/* bytes_needed: matmul's own, and OpenBLAS's room. */
static double bytes_needed(unsigned long n, unsigned workers)
{
    return matmul_workload.bytes_needed(n, workers) + OPENBLAS_ROOM;
}

/* check_address_space: refuse -p when OpenBLAS's threads past those it has
 * started would map more than `ulimit -v` allows (OPENBLAS_THREAD_ROOM). */
static enum outcome check_address_space(unsigned long n, unsigned workers)
{
    int started = openblas_get_num_threads();
    unsigned more = workers > (unsigned)started ? workers - (unsigned)started : 0;
    struct rlimit limit;
    if (more == 0 || getrlimit(RLIMIT_AS, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY)
        return OUTCOME_OK;
    double needed = bytes_needed(n, workers) + more * OPENBLAS_THREAD_ROOM;
    if (needed <= (double)limit.rlim_cur)
        return OUTCOME_OK;
    char need_said[REPORT_SIZE_ROOM], have_said[REPORT_SIZE_ROOM];
    return report_usage_error("-p %u: OpenBLAS's %u threads past the %d it has started need about %s of address "
                              "space in all (a buffer and a stack each), more than the %s ulimit -v allows",
                              workers, more, started, report_size(needed, need_said),
                              report_size((double)limit.rlim_cur, have_said));
}

/* build_max_threads: the most threads this OpenBLAS was built to run (its
 * configuration says MAX_THREADS=N), or fallback when it does not say. */
static unsigned build_max_threads(unsigned fallback)
{
    const char *said = strstr(openblas_get_config(), "MAX_THREADS=");
    unsigned long most = said ? strtoul(said + strlen("MAX_THREADS="), NULL, 10) : 0;
    return most > 0 && most < fallback ? (unsigned)most : fallback;
}

/* set_threads: give OpenBLAS -p threads, refusing counts this build cannot run
 * or this address space cannot hold. */
static enum outcome set_threads(unsigned long n, unsigned workers)
{
    enum outcome o = check_address_space(n, workers);
    if (o != OUTCOME_OK)
        return o;
    openblas_set_num_threads((int)workers);
    int got = openblas_get_num_threads();
    if (got != (int)workers)
        return report_usage_error("-p %u: this OpenBLAS runs at most %d threads", workers, got);
    return OUTCOME_OK;
}

int main(int argc, char **argv)
{
    /* ---- parse ---- */
    struct options opt;
    struct workload blas = matmul_workload;
    blas.flags = NULL; /* no --kernel or --isa: OpenBLAS's dgemm and its own kernels (Cores above) run */
    blas.bytes_needed = bytes_needed;
    blas.max_workers = build_max_threads(blas.max_workers); /* what -p and --describe allow */
    enum outcome o = options_parse(&opt, argc, argv, &blas, MODEL, MANY_WORKERS);
    if (o == OUTCOME_OK)
        o = set_threads(opt.n, opt.workers);
    if (o != OUTCOME_OK)
        return outcome_exit_code(o);
    choose_core(argv);

    /* ---- prepare: A and B from the seed, outside the timed region ---- */
    struct matmul m;
    if (matmul_prepare(&m, &opt, MEMORY_PRIVATE, MATMUL_ALL_WORKERS) != OUTCOME_OK)
        return outcome_exit_code(OUTCOME_FAILED);
    m.kernel = KERNEL_OPENBLAS;

    /* ---- run, verify, report: warm-up runs, then one result line per timed run ---- */
    struct task task = matmul_task;
    task.figures = figures;
    o = runs_repeat(&opt, &task, &m, multiply);
    matmul_release(&m);
    return outcome_exit_code(o);
}
