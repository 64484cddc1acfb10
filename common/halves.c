/* common/halves.c — one huge product as two independent half-size products (see halves.h). */
#include "halves.h"

#include <limits.h>
#include <string.h>

/* GMP's own internal functions (mpn/generic/mulmod_bnm1.c, sqrmod_bnm1.c,
 * mul_fft.c), declared weakly: a library without them leaves them null. */
extern void __gmpn_mulmod_bnm1(mp_ptr, mp_size_t, mp_srcptr, mp_size_t, mp_srcptr, mp_size_t, mp_ptr)
    __attribute__((weak));
extern void __gmpn_sqrmod_bnm1(mp_ptr, mp_size_t, mp_srcptr, mp_size_t, mp_ptr) __attribute__((weak));
extern mp_size_t __gmpn_mulmod_bnm1_next_size(mp_size_t) __attribute__((weak));
extern mp_limb_t __gmpn_mul_fft(mp_ptr, mp_size_t, mp_srcptr, mp_size_t, mp_srcptr, mp_size_t, int)
    __attribute__((weak));
extern int __gmpn_fft_best_k(mp_size_t, int) __attribute__((weak));

/* The smallest FFT GMP's mpn_mul_fft takes: 2^FFT_FIRST_K pieces (its FFT_FIRST_K). */
#define FFT_FIRST_K 4
/* Scratch for the B^m − 1 products: GMP asks for at most 2m + 2·log2(m) + 4 limbs. */
#define SCRATCH_LIMBS(m) (2 * (m) + 2 * CHAR_BIT * sizeof(size_t) + 4)

int halves_available(void)
{
#if __GNU_MP_VERSION == 6
    return __gmpn_mulmod_bnm1 && __gmpn_sqrmod_bnm1 && __gmpn_mulmod_bnm1_next_size && __gmpn_mul_fft &&
           __gmpn_fft_best_k && strncmp(gmp_version, "6.", 2) == 0;
#else
    return 0;
#endif
}

size_t halves_size(size_t x_limbs, size_t y_limbs)
{
    size_t whole = x_limbs + y_limbs;
    if (halves_available())
        whole = (size_t)__gmpn_mulmod_bnm1_next_size((mp_size_t)whole);
    return (whole + 1) / 2;
}

/* limbs_of: how many of d's first `limbs` limbs are below its top zero limbs. */
static size_t limbs_of(const mp_limb_t *d, size_t limbs)
{
    while (limbs > 0 && d[limbs - 1] == 0)
        limbs--;
    return limbs;
}

/* copy_padded: out[0..m) = x, which has at most m limbs, zeros above it. */
static void copy_padded(mp_limb_t *out, mpz_srcptr x, size_t m)
{
    size_t size = mpz_size(x);
    if (size > 0)
        memcpy(out, mpz_limbs_read(x), size * sizeof *out);
    memset(out + size, 0, (m - size) * sizeof *out);
}

/* zero_if_all_ones: d[0..m) = 0 where it is B^m − 1, the other form of 0 mod B^m − 1. */
static void zero_if_all_ones(mp_limb_t *d, size_t m)
{
    size_t ones = 0;
    while (ones < m && d[ones] == ~(mp_limb_t)0)
        ones++;
    if (ones == m)
        memset(d, 0, m * sizeof *d);
}

/* reduce_minus: out[0..m) = x mod (B^m − 1), for x of at most 2m limbs
 * (B^m ≡ 1: the high half is added to the low half, and so is its carry). */
static void reduce_minus(mp_limb_t *out, mpz_srcptr x, size_t m)
{
    size_t size = mpz_size(x);
    const mp_limb_t *d = mpz_limbs_read(x);
    if (size <= m) {
        copy_padded(out, x, m);
        return;
    }
    mp_limb_t carry = mpn_add(out, d, (mp_size_t)m, d + m, (mp_size_t)(size - m));
    mpn_add_1(out, out, (mp_size_t)m, carry); /* after a carry out is at most B^m − 2: no second one */
}

/* reduce_plus: out[0..m] = x mod (B^m + 1), from 0 to B^m, for x of at most
 * 2m limbs (B^m ≡ −1: the high half is subtracted from the low half). */
static void reduce_plus(mp_limb_t *out, mpz_srcptr x, size_t m)
{
    size_t size = mpz_size(x);
    const mp_limb_t *d = mpz_limbs_read(x);
    out[m] = 0;
    if (size <= m) {
        copy_padded(out, x, m);
        return;
    }
    if (mpn_sub(out, d, (mp_size_t)m, d + m, (mp_size_t)(size - m))) /* below 0: add B^m + 1 */
        mpn_add_1(out, out, (mp_size_t)m + 1, 1);                   /* (the borrow was the B^m) */
}

/* modulus: B^m + sign (sign ±1), for the small sizes reduced the plain way. */
static void modulus(mpz_t out, size_t m, int sign)
{
    mpz_set_ui(out, 0);
    mpz_setbit(out, (mp_bitcnt_t)m * GMP_NUMB_BITS);
    if (sign > 0)
        mpz_add_ui(out, out, 1);
    else
        mpz_sub_ui(out, out, 1);
}

/* plain_residue: out = x·y mod (B^m + sign) the plain way: the whole product,
 * then its remainder. Only for sizes below GMP's smallest FFT (the tests'). */
static void plain_residue(mpz_ptr out, mpz_srcptr x, mpz_srcptr y, size_t m, int sign)
{
    mpz_t mod, product;
    mpz_inits(mod, product, NULL);
    modulus(mod, m, sign);
    mpz_mul(product, x, y);
    mpz_mod(out, product, mod);
    mpz_clears(mod, product, NULL);
}

/* fft_k: the FFT size (2^k pieces) GMP's mpn_mul_fft would use mod B^m + 1
 * (m must be a multiple of 2^k), or 0 when m is too small for its FFT. */
static int fft_k(size_t m, int square)
{
    if (!halves_available())
        return 0;
    int k = __gmpn_fft_best_k((mp_size_t)m, square);
    while (k > 0 && m % ((size_t)1 << k) != 0)
        k--;
    return k >= FFT_FIRST_K ? k : 0;
}

/* The operands as GMP's residue functions read them: a number of at most m
 * limbs as it is, in place (its residue is itself); a longer one, or one
 * that is also the result (whose limbs the result overwrites), reduced
 * into room of its own. */
struct operand {
    const mp_limb_t *d;
    size_t limbs;
};

/* in_place: whether x can be read where it is for a result out mod B^m ± 1. */
static int in_place(mpz_srcptr x, mpz_srcptr out, size_t m)
{
    return x != out && mpz_size(x) <= m;
}

/* minus_operand: x mod (B^m − 1) as an operand, reduced into room when not in place. */
static struct operand minus_operand(mpz_srcptr x, mpz_srcptr out, size_t m, mp_limb_t *room)
{
    if (in_place(x, out, m))
        return (struct operand){mpz_limbs_read(x), mpz_size(x)};
    reduce_minus(room, x, m);
    return (struct operand){room, limbs_of(room, m)};
}

/* plus_operand: x mod (B^m + 1) as an operand (m + 1 limbs at most), likewise. */
static struct operand plus_operand(mpz_srcptr x, mpz_srcptr out, size_t m, mp_limb_t *room)
{
    if (in_place(x, out, m))
        return (struct operand){mpz_limbs_read(x), mpz_size(x)};
    reduce_plus(room, x, m);
    return (struct operand){room, limbs_of(room, m + 1)};
}

void halves_minus(mpz_ptr out, mpz_srcptr x, mpz_srcptr y, size_t m)
{
    int square = x == y;
    if (fft_k(m, square) == 0) {
        plain_residue(out, x, y, m, -1);
        return;
    }
    size_t x_room = in_place(x, out, m) ? 0 : m, y_room = square || in_place(y, out, m) ? 0 : m;
    mpz_t work;
    mpz_init(work);
    mp_limb_t *scratch = mpz_limbs_write(work, (mp_size_t)(x_room + y_room + SCRATCH_LIMBS(m)));
    struct operand a = minus_operand(x, out, m, scratch + y_room + SCRATCH_LIMBS(m));
    struct operand b = square ? a : minus_operand(y, out, m, scratch + SCRATCH_LIMBS(m));
    if (a.limbs < b.limbs) { /* GMP wants the longer first */
        struct operand longer = b;
        b = a;
        a = longer;
    }
    mp_limb_t *r = mpz_limbs_write(out, (mp_size_t)m);
    size_t written = 0; /* GMP writes min(m, the product's limbs) */
    if (b.limbs > 0) {
        written = a.limbs + b.limbs < m ? a.limbs + b.limbs : m;
        if (square)
            __gmpn_sqrmod_bnm1(r, (mp_size_t)m, a.d, (mp_size_t)a.limbs, scratch);
        else
            __gmpn_mulmod_bnm1(r, (mp_size_t)m, a.d, (mp_size_t)a.limbs, b.d, (mp_size_t)b.limbs, scratch);
    }
    memset(r + written, 0, (m - written) * sizeof *r);
    zero_if_all_ones(r, m); /* GMP may give zero as B^m − 1 */
    mpz_limbs_finish(out, (mp_size_t)m);
    mpz_clear(work);
}

void halves_plus(mpz_ptr out, mpz_srcptr x, mpz_srcptr y, size_t m)
{
    int square = x == y, k = fft_k(m, square);
    if (k == 0) {
        plain_residue(out, x, y, m, 1);
        return;
    }
    size_t x_room = in_place(x, out, m) ? 0 : m + 1, y_room = square || in_place(y, out, m) ? 0 : m + 1;
    mpz_t work;
    mpz_init(work);
    mp_limb_t *room = x_room + y_room > 0 ? mpz_limbs_write(work, (mp_size_t)(x_room + y_room)) : NULL;
    struct operand a = plus_operand(x, out, m, room);
    struct operand b = square ? a : plus_operand(y, out, m, room ? room + x_room : NULL);
    mp_limb_t *r = mpz_limbs_write(out, (mp_size_t)m + 1);
    if (a.limbs > 0 && b.limbs > 0) /* the same pointer and length: GMP squares */
        r[m] = __gmpn_mul_fft(r, (mp_size_t)m, a.d, (mp_size_t)a.limbs, b.d, (mp_size_t)b.limbs, k);
    else
        memset(r, 0, (m + 1) * sizeof *r);
    mpz_limbs_finish(out, (mp_size_t)m + 1);
    mpz_clear(work);
}

void halves_join(mpz_ptr out, mpz_srcptr minus, mpz_srcptr plus, size_t m)
{
    /* z = plus + (B^m + 1)·q, where q = (minus − plus)/2 mod (B^m − 1):
     * then z ≡ plus mod (B^m + 1), and since B^m + 1 ≡ 2 mod (B^m − 1),
     * z ≡ plus + 2q ≡ minus there. Halving mod B^m − 1 (where 2^(64m) ≡ 1)
     * is a rotation right by one bit. All of it in out's own limbs: q in
     * the low half, copied to the high half, plus added on top. */
    const mp_limb_t *p = mpz_limbs_read(plus);
    size_t p_limbs = mpz_size(plus); /* at most m + 1: m + 1 only for plus = B^m */
    mp_limb_t *z = mpz_limbs_write(out, (mp_size_t)(2 * m + 1));
    copy_padded(z, minus, m); /* minus is below B^m − 1: already reduced */
    /* minus − plus, where plus mod (B^m − 1) is its low limbs, or 1 when it is B^m */
    mp_limb_t borrow = 0;
    if (p_limbs > m)
        borrow = mpn_sub_1(z, z, (mp_size_t)m, 1);
    else if (p_limbs > 0)
        borrow = mpn_sub(z, z, (mp_size_t)m, p, (mp_size_t)p_limbs);
    if (borrow) /* q wrapped round B^m: take 1 more to wrap round B^m − 1 */
        mpn_sub_1(z, z, (mp_size_t)m, 1);
    mp_limb_t low_bit = z[0] & 1;
    mpn_rshift(z, z, (mp_size_t)m, 1);
    z[m - 1] |= low_bit << (GMP_NUMB_BITS - 1);
    zero_if_all_ones(z, m);
    memcpy(z + m, z, m * sizeof *z);
    z[2 * m] = 0;
    if (p_limbs > 0)
        mpn_add(z, z, (mp_size_t)(2 * m + 1), p, (mp_size_t)p_limbs); /* below B^2m: no carry out */
    mpz_limbs_finish(out, (mp_size_t)(2 * m + 1));
}
