/* common/halves.h — one huge product as two independent half-size products (residues and the CRT).
 *
 * A product z = x·y of L limbs (B = 2^64) is fixed by its two residues
 *     z mod (B^m − 1)   and   z mod (B^m + 1),   for any 2m >= L,
 * because (B^m − 1)(B^m + 1) = B^2m − 1 > z (the Chinese remainder
 * theorem). Each residue is a product of m-limb numbers with wrap-around,
 * which GMP computes with an FFT in about half the time of the whole
 * product: it is how GMP itself multiplies huge numbers, one residue
 * after the other. Two workers can compute one residue each at the same
 * time, and putting z back together from them (halves_join) is a few
 * additions and a shift: linear work, against the product's n log n.
 *
 * Cutting an operand into pieces instead (factorial_big.c's multiply)
 * costs more than the whole product, since two products of a number by
 * half of another cost more than one; the residues cost no more.
 *
 * The two residue products are GMP's own internal functions
 * (mpn_mulmod_bnm1, mpn_sqrmod_bnm1, mpn_mul_fft: exported by every GMP 6
 * library, but not part of its documented interface). They are looked up
 * weakly: where the library lacks them, or is not GMP 6, halves_available
 * says no and the caller cuts the product into pieces instead. Every run
 * of the suite checks n! whole, so a library whose internals changed
 * meaning would be caught, not trusted.
 */
#ifndef HALVES_H
#define HALVES_H

#include <gmp.h>
#include <stddef.h>

/* halves_available: whether the GMP this program runs with has the
 * internal functions the residues need (checked once). */
int halves_available(void);

/* halves_size: the m for multiplying numbers of x_limbs and y_limbs
 * limbs: 2m >= x_limbs + y_limbs, rounded up to a size GMP's FFT takes. */
size_t halves_size(size_t x_limbs, size_t y_limbs);

/* halves_minus: out = x·y mod (B^m − 1), from 0 to B^m − 2. x and y (the
 * same number for a square) are read in place where they have at most m
 * limbs; out may be either of them. */
void halves_minus(mpz_ptr out, mpz_srcptr x, mpz_srcptr y, size_t m);

/* halves_plus: out = x·y mod (B^m + 1), from 0 to B^m; likewise. */
void halves_plus(mpz_ptr out, mpz_srcptr x, mpz_srcptr y, size_t m);

/* halves_join: out = the z below B^2m − 1 with z ≡ minus (mod B^m − 1)
 * and z ≡ plus (mod B^m + 1): x·y, from halves_minus's and halves_plus's
 * results for the same x, y and m. out may not be minus or plus. */
void halves_join(mpz_ptr out, mpz_srcptr minus, mpz_srcptr plus, size_t m);

#endif
