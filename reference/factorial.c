/* reference/factorial.c — factorials by GMP's mpz_fac_ui: the code a user would pick instead.
 *
 * The idea: GMP's own factorial, because speedups in this suite are
 * measured against the best serial code, not only against
 * serial/factorial.c. mpz_fac_ui is not a product of 1..n: it splits n!
 * into primes, gathers each prime's exponent, and builds the result with
 * squarings, which are cheaper than multiplications. One thread; in --mode
 * many the tasks run in order, whatever --schedule says, as in serial/.
 * Same flags, same result line as the five models; n! is checked against
 * the binary-splitting kernel, the one method here that shares nothing with
 * mpz_fac_ui but the multiplication.
 *
 * Run:    bin/factorial-gmp -n 10000000 -r 3                 (one n!)
 *         bin/factorial-gmp --mode many -n 20000             (every k!, one mpz_fac_ui each)
 * Models: common/factorial.h lists every model of this workload, and the code they share.
 */
#include "factorial.h"

#define MODEL "gmp"

/* one_factorial: n! in one mpz_fac_ui call. */
static enum outcome one_factorial(void *work, struct phases *phases)
{
    struct factorial *f = work;
    double start = clock_now();
    f->span[0].start = start;
    mpz_fac_ui(f->result, f->n);
    f->span[0].end = clock_now();
    phases_from_spans(phases, start, f->span, 1);
    return OUTCOME_OK;
}

/* figures: factorial's own, then the GMP it ran (fixed when GMP was built,
 * unlike OpenBLAS's kernels, so its version says all there is). */
static void figures(void *work, double seconds, FILE *out)
{
    factorial_task.figures(work, seconds, out);
    fprintf(out, " gmp_version=%s", gmp_version);
}

/* many_factorials: the tasks 1..n in this thread, as serial/ deals them,
 * each k! by mpz_fac_ui (f->kernel). */
static enum outcome many_factorials(void *work, struct phases *phases)
{
    struct factorial *f = work;
    struct chunk c;
    double start = clock_now();
    while (factorial_deal(f, 0, &c))
        factorial_tasks(f, 0, c, f->residue + c.first);
    factorial_checksum(f);
    phases_from_spans(phases, start, f->span, 1);
    return OUTCOME_OK;
}

int main(int argc, char **argv)
{
    /* ---- parse ---- */
    struct options opt;
    enum outcome o = factorial_options(&opt, argc, argv, MODEL, ONE_WORKER);

    /* ---- prepare: results and records, outside the timed region ---- */
    struct factorial f = {0};
    if (o == OUTCOME_OK)
        o = factorial_prepare(&f, &opt, MEMORY_PRIVATE);
    f.kernel = KERNEL_FAC_UI; /* mpz_fac_ui, checked by the binary-splitting kernel */

    /* ---- run, verify, report: warm-up runs, then one result line per timed run ---- */
    struct task task = factorial_task;
    task.figures = figures;
    if (o == OUTCOME_OK)
        o = runs_repeat(&opt, &task, &f, f.mode == MODE_BIG ? one_factorial : many_factorials);
    factorial_release(&f);
    return outcome_exit_code(o);
}
