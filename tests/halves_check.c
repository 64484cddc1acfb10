/* tests/halves_check.c — common/halves.c against GMP's own product, on sizes and values chosen to reach its edges.
 *
 * Usage: bin/tests/halves-check [--break]
 * For every pair (x, y) — random numbers of 1 to 16000 limbs, x = y
 * (squares), and edge values: B^k − 1 (all ones), B^k, 1, numbers with long
 * runs of ones and zeros — it computes x·y as halves_minus, halves_plus and
 * halves_join, and compares with mpz_mul (every fourth pair also with each
 * residue written over its first operand). The sizes cross GMP's smallest FFT,
 * so both the plain residues and the FFT ones are reached. --break flips one
 * bit of each joined product before the comparison, to show that the check
 * fails. Prints one line; exit status 0 when every product agreed, 1 if not.
 */
#include "halves.h"

#include <stdio.h>
#include <string.h>

/* How many pairs, and the seed of their sizes and values. */
#define PAIRS 600
#define SEED 20261201u
/* The pairs' largest size, in limbs, and the share of pairs (one in SMALL_EVERY) that are small. */
#define LARGEST_LIMBS 16000u
#define SMALL_LIMBS 300u
#define SMALL_EVERY 2u
/* One pair in this many is also computed with the result written over its first operand. */
#define ALIASED_EVERY 4u

/* edge_value: x = one of the values where carries and wrap-arounds go furthest, of about limbs limbs. */
static void edge_value(mpz_t x, unsigned kind, unsigned long limbs, gmp_randstate_t random)
{
    mp_bitcnt_t bits = (mp_bitcnt_t)limbs * GMP_NUMB_BITS;
    switch (kind) {
    case 0: /* B^k − 1: all ones */
        mpz_set_ui(x, 0);
        mpz_setbit(x, bits);
        mpz_sub_ui(x, x, 1);
        break;
    case 1: /* B^k */
        mpz_set_ui(x, 0);
        mpz_setbit(x, bits);
        break;
    case 2:
        mpz_set_ui(x, 1);
        break;
    default: /* long runs of ones and zeros */
        mpz_rrandomb(x, random, bits);
        break;
    }
}

/* aliased_agree: whether the residues come out the same when the result is
 * also the first operand (x, or both for a square), as a caller may ask. */
static int aliased_agree(mpz_srcptr x, mpz_srcptr second, mpz_srcptr minus, mpz_srcptr plus, size_t m)
{
    mpz_t over;
    mpz_init_set(over, x);
    mpz_t kept;
    mpz_init_set(kept, second);
    halves_minus(over, over, second == x ? over : kept, m);
    int same = mpz_cmp(over, minus) == 0;
    mpz_set(over, x);
    halves_plus(over, over, second == x ? over : kept, m);
    same = same && mpz_cmp(over, plus) == 0;
    mpz_clears(over, kept, NULL);
    return same;
}

int main(int argc, char **argv)
{
    int breaking = argc == 2 && strcmp(argv[1], "--break") == 0;
    if (argc > 2 || (argc == 2 && !breaking)) {
        fprintf(stderr, "usage: halves-check [--break]\n");
        return 2;
    }
    gmp_randstate_t random;
    gmp_randinit_default(random);
    gmp_randseed_ui(random, SEED);
    mpz_t x, y, minus, plus, joined, product;
    mpz_inits(x, y, minus, plus, joined, product, NULL);
    unsigned agreed = 0, largest = 0;
    for (unsigned i = 0; i < PAIRS; i++) {
        unsigned long most = i % SMALL_EVERY == 0 ? SMALL_LIMBS : LARGEST_LIMBS;
        unsigned long x_limbs = 1 + gmp_urandomm_ui(random, most), y_limbs = 1 + gmp_urandomm_ui(random, most);
        unsigned shape = (unsigned)gmp_urandomm_ui(random, 8);
        if (shape < 4)
            edge_value(x, shape, x_limbs, random);
        else
            mpz_urandomb(x, random, (mp_bitcnt_t)x_limbs * GMP_NUMB_BITS);
        if (shape % 2 == 0)
            edge_value(y, (unsigned)gmp_urandomm_ui(random, 4), y_limbs, random);
        else
            mpz_urandomb(y, random, (mp_bitcnt_t)y_limbs * GMP_NUMB_BITS);
        mpz_srcptr second = shape == 5 ? x : y; /* one in eight a square */
        if (mpz_sgn(x) == 0 || mpz_sgn(second) == 0)
            continue; /* the kernel never multiplies by zero */
        size_t m = halves_size(mpz_size(x), mpz_size(second));
        halves_minus(minus, x, second, m);
        halves_plus(plus, x, second, m);
        halves_join(joined, minus, plus, m);
        if (i % ALIASED_EVERY == 1 && !aliased_agree(x, second, minus, plus, m)) {
            printf("halves: pair %u (%zu and %zu limbs, m=%zu): a residue written over its operand differs\n", i,
                   mpz_size(x), mpz_size(second), m);
            return 1;
        }
        if (breaking)
            mpz_combit(joined, (mp_bitcnt_t)(i % 64));
        mpz_mul(product, x, second);
        if (mpz_cmp(joined, product) != 0) {
            printf("halves: pair %u (%zu and %zu limbs%s, m=%zu): the joined residues differ from mpz_mul's "
                   "product\n", i, mpz_size(x), mpz_size(second), second == x ? ", a square" : "", m);
            return 1;
        }
        agreed++;
        if (m > largest)
            largest = (unsigned)m;
    }
    printf("halves: %u products agree with mpz_mul (m up to %u limbs; GMP's residue functions %s)\n", agreed,
           largest, halves_available() ? "used" : "missing: plain residues");
    mpz_clears(x, y, minus, plus, joined, product, NULL);
    gmp_randclear(random);
    return 0;
}
