"""python/common/blas.py — which BLAS core NumPy runs, and the same correction the C reference lane makes.

OpenBLAS picks its kernels (its "core") when it loads, from the CPU it
recognises; on a CPU it does not know it may fall back to an older core and
run at half speed or less (issue 9: Debian 12's 0.3.21 picks Haswell or even
Prescott on machines with AVX-512). The rule, the same as reference/matmul.c's:

- a core the user set in OPENBLAS_CORETYPE is always respected
  (blas_choice=user), with a warning on stderr if it is below what the CPU
  supports; an empty OPENBLAS_CORETYPE names no core (OpenBLAS then picks
  one by the CPU's features) and counts as unset;
- otherwise, when the core OpenBLAS chose is below what the CPU's feature
  flags support (tiers: AVX-512 cores SkylakeX, Cooperlake, SapphireRapids;
  AVX2 cores Haswell, Zen; anything else below), the program runs itself
  again with OPENBLAS_CORETYPE=SkylakeX (the CPU has avx512f) or Haswell (avx2
  and fma), because the variable is read only when the library loads, and
  SUITE_BLAS_CORRECTED=<the core it had chosen> (blas_choice=corrected);
- otherwise blas_choice=detected.
Test hook, as in C: SUITE_BLAS_TEST_FALLBACK=<core> makes the program first
run itself again with OPENBLAS_CORETYPE=<core> marked as OpenBLAS's own choice
(SUITE_BLAS_DETECTED_BY_TEST=1), so that the correction path runs for real.

A BLAS other than OpenBLAS is recorded as threadpoolctl names it
(<internal_api>:<architecture or unknown>) and nothing is corrected. Every
run is verified, so a core that computes wrong answers is caught, not trusted.
"""
import os
import sys

from . import report

# The core each tier of CPU features runs best, and the cores OpenBLAS has at each tier.
TIER_AVX512, TIER_AVX2, TIER_OLDER = 2, 1, 0
BEST_CORE = {TIER_AVX512: "SkylakeX", TIER_AVX2: "Haswell"}
CORE_TIERS = {"skylakex": TIER_AVX512, "cooperlake": TIER_AVX512, "sapphirerapids": TIER_AVX512,
              "haswell": TIER_AVX2, "zen": TIER_AVX2}
# The environment the rule reads and writes.
CORETYPE = "OPENBLAS_CORETYPE"
CORRECTED = "SUITE_BLAS_CORRECTED"
TEST_FALLBACK = "SUITE_BLAS_TEST_FALLBACK"
DETECTED_BY_TEST = "SUITE_BLAS_DETECTED_BY_TEST"


class Blas:
    """What the result line says about the BLAS: blas_core= blas_choice= blas_threads=."""

    def __init__(self, core, choice, threads):
        self.core, self.choice, self.threads = core, choice, threads

    def figures(self):
        return " blas_core=%s blas_choice=%s blas_threads=%s" % (self.core, self.choice, self.threads)


def cpu_tier(cpuinfo="/proc/cpuinfo"):
    """The best tier this CPU's feature flags support."""
    try:
        with open(cpuinfo) as f:
            flags = next((line.split(":", 1)[1].split() for line in f if line.startswith("flags")), [])
    except OSError:
        return TIER_OLDER
    if "avx512f" in flags:
        return TIER_AVX512
    if "avx2" in flags and "fma" in flags:
        return TIER_AVX2
    return TIER_OLDER


def core_tier(core):
    return CORE_TIERS.get(core.lower(), TIER_OLDER)


def run_again(changes, removals=()):
    """Replace this process by the same program with the environment changed:
    OpenBLAS reads OPENBLAS_CORETYPE only as it loads, and it has loaded."""
    env = dict(os.environ, **changes)
    for name in removals:
        env.pop(name, None)
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.execve(sys.executable, [sys.executable] + sys.argv, env)
    except OSError as e:
        raise report.Failure("cannot run %s again to change the BLAS core: %s" % (sys.executable, e.strerror))


def openblas_entry(threadpoolctl):
    """threadpoolctl's record of the BLAS NumPy loaded (OpenBLAS's if there is one), or None."""
    blas = [entry for entry in threadpoolctl.threadpool_info() if entry.get("user_api") == "blas"]
    return next((e for e in blas if e.get("internal_api") == "openblas"), blas[0] if blas else None)


def choose_core():
    """Load NumPy on the best BLAS core the rule allows (running the program
    again first if need be), pin the BLAS to one thread (the model, not the
    BLAS, decides the parallelism) and return what ran as a Blas."""
    if os.environ.get(TEST_FALLBACK) and not os.environ.get(DETECTED_BY_TEST) and not os.environ.get(CORRECTED):
        run_again({CORETYPE: os.environ[TEST_FALLBACK], DETECTED_BY_TEST: "1"})
    report.require("numpy", "python3-numpy", "matmul")
    threadpoolctl = report.require("threadpoolctl", "python3-threadpoolctl", "matmul (to pin and name the BLAS)")
    threadpoolctl.threadpool_limits(limits=1, user_api="blas")
    entry = openblas_entry(threadpoolctl)
    if entry is None:
        return Blas("none", "detected", 0)
    threads = entry.get("num_threads", 0)
    if entry.get("internal_api") != "openblas":
        return Blas("%s:%s" % (entry.get("internal_api"), entry.get("architecture") or "unknown"), "detected",
                    threads)
    core, best = entry.get("architecture") or "unknown", cpu_tier()
    if os.environ.get(CORRECTED):
        return Blas(core, "corrected", threads)
    if os.environ.get(CORETYPE) and not os.environ.get(DETECTED_BY_TEST):
        if core.lower() != os.environ[CORETYPE].lower():  # a name OpenBLAS does not know, as C says it
            report.error("warning: OPENBLAS_CORETYPE=%s is set, but OpenBLAS runs its %s core (it did not take "
                         "that name); kept as set" % (os.environ[CORETYPE], core))
        elif core_tier(core) < best:
            report.error("warning: OPENBLAS_CORETYPE=%s runs the %s core, below the %s this CPU supports; "
                         "kept, since you set it" % (os.environ[CORETYPE], core, BEST_CORE[best]))
        return Blas(core, "user", threads)
    if core_tier(core) < best:
        report.error("OpenBLAS chose its %s core on a CPU whose features support %s: running again with "
                     "OPENBLAS_CORETYPE=%s (set OPENBLAS_CORETYPE yourself to choose)" % (core, BEST_CORE[best],
                                                                                          BEST_CORE[best]))
        run_again({CORETYPE: BEST_CORE[best], CORRECTED: core}, removals=(DETECTED_BY_TEST,))
    return Blas(core, "detected", threads)
