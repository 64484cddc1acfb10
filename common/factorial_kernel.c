/* common/factorial_kernel.c — the one product kernel every model calls, and the steps built on it.
 *
 * factorial_product multiplies a range of whole numbers by binary splitting:
 * halve the range, multiply each half the same way, multiply the two
 * results. The two halves' products are about the same size, which is the
 * case GMP's fast (Toom, FFT) multiplications are made for; multiplying the
 * factors in one at a time would instead cost a full pass over an ever longer
 * number per factor. The factors of 2 are taken out first and put back as
 * one shift at the end: n! holds about n of them, and a shift costs far less
 * than multiplying by them. In --mode big they stay out of every number
 * the stages make (every multiplication there is the smaller for it, and
 * so is every message) and go back into n! alone, at the end.
 */
#include "factorial.h"

/* Ranges of at most this many factors are multiplied straight, a word at a
 * time; longer ones are halved. Their products are a few limbs long, where
 * GMP's schoolbook multiply is as good as any split (measured: 16 to 32 are
 * best, 64 is slower). */
#define LEAF_FACTORS 32
/* Every factor is below 2^32 (-n is at most 2^32 - 1), so a word below 2^32
 * can take one more factor without overflowing 64 bits. */
#define WORD_ROOM (UINT64_C(1) << 32)

_Static_assert(sizeof(unsigned long) == sizeof(uint64_t), "a word is an unsigned long (mpz_mul_ui's operand)");

/* factorial_twos: the exponent of 2 in m!, by Legendre's formula: m less
 * the number of ones in m's binary digits. */
unsigned long factorial_twos(unsigned long m)
{
    unsigned long ones = 0;
    for (unsigned long v = m; v != 0; v &= v - 1)
        ones++;
    return m - ones;
}

/* odd_part: k (at least 1) without its factors of 2. */
static unsigned long odd_part(unsigned long k)
{
    while (k % 2 == 0)
        k /= 2;
    return k;
}

/* odd_product: out = the product of the odd parts of first..last (first <=
 * last), by binary splitting. */
static void odd_product(mpz_t out, unsigned long first, unsigned long last)
{
    if (last - first < LEAF_FACTORS) {
        uint64_t word = 1;
        mpz_set_ui(out, 1);
        for (unsigned long k = first; k <= last; k++) {
            if (word >= WORD_ROOM) { /* full: fold it into out, start a new word */
                mpz_mul_ui(out, out, word);
                word = 1;
            }
            word *= odd_part(k);
        }
        mpz_mul_ui(out, out, word);
        return;
    }
    unsigned long middle = first + (last - first) / 2;
    mpz_t upper;
    mpz_init(upper);
    odd_product(out, first, middle);
    odd_product(upper, middle + 1, last);
    mpz_mul(out, out, upper);
    mpz_clear(upper);
}

void factorial_odd_product(mpz_t out, unsigned long first, unsigned long last)
{
    if (last < first)
        mpz_set_ui(out, 1);
    else
        odd_product(out, first, last);
}

void factorial_product(mpz_t out, unsigned long first, unsigned long last)
{
    if (last < first) {
        mpz_set_ui(out, 1);
        return;
    }
    odd_product(out, first, last);
    mpz_mul_2exp(out, out, factorial_twos(last) - factorial_twos(first - 1));
}

void factorial_tasks(const struct factorial *f, unsigned worker, struct chunk c, uint64_t *residues)
{
    struct span *span = &f->span[worker];
    double start = clock_now();
    if (span->end == 0) /* this worker's first chunk of the run */
        span->start = start;
    mpz_t x;
    mpz_init(x);
    for (unsigned long i = 0; i < c.count; i++) {
        if (f->kernel == KERNEL_FAC_UI)
            mpz_fac_ui(x, c.first + i);
        else
            factorial_product(x, 1, c.first + i);
        residues[i] = mpz_fdiv_ui(x, FACTORIAL_PRIME);
    }
    mpz_clear(x);
    span->end = clock_now();
}

int factorial_deal(struct factorial *f, unsigned worker, struct chunk *c)
{
    unsigned long first;
    if (f->schedule == SCHEDULE_STATIC) {
        if (f->taken[worker]++ > 0)
            return 0;
        size_t low, high;
        block_range(f->n, f->workers, worker, &low, &high);
        *c = (struct chunk){low + 1, high - low};
        return c->count > 0;
    }
    if (f->schedule == SCHEDULE_CYCLIC) {
        first = (f->taken[worker]++ * f->workers + worker) * f->chunk + 1;
    } else { /* SCHEDULE_DYNAMIC: the next chunk nobody has taken */
        first = f->next_task;
        f->next_task += f->chunk;
    }
    if (first > f->n)
        return 0;
    *c = (struct chunk){first, f->n - first + 1 < f->chunk ? f->n - first + 1 : f->chunk};
    return 1;
}
