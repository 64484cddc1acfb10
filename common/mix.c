/* common/mix.c — splitmix64 (see mix.h). */
#include "mix.h"

/* Bits of a double's significand: the most a uniform double in [0, 1) can hold. */
#define SIGNIFICAND_BITS 53

uint64_t mix_finalize(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

uint64_t mix_next(uint64_t *state)
{
    *state += MIX_GOLDEN;
    return mix_finalize(*state);
}

double mix_unit(uint64_t r)
{
    return (double)(r >> (64 - SIGNIFICAND_BITS)) / (double)(1ULL << SIGNIFICAND_BITS);
}
