/* common/factorial_big.c — --mode big's two kernels as stages of jobs (see factorial_big.h). */
#include "factorial_big.h"
#include "halves.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Numbers below this many limbs are squared or multiplied whole by the
 * coordinator: cut smaller, the adding-up would cost more than the workers save. */
#define SPLIT_LIMBS 4096u
/* A squaring is cut into at most this many pieces (their squares and
 * pairwise products are the jobs: pieces·(pieces+1)/2 of them). */
#define MOST_SQUARE_PIECES 8u
/* Up to this many workers a multiplication is cut into its two residues
 * (halves.h), which cost no more than the whole product; beyond, into as
 * many pieces as there are workers, which cost more but keep all busy. */
#define MOST_HALVES_WORKERS 3u
/* A prime list is cut into this many segments per worker. */
#define SEGMENTS_PER_WORKER 1u
/* What a squaring costs against a multiplication of the same size (GMP, FFT sizes). */
#define SQUARE_SHARE 0.6
/* What the residue mod B^m + 1 costs against the one mod B^m − 1: GMP
 * computes the first as one FFT of m limbs and the second as two of m/2
 * (B^m − 1 = (B^(m/2) − 1)(B^(m/2) + 1)), which cost less (in the chain
 * of squarings at n = 10^7, 5-20% less). So the dearer one goes to the
 * coordinator: a worker with an address space of its own (processes, MPI)
 * starts later, its operands copied in first, and its product must travel
 * back; the cheaper job hides those copies. */
#define PLUS_SHARE 1.1

/* ---- the prime table ------------------------------------------------------------ */

/* exponent_in_factorial: the exponent of prime p in n!, by Legendre's formula. */
static uint32_t exponent_in_factorial(unsigned long n, unsigned long p)
{
    uint64_t e = 0;
    for (uint64_t q = n / p; q > 0; q /= p)
        e += q;
    return (uint32_t)e;
}

enum outcome factorial_prime_table(struct factorial *f)
{
    if (f->primes_ready)
        return OUTCOME_OK;
    unsigned long n = f->n;
    size_t odd = factorial_sieve_bytes(n);
    if (!f->composite || !f->prime || !f->exponent) {
        report_error("the primes kernel runs without its prime table (factorial_prepare made none)");
        return OUTCOME_FAILED;
    }
    memset(f->composite, 0, odd);
    size_t count = 0;
    for (size_t i = 0; i < odd; i++) {
        if (f->composite[i])
            continue;
        unsigned long p = 2 * i + 3;
        for (unsigned long m = p * p; p <= n / p && m <= n; m += 2 * p)
            f->composite[(m - 3) / 2] = 1;
        if (count == f->prime_room) {
            report_error("more than %zu odd primes up to %lu: the table's bound is wrong", f->prime_room, n);
            return OUTCOME_FAILED;
        }
        f->prime[count] = (uint32_t)p;
        f->exponent[count] = exponent_in_factorial(n, p);
        count++;
    }
    f->primes = count;
    f->primes_ready = 1;
    return OUTCOME_OK;
}

size_t factorial_sieve_bytes(unsigned long n)
{
    return n >= 3 ? (n - 1) / 2 : 0; /* odd numbers only, from 3 */
}

size_t factorial_prime_bound(unsigned long n)
{
    /* about n / ln n primes below n; n / (ln n - 1.1) is an upper bound past 60 */
    return n < 60 ? 20 : (size_t)((double)n / (log((double)n) - 1.1)) + 16;
}

/* ---- one job ------------------------------------------------------------------- */

/* Every factor is below 2^32, so a word below this can take one more. */
#define WORD_ROOM (UINT64_C(1) << 32)
/* Lists of at most this many factors are multiplied a word at a time; longer ones are halved. */
#define LEAF_FACTORS 32

/* selected_product: out = the product of primes[first..last) whose exponent
 * has bit `bit` set, by binary splitting over the list. */
static void selected_product(const struct factorial *f, mpz_t out, size_t first, size_t last, unsigned bit)
{
    if (last - first <= LEAF_FACTORS) {
        uint64_t word = 1;
        mpz_set_ui(out, 1);
        for (size_t i = first; i < last; i++) {
            if (!(f->exponent[i] >> bit & 1))
                continue;
            if (word >= WORD_ROOM) {
                mpz_mul_ui(out, out, word);
                word = 1;
            }
            word *= f->prime[i];
        }
        mpz_mul_ui(out, out, word);
        return;
    }
    size_t middle = first + (last - first) / 2;
    mpz_t upper;
    mpz_init(upper);
    selected_product(f, out, first, middle, bit);
    selected_product(f, upper, middle, last, bit);
    mpz_mul(out, out, upper);
    mpz_clear(upper);
}

void factorial_piece_view(const struct factorial *f, const struct big_piece *piece, mpz_t view)
{
    mpz_srcptr whole = f->number[piece->slot];
    size_t size = mpz_size(whole);
    if (piece->from == 0 && piece->limbs == 0) {
        mpz_roinit_n(view, mpz_limbs_read(whole), (mp_size_t)size);
        return;
    }
    size_t from = piece->from < size ? piece->from : size;
    size_t limbs = piece->limbs < size - from ? piece->limbs : size - from;
    const mp_limb_t *d = mpz_limbs_read(whole) + from;
    while (limbs > 0 && d[limbs - 1] == 0) /* a view must not end in zero limbs */
        limbs--;
    mpz_roinit_n(view, d, (mp_size_t)limbs);
}

/* operand: a job's operand: the number itself when the piece is all of it
 * (so GMP sees when the product goes where an operand is), else a view. */
static mpz_srcptr operand(const struct factorial *f, const struct big_piece *piece, mpz_t view)
{
    if (piece->from == 0 && piece->limbs == 0)
        return f->number[piece->slot];
    factorial_piece_view(f, piece, view);
    return view;
}

/* same_piece: whether two pieces are one (a job on them squares). */
static int same_piece(const struct big_piece *a, const struct big_piece *b)
{
    return a->slot == b->slot && a->from == b->from && a->limbs == b->limbs;
}

int factorial_job_operands(const struct big_job *job)
{
    switch (job->kind) {
    case JOB_MUL:
        return 2;
    case JOB_SQUARE:
        return 1;
    case JOB_MINUS:
    case JOB_PLUS:
        return same_piece(&job->x, &job->y) ? 1 : 2;
    default:
        return 0;
    }
}

void factorial_job_product(const struct big_job *job, mpz_ptr out, mpz_srcptr x, mpz_srcptr y)
{
    switch (job->kind) {
    case JOB_MINUS:
        halves_minus(out, x, y, job->first);
        break;
    case JOB_PLUS:
        halves_plus(out, x, y, job->first);
        break;
    default: /* JOB_MUL, JOB_SQUARE (y is x) */
        mpz_mul(out, x, y);
        break;
    }
}

double factorial_job(struct factorial *f, const struct big_job *job)
{
    double start = clock_now();
    mpz_ptr out = f->number[job->out];
    mpz_t x, y;
    switch (job->kind) {
    case JOB_RANGE:
        factorial_odd_product(out, job->first, job->last);
        break;
    case JOB_PRIMES:
        selected_product(f, out, job->first, job->last, job->bit);
        break;
    default: { /* the products: a square's y is its x, one view of one piece */
        mpz_srcptr first = operand(f, &job->x, x);
        factorial_job_product(job, out, first, factorial_job_operands(job) == 1 ? first : operand(f, &job->y, y));
        break;
    }
    }
    return clock_now() - start;
}

void factorial_run_jobs(struct factorial *f, const struct big_stage *stage, unsigned worker)
{
    double busy = 0;
    f->span[worker].start = clock_now();
    for (unsigned j = 0; j < stage->count; j++)
        if (stage->job[j].worker == worker)
            busy += factorial_job(f, &stage->job[j]);
    f->busy[worker] = busy;
    f->span[worker].end = clock_now();
}

mpz_t *factorial_operands_make(const struct factorial *f)
{
    size_t count = 2 * (size_t)f->job_room;
    mpz_t *operand = malloc(count * sizeof *operand);
    if (!operand) {
        report_error("out of memory for %zu operands", count);
        return NULL;
    }
    for (size_t i = 0; i < count; i++)
        mpz_init(operand[i]);
    return operand;
}

void factorial_operands_free(const struct factorial *f, mpz_t *operand)
{
    for (size_t i = 0; operand && i < 2 * (size_t)f->job_room; i++)
        mpz_clear(operand[i]);
    free(operand);
}

void factorial_run_received(struct factorial *f, const struct big_stage *stage, unsigned worker, mpz_t *operand)
{
    double busy = 0;
    f->span[worker].start = clock_now();
    for (unsigned j = 0; j < stage->count; j++) {
        const struct big_job *job = &stage->job[j];
        if (job->worker != worker)
            continue;
        int operands = factorial_job_operands(job); /* a square's one operand is x and y */
        if (operands == 0) {
            busy += factorial_job(f, job);
            continue;
        }
        double began = clock_now();
        factorial_job_product(job, f->number[job->out], operand[2 * j], operand[2 * j + operands - 1]);
        busy += clock_now() - began;
    }
    f->busy[worker] = busy;
    f->span[worker].end = clock_now();
}

void factorial_stage_phases(const struct factorial *f, double start, struct phases *phases)
{
    double now = clock_now(), last_start = start, last_end = start, longest = 0;
    for (unsigned w = 0; w < f->workers; w++) {
        if (f->span[w].start > last_start)
            last_start = f->span[w].start;
        if (f->span[w].end > last_end)
            last_end = f->span[w].end;
        if (f->busy[w] > longest)
            longest = f->busy[w];
    }
    phases->setup += last_start - start;
    phases->compute += longest;
    phases->combine += now - last_end;
}

/* ---- building stages ------------------------------------------------------------ */

/* take_slot: a fresh number of the table for this run. */
static unsigned take_slot(struct factorial *f)
{
    return f->numbers_used++;
}

/* add_job: append a job to the stage being built (room was made by factorial_prepare). */
static struct big_job *add_job(struct factorial *f, struct big_stage *stage, enum big_job_kind kind, double cost)
{
    struct big_job *job = &stage->job[stage->count++];
    *job = (struct big_job){.kind = kind, .out = take_slot(f), .cost = cost};
    return job;
}

/* multiply_cost: a rough cost of multiplying numbers of these many limbs
 * (n log n, as GMP's FFT), only to share jobs out evenly. */
static double multiply_cost(double limbs_x, double limbs_y)
{
    double total = limbs_x + limbs_y + 1;
    return total * log2(total + 1);
}

/* compare_cost: qsort's order for jobs: costliest first. */
static int compare_cost(const void *a, const void *b)
{
    double x = ((const struct big_job *)a)->cost, y = ((const struct big_job *)b)->cost;
    return (x < y) - (x > y);
}

/* share_out: give each job, costliest first, to the worker with the least
 * work so far (worker 0 first among equals: it needs no message). */
static void share_out(const struct factorial *f, struct big_stage *stage)
{
    qsort(stage->job, stage->count, sizeof *stage->job, compare_cost);
    double *load = f->busy; /* free until the stage runs */
    memset(load, 0, f->workers * sizeof *load);
    for (unsigned j = 0; j < stage->count; j++) {
        unsigned least = 0;
        for (unsigned w = 1; w < f->workers; w++)
            if (load[w] < load[least])
                least = w;
        stage->job[j].worker = least;
        load[least] += stage->job[j].cost;
    }
}

/* run_stage: share the stage out and have the model run it; a stage of one
 * job (a number too short to cut) the coordinator runs itself. Its time
 * goes to compute, or for a stage of the combining part (the tree's
 * rounds, the chain of squarings) to combine, the phase a reader looks
 * in for the serial part. */
static enum outcome run_stage(struct factorial *f, struct big_stage *stage, big_runner run, struct phases *phases)
{
    share_out(f, stage);
    memset(f->busy, 0, f->workers * sizeof *f->busy);
    memset(f->span, 0, f->workers * sizeof *f->span);
    struct phases own = {0, 0, 0, 0};
    enum outcome o = OUTCOME_OK;
    if (stage->count == 1) {
        own.compute = factorial_job(f, &stage->job[0]);
    } else {
        f->stage = stage;
        o = run(f, stage, &own);
    }
    phases->setup += own.setup;
    phases->comm += own.comm;
    if (stage->combining)
        phases->combine += own.compute + own.combine;
    else {
        phases->compute += own.compute;
        phases->combine += own.combine;
    }
    return o;
}

/* split_limbs: SPLIT_LIMBS, or FACTORIAL_SPLIT_LIMBS from the environment
 * (the tests cut small numbers to reach every edge of the cutting). */
static size_t split_limbs(void)
{
    const char *text = getenv("FACTORIAL_SPLIT_LIMBS");
    char *end = NULL;
    unsigned long value = text ? strtoul(text, &end, 10) : 0;
    return text && *text && end && *end == '\0' && value > 0 ? (size_t)value : SPLIT_LIMBS;
}

/* pieces_of: into how many pieces to cut a number of this many limbs for this many workers. */
static unsigned pieces_of(const struct factorial *f, size_t limbs, unsigned most)
{
    unsigned pieces = f->workers < most ? f->workers : most;
    size_t least = split_limbs();
    while (pieces > 1 && limbs / pieces < least)
        pieces--;
    return pieces;
}

/* release: give a number's memory back (set to 0 would keep it): the
 * stages' pieces are as large as n! together, so they must not pile up. */
static void release(struct factorial *f, unsigned slot)
{
    mpz_clear(f->number[slot]);
    mpz_init(f->number[slot]);
}

/* add_shifted: sum += part · 2^(64·limbs) · (twice ? 2 : 1), in place (no
 * shifted copy of part is made); part is given back afterwards. */
static void add_shifted(struct factorial *f, unsigned sum_slot, unsigned part_slot, size_t limbs, int twice)
{
    mpz_ptr sum = f->number[sum_slot], part = f->number[part_slot];
    if (twice)
        mpz_mul_2exp(part, part, 1);
    size_t p = mpz_size(part), s = mpz_size(sum);
    if (p > 0) {
        size_t top = (s > limbs + p ? s : limbs + p) + 1; /* one limb for the carry */
        mp_limb_t *d = mpz_limbs_modify(sum, (mp_size_t)top);
        for (size_t i = s; i < top; i++)
            d[i] = 0;
        mpn_add(d + limbs, d + limbs, (mp_size_t)(top - limbs), mpz_limbs_read(part), (mp_size_t)p);
        mpz_limbs_finish(sum, (mp_size_t)top); /* normalizes: drops the top limb if the carry did not reach it */
    }
    release(f, part_slot);
}

/* by_halves: whether to cut a product whose shorter operand is this long
 * into its two residues (halves.h) rather than into pieces. Both operands
 * must be long: GMP multiplies a long number by a short one in chunks of
 * the short one's size, cheaper than the residues' FFTs of the long one's. */
static int by_halves(const struct factorial *f, size_t shorter_limbs)
{
    return f->workers >= 2 && f->workers <= MOST_HALVES_WORKERS && shorter_limbs >= split_limbs() &&
           halves_available();
}

/* halves: number[into] = number[x] · number[y] (x == y: the square), as two
 * jobs, its residues mod B^m − 1 and mod B^m + 1, put back together here. */
static enum outcome halves(struct factorial *f, unsigned into, unsigned x, unsigned y, big_runner run,
                           struct phases *phases)
{
    size_t m = halves_size(mpz_size(f->number[x]), mpz_size(f->number[y]));
    struct big_stage stage = {f->jobs, 0, 1};
    unsigned first_out = f->numbers_used;
    enum big_job_kind kinds[] = {JOB_MINUS, JOB_PLUS};
    double share[] = {1.0, PLUS_SHARE};
    for (unsigned i = 0; i < 2; i++) {
        struct big_job *job = add_job(f, &stage, kinds[i], multiply_cost((double)m, (double)m) / 2 * share[i]);
        job->x = (struct big_piece){x, 0, 0};
        job->y = (struct big_piece){y, 0, 0};
        job->first = m;
    }
    if (run_stage(f, &stage, run, phases) != OUTCOME_OK)
        return OUTCOME_FAILED;
    double start = clock_now();
    unsigned minus = stage.job[0].kind == JOB_MINUS ? stage.job[0].out : stage.job[1].out;
    unsigned plus = stage.job[0].kind == JOB_PLUS ? stage.job[0].out : stage.job[1].out;
    halves_join(f->number[into], f->number[minus], f->number[plus], m);
    release(f, minus);
    release(f, plus);
    f->numbers_used = first_out;
    phases->combine += clock_now() - start;
    return OUTCOME_OK;
}

/* multiply: number[into] = number[x] · number[y], cut over the workers when
 * y is long enough: into its residues (halves), or into pieces of y whose
 * products are added up here. */
static enum outcome multiply(struct factorial *f, unsigned into, unsigned x, unsigned y, big_runner run,
                             struct phases *phases)
{
    size_t x_limbs = mpz_size(f->number[x]), y_limbs = mpz_size(f->number[y]);
    if (by_halves(f, x_limbs < y_limbs ? x_limbs : y_limbs))
        return halves(f, into, x, y, run, phases);
    if (y_limbs < x_limbs) { /* cut the longer one */
        unsigned t = x;
        x = y;
        y = t;
        size_t s = x_limbs;
        x_limbs = y_limbs;
        y_limbs = s;
    }
    unsigned pieces = pieces_of(f, y_limbs, f->workers);
    size_t step = (y_limbs + pieces - 1) / pieces;
    struct big_stage stage = {f->jobs, 0, 1};
    unsigned first_out = f->numbers_used;
    for (unsigned i = 0; i < pieces; i++) {
        struct big_job *job = add_job(f, &stage, JOB_MUL, multiply_cost((double)x_limbs, (double)step));
        job->x = (struct big_piece){x, 0, 0};
        job->y = pieces == 1 ? (struct big_piece){y, 0, 0} : (struct big_piece){y, i * step, step};
        job->first = i; /* its place, kept through share_out's sorting */
    }
    if (run_stage(f, &stage, run, phases) != OUTCOME_OK)
        return OUTCOME_FAILED;
    double start = clock_now();
    mpz_set_ui(f->number[into], 0);
    for (unsigned j = 0; j < stage.count; j++)
        add_shifted(f, into, stage.job[j].out, stage.job[j].first * step, 0);
    f->numbers_used = first_out; /* the pieces' slots are free again */
    phases->combine += clock_now() - start;
    return OUTCOME_OK;
}

/* square: number[slot] = number[slot]², cut as (Σ x_i B^i)² = Σ x_i² B^2i +
 * 2 Σ_{i<j} x_i x_j B^(i+j) over the workers when it is long enough. */
static enum outcome square(struct factorial *f, unsigned slot, big_runner run, struct phases *phases)
{
    size_t limbs = mpz_size(f->number[slot]);
    if (by_halves(f, limbs))
        return halves(f, slot, slot, slot, run, phases);
    unsigned pieces = pieces_of(f, limbs, MOST_SQUARE_PIECES);
    size_t step = (limbs + pieces - 1) / pieces;
    struct big_stage stage = {f->jobs, 0, 1};
    unsigned first_out = f->numbers_used;
    for (unsigned i = 0; i < pieces; i++)
        for (unsigned k = i; k < pieces; k++) {
            double cost = multiply_cost((double)step, (double)step) * (i == k ? SQUARE_SHARE : 1.0);
            struct big_job *job = add_job(f, &stage, i == k ? JOB_SQUARE : JOB_MUL, cost);
            job->x = pieces == 1 ? (struct big_piece){slot, 0, 0} : (struct big_piece){slot, i * step, step};
            job->y = (struct big_piece){slot, k * step, step};
            job->first = i + k; /* its place: B^(i+k) */
            job->bit = i != k;  /* a cross term counts twice */
        }
    if (run_stage(f, &stage, run, phases) != OUTCOME_OK)
        return OUTCOME_FAILED;
    double start = clock_now();
    mpz_set_ui(f->number[slot], 0);
    for (unsigned j = 0; j < stage.count; j++)
        add_shifted(f, slot, stage.job[j].out, stage.job[j].first * step, (int)stage.job[j].bit);
    f->numbers_used = first_out;
    phases->combine += clock_now() - start;
    return OUTCOME_OK;
}

/* ---- the kernels ------------------------------------------------------------------ */

/* primes_kernel: n!'s odd part by the primes' exponents, bit by bit (see factorial_big.h). */
static enum outcome primes_kernel(struct factorial *f, big_runner run, struct phases *phases)
{
    double start = clock_now();
    if (factorial_prime_table(f) != OUTCOME_OK)
        return OUTCOME_FAILED;
    unsigned top = 0;
    for (size_t i = 0; i < f->primes; i++)
        while (top < 31 && f->exponent[i] >> (top + 1))
            top++;
    /* the segments of the prime list, of about equal bits: bound by index of prime sizes */
    unsigned segments = f->workers * SEGMENTS_PER_WORKER;
    if ((size_t)segments > f->primes / LEAF_FACTORS + 1)
        segments = (unsigned)(f->primes / LEAF_FACTORS + 1);
    phases->combine += clock_now() - start;

    /* stage: the products of every (bit, segment), shared out */
    struct big_stage stage = {f->jobs, 0, 0};
    unsigned product_slot[33];
    unsigned first_part = f->numbers_used;
    for (unsigned b = 0; b <= top; b++) {
        double bits_left = 0;
        for (unsigned s = 0; s < segments; s++) {
            size_t first = f->primes * s / segments, last = f->primes * (s + 1) / segments;
            double bits = 0;
            for (size_t i = first; i < last; i++)
                if (f->exponent[i] >> b & 1)
                    bits += log2((double)f->prime[i]);
            struct big_job *job = add_job(f, &stage, JOB_PRIMES, multiply_cost(bits / 64, bits / 64));
            job->first = first;
            job->last = last;
            job->bit = b;
            bits_left += bits;
        }
        (void)bits_left;
    }
    if (run_stage(f, &stage, run, phases) != OUTCOME_OK)
        return OUTCOME_FAILED;
    start = clock_now();
    /* P_b: the product of its segments' parts (in place of the first part's slot) */
    for (unsigned b = 0; b <= top; b++) {
        unsigned base = first_part + b * segments;
        product_slot[b] = base;
        for (unsigned s = 1; s < segments; s++) {
            mpz_mul(f->number[base], f->number[base], f->number[base + s]);
            release(f, base + s);
        }
    }
    unsigned r = product_slot[top];
    phases->combine += clock_now() - start;

    /* the chain: R = R² · P_b, from the top bit down */
    for (unsigned b = top; b-- > 0;) {
        if (square(f, r, run, phases) != OUTCOME_OK)
            return OUTCOME_FAILED;
        if (mpz_cmp_ui(f->number[product_slot[b]], 1) != 0 &&
            multiply(f, r, r, product_slot[b], run, phases) != OUTCOME_OK)
            return OUTCOME_FAILED;
        release(f, product_slot[b]);
    }
    start = clock_now();
    mpz_mul_2exp(f->result, f->number[r], factorial_twos(f->n));
    release(f, r);
    phases->combine += clock_now() - start;
    return OUTCOME_OK;
}

/* tree_kernel: the workers' ranges, then their products pairwise up a tree,
 * each multiplication cut over the workers that would otherwise wait. */
static enum outcome tree_kernel(struct factorial *f, big_runner run, struct phases *phases)
{
    struct big_stage stage = {f->jobs, 0, 0};
    unsigned first = f->numbers_used;
    for (unsigned w = 0; w < f->workers; w++) {
        unsigned long low = f->bound[w] + 1, high = f->bound[w + 1];
        struct big_job *job = add_job(f, &stage, JOB_RANGE, (double)(high >= low ? high - low + 1 : 0));
        job->first = low;
        job->last = high;
        job->out = first + w; /* range w's product in slot first + w, whatever order sharing puts it in */
    }
    if (run_stage(f, &stage, run, phases) != OUTCOME_OK)
        return OUTCOME_FAILED;
    /* the tree: slot first + w *= slot first + w + step, round by round */
    for (unsigned step = 1; step < f->workers; step *= 2) {
        unsigned pairs = 0;
        for (unsigned w = 0; w + step < f->workers; w += 2 * step)
            pairs++;
        if (pairs == 1 && f->big_kernel == BIG_KERNEL_SPLIT_TREE) { /* the last multiplication, cut */
            if (multiply(f, first, first, first + step, run, phases) != OUTCOME_OK)
                return OUTCOME_FAILED;
            release(f, first + step);
            continue;
        }
        stage.count = 0;
        stage.combining = 1;
        for (unsigned w = 0; w + step < f->workers; w += 2 * step) {
            struct big_job *job = add_job(f, &stage, JOB_MUL,
                                          multiply_cost((double)mpz_size(f->number[first + w]),
                                                        (double)mpz_size(f->number[first + w + step])));
            f->numbers_used--; /* the product goes back into the pair's first slot */
            job->out = first + w;
            job->x = (struct big_piece){first + w, 0, 0};
            job->y = (struct big_piece){first + w + step, 0, 0};
        }
        if (run_stage(f, &stage, run, phases) != OUTCOME_OK)
            return OUTCOME_FAILED;
        for (unsigned w = 0; w + step < f->workers; w += 2 * step)
            release(f, first + w + step); /* its limbs are inside the pair's product now */
    }
    double start = clock_now();
    mpz_mul_2exp(f->result, f->number[first], factorial_twos(f->n));
    release(f, first);
    phases->combine += clock_now() - start;
    return OUTCOME_OK;
}

const char *factorial_split_name(const struct factorial *f)
{
    if (f->workers < 2 || f->big_kernel == BIG_KERNEL_TREE)
        return "none";
    return f->workers <= MOST_HALVES_WORKERS && halves_available() ? "halves" : "pieces";
}

enum outcome factorial_big(struct factorial *f, big_runner run, struct phases *phases)
{
    f->numbers_used = 0;
    return f->big_kernel == BIG_KERNEL_PRIMES ? primes_kernel(f, run, phases) : tree_kernel(f, run, phases);
}
