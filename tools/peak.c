/* tools/peak.c — the physical limit of one core for matmul: its peak double-precision GFLOP/s.
 *
 * Usage: build/peak          (make builds it; make doctor and make bench-matmul run it)
 * Prints key=value lines: the core's clock, how wide its vectors are, how many
 * fused multiply-adds it starts per cycle, and their product, the peak:
 *
 *   peak GFLOP/s = clock (GHz) × doubles per vector × FMA units × 2 (an FMA is two operations)
 *
 * Nothing is read from a table of CPU models. The clock is measured: a chain
 * of dependent integer additions runs at one per cycle on every x86 core of
 * the last twenty years, so additions per second is cycles per second —
 * the clock the core actually runs at, turbo included. In a virtual machine
 * that is still the real core's clock while this thread holds it; if the
 * hypervisor takes the core away mid-measurement the clock reads low, so the
 * best of several tries is kept. The FMA units are measured too: many
 * independent FMAs per cycle, divided by the vector width, rounded. Where
 * neither can be measured (not x86), the line says "unknown".
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#define X86 1
#include <immintrin.h>
#else
#define X86 0
#endif

/* Additions per timing of the clock, FMA steps per timing of the units, tries
 * of each: short tries (a few milliseconds), many of them, so that some run
 * without the scheduler taking the core away, even on a busy machine. */
#define CHAIN_STEPS 2000000L
#define FMA_STEPS 500000L
#define TRIES 40
/* Independent FMA chains: more than latency (4 cycles) × units (2), so they never wait on each other. */
#define FMA_CHAINS 12

#if X86 /* the measurements (elsewhere main says "unknown", and nothing below is built) */
/* seconds: the monotonic clock. */
static double seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* add_chain: steps × 4 dependent additions; returns the sum so nothing is optimized away. The
 * addend is a register, not an immediate: a core's renamer may fold additions of a small
 * constant into one without the adder, which would read as several times the clock; a
 * register's value it cannot know in advance. */
__attribute__((noinline)) static long add_chain(long steps)
{
    long x = 0, one = 1;
    for (long i = 0; i < steps; i++)
        __asm__ volatile("add %1, %0\n\tadd %1, %0\n\tadd %1, %0\n\tadd %1, %0" : "+r"(x) : "r"(one));
    return x;
}

/* The FMA throughput loops: FMA_CHAINS independent vectors, each updated once per step. */
#define FMA_LOOP(name, isa, vec, set1, fmadd, lanes)                                                       \
    __attribute__((target(isa), noinline)) static double name(long steps)                                  \
    {                                                                                                         \
        vec acc[FMA_CHAINS];                                                                                  \
        vec m = set1(1.0000001), c = set1(1e-9);                                                              \
        for (int i = 0; i < FMA_CHAINS; i++)                                                                  \
            acc[i] = set1((double)i);                                                                         \
        for (long s = 0; s < steps; s++) {                                                                    \
            _Pragma("GCC unroll 12") for (int i = 0; i < FMA_CHAINS; i++) acc[i] = fmadd(acc[i], m, c);      \
        }                                                                                                     \
        double sum = 0;                                                                                       \
        for (int i = 0; i < FMA_CHAINS; i++) {                                                                \
            double out[lanes];                                                                                \
            memcpy(out, &acc[i], sizeof out);                                                                 \
            sum += out[0];                                                                                    \
        }                                                                                                     \
        return sum;                                                                                           \
    }
FMA_LOOP(fma512, "avx512f", __m512d, _mm512_set1_pd, _mm512_fmadd_pd, 8)
FMA_LOOP(fma256, "avx2,fma", __m256d, _mm256_set1_pd, _mm256_fmadd_pd, 4)

/* best_rate: the most operations per second over TRIES timings of work(steps). */
static double best_rate(double (*work)(long), long steps, double operations)
{
    double best = 0;
    for (int t = 0; t < TRIES; t++) {
        double start = seconds();
        volatile double sink = work(steps);
        (void)sink;
        double rate = operations / (seconds() - start);
        if (rate > best)
            best = rate;
    }
    return best;
}

static double chain_work(long steps)
{
    return (double)add_chain(steps);
}
#endif

int main(void)
{
#if X86
    __builtin_cpu_init();
    double hz = best_rate(chain_work, CHAIN_STEPS, 4.0 * CHAIN_STEPS);
    int lanes = 0;
    double fmas = 0;
    if (__builtin_cpu_supports("avx512f")) {
        lanes = 8;
        fmas = best_rate(fma512, FMA_STEPS, (double)FMA_CHAINS * FMA_STEPS);
    } else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        lanes = 4;
        fmas = best_rate(fma256, FMA_STEPS, (double)FMA_CHAINS * FMA_STEPS);
    }
    printf("clock_ghz=%.2f\n", hz / 1e9);
    printf("clock_source=measured (dependent integer additions, one per cycle; best of %d tries)\n", TRIES);
    if (lanes == 0) {
        printf("vector_doubles=unknown\nfma_units=unknown\npeak_gflops_per_core=unknown\n");
        return 0;
    }
    int units = (int)(fmas / hz + 0.5); /* vector FMAs started per cycle */
    if (units < 1)
        units = 1;
    printf("vector_doubles=%d\n", lanes);
    printf("fma_units=%d\n", units);
    printf("fma_measured_gflops=%.1f\n", fmas * lanes * 2 / 1e9);
    printf("peak_gflops_per_core=%.1f\n", hz * lanes * units * 2 / 1e9);
#else
    printf("clock_ghz=unknown\nclock_source=not measured on this architecture\n"
           "vector_doubles=unknown\nfma_units=unknown\npeak_gflops_per_core=unknown\n");
#endif
    return 0;
}
