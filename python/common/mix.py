"""python/common/mix.py — splitmix64, bit for bit common/mix.c's: the suite's one source of reproducible numbers.

Every generated input (matmul's matrices, download's file contents) and the
retries' jitter come from these, so a Python run regenerates exactly what a
C run with the same seed does. Python's integers do not wrap: every step is
masked to 64 bits. The *_array forms do the same on NumPy uint64 arrays,
whose arithmetic wraps like C's.
"""
MASK = 2 ** 64 - 1
# The golden ratio as a 64-bit fraction: splitmix64's increment (MIX_GOLDEN).
GOLDEN = 0x9e3779b97f4a7c15
# splitmix64's finalizer's multipliers and shifts.
MULTIPLIER_1, MULTIPLIER_2 = 0xbf58476d1ce4e5b9, 0x94d049bb133111eb
SHIFT_1, SHIFT_2, SHIFT_3 = 30, 27, 31
# Bits of a double's significand: the most a uniform double in [0, 1) can hold.
SIGNIFICAND_BITS = 53


def finalize(z):
    """splitmix64's finalizer (mix_finalize): a hash whose outputs look independent for consecutive inputs."""
    z &= MASK
    z = ((z ^ (z >> SHIFT_1)) * MULTIPLIER_1) & MASK
    z = ((z ^ (z >> SHIFT_2)) * MULTIPLIER_2) & MASK
    return z ^ (z >> SHIFT_3)


def next_value(state):
    """splitmix64's next output from state: (output, new state), as mix_next."""
    state = (state + GOLDEN) & MASK
    return finalize(state), state


def unit(r):
    """r's top 53 bits as a float, uniform in [0, 1) (mix_unit)."""
    return (r >> (64 - SIGNIFICAND_BITS)) / float(1 << SIGNIFICAND_BITS)


def finalize_array(z, np):
    """finalize on every element of a NumPy uint64 array (wrapping arithmetic, as in C)."""
    u64 = np.uint64
    z = (z ^ (z >> u64(SHIFT_1))) * u64(MULTIPLIER_1)
    z = (z ^ (z >> u64(SHIFT_2))) * u64(MULTIPLIER_2)
    return z ^ (z >> u64(SHIFT_3))
