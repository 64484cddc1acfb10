/* common/mix.h — splitmix64: the suite's one source of reproducible pseudo-random numbers.
 *
 * Every generated input (matmul's matrices, download's file contents), the
 * retry jitter and the file server's fault draws come from these, so that
 * a run is a pure function of its seed and any process (or the Python lane)
 * can regenerate any part of it.
 */
#ifndef MIX_H
#define MIX_H

#include <stdint.h>

/* The golden ratio as a 64-bit fraction: splitmix64's increment. */
#define MIX_GOLDEN 0x9e3779b97f4a7c15ULL

/* mix_finalize: splitmix64's finalizer, a hash whose outputs look independent
 * for consecutive inputs. */
uint64_t mix_finalize(uint64_t z);

/* mix_next: splitmix64's next output from *state (which it advances). */
uint64_t mix_next(uint64_t *state);

/* mix_unit: r's top 53 bits as a double, uniform in [0, 1). */
double mix_unit(uint64_t r);

#endif
