"""python/numba/matmul.py — matrix multiply C = A·B with loops compiled by Numba: prange (Python's OpenMP) or nogil threads.

Run:    bin/matmul-py-numba -n 1024 -p 2 -r 5                    (--style prange: Numba's own threads)
        bin/matmul-py-numba -n 1024 -p 2 --style nogil -r 5      (Python threads calling compiled code)
Models: python/serial/matmul.py is the baseline; this file computes its
        blocks of rows with the textbook loops (--kernel python's i, k, j
        order, on arrays) compiled to machine code by Numba, and shares the
        blocks out one of two ways, --style
        (diff -u python/serial/matmul.py python/numba/matmul.py):
          prange  one compiled function whose loop over the blocks is
                  numba.prange: Numba's threads take one block each, as
                  openmp/matmul.c's `omp parallel for` does (Numba's thread
                  pool may be OpenMP itself: threading_layer= says).
                  -p sets the threads (numba.set_num_threads), whatever
                  NUMBA_NUM_THREADS says.
          nogil   one threading.Thread per block, as python/threading/matmul.py,
                  each calling the compiled kernel, which runs without the
                  GIL (nogil=True): plain Python threads, running at once.
        Both styles run the same compiled kernel, so a difference between them is the threads'.
        Numba compiles as the program starts, outside the timed region, and
        every run compiles afresh (no cache on disk): jit= on every result line
        says how long it took. The inputs are whole numbers, so every sum is
        exact: the check demands equality and checksum= is every other model's.
        Siblings: python/threading/ (NumPy's BLAS, which lets go of the GIL); openmp/matmul.c (in C).
Shared: python/common/matmul.py (inputs, the check, the figures), python/common/run.py
        (timing, result lines), python/common/cli.py (flags).
"""
import os
import re
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # python/, where common/ is
from common import cli, matmul, report, run  # noqa: E402

MODEL = "py-numba"
STYLES = ("prange", "nogil")
STYLE_FLAG = cli.Flag("--style", "|".join(STYLES), "choice", "style",
                      "prange: Numba's threads share the blocks (default); nogil: one Python thread per block, "
                      "each in compiled code without the GIL", choices=STYLES)
KERNEL = ("numba", "the textbook loops, compiled by Numba (this model's only kernel)")
# The types the kernels are compiled for: C-contiguous matrices of doubles, row bounds as 64-bit integers.
ROWS_SIGNATURE = "void(float64[:, ::1], float64[:, ::1], float64[:, ::1], int64, int64)"
BLOCKS_SIGNATURE = "void(float64[:, ::1], float64[:, ::1], float64[:, ::1], int64[::1])"
# What NUMBA_THREADING_LAYER may name (Numba's documentation): a layer, or a rule for choosing one.
THREADING_LAYERS = ("default", "safe", "forksafe", "threadsafe", "tbb", "omp", "workqueue")

numba = None       # the module, once load_numba has found it
kernel = None      # multiply_rows compiled (nogil=True: the GIL is let go while it runs)
all_blocks = None  # multiply_blocks compiled (parallel=True: its prange loop runs on Numba's threads)


# ---- the loops Numba compiles ----

def multiply_rows(a, b, c, first, last):
    """Rows first..last-1 of C = A·B, by the textbook loops in i, k, j order
    (the inner loop walks a row of B and a row of C, which Numba vectorizes)."""
    n = b.shape[0]
    for i in range(first, last):
        for j in range(n):
            c[i, j] = 0.0
        for k in range(n):
            a_ik = a[i, k]
            for j in range(n):
                c[i, j] += a_ik * b[k, j]


def multiply_blocks(a, b, c, bounds):
    """Every block of rows (block w: rows bounds[w] to bounds[w + 1] - 1), the
    blocks shared out among Numba's threads by prange."""
    for w in numba.prange(len(bounds) - 1):
        kernel(a, b, c, bounds[w], bounds[w + 1])


# ---- the two styles ----

def multiply_block(problem, index):
    """Block index of C's rows by the compiled kernel, its span stamped: a thread's whole life (--style nogil)."""
    first, last = problem.blocks[index]
    start = run.clock()
    kernel(problem.a, problem.b, problem.c, first, last)
    problem.spans[index] = run.Span(index, start, run.clock())


def multiply_prange(problem):
    """C = A·B in one call of the compiled multiply_blocks, its blocks shared
    among problem.workers of Numba's threads. They cannot read Python's clock,
    so the call is one span: waking the threads is in compute, not setup."""
    start = run.clock()
    all_blocks(problem.a, problem.b, problem.c, problem.bounds)
    problem.spans[0] = run.Span(0, start, run.clock())
    return run.phases_from_spans(start, problem.spans)


def multiply_nogil(problem):
    """C = A·B, the blocks of rows shared out among problem.workers threads,
    one block each, all in compiled code at once; starting and joining them is part of the time."""
    start = run.clock()
    threads = [threading.Thread(target=multiply_block, args=(problem, index)) for index in range(problem.workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return run.phases_from_spans(start, problem.spans)


# ---- Numba itself: loading and compiling ----

def load_numba(options):
    """Numba, with room for -p threads (NUMBA_NUM_THREADS, read as Numba loads, raised to -p if below it).
    A NUMBA_THREADING_LAYER Numba does not know is refused here: Numba says so
    only deep inside a failed compilation; so is NUMBA_DISABLE_JIT, which Numba
    obeys without a word, leaving neither compiled code nor threads to measure."""
    global numba
    layer = os.environ.get("NUMBA_THREADING_LAYER", "")
    if layer and layer not in THREADING_LAYERS:
        raise report.UsageError("NUMBA_THREADING_LAYER=%s: Numba knows %s" % (layer, ", ".join(THREADING_LAYERS)))
    # Numba's OpenMP layer (threading_layer=omp) is libgomp, which reads OMP_DYNAMIC as it loads: true lets it
    # run a prange loop on fewer threads than -p (on one, where the load average is up), while the result line
    # says -p; so it is turned off, as openmp/'s programs do (common/team_single.c). OMP_THREAD_LIMIT: below.
    os.environ["OMP_DYNAMIC"] = "false"
    room = os.environ.get("NUMBA_NUM_THREADS", "")
    if not cli.DIGITS.fullmatch(room) or int(room) < options.workers:
        os.environ["NUMBA_NUM_THREADS"] = str(max(options.workers, os.cpu_count() or 1))
    numba = report.require("numba", "python3-numba", "the numba model")
    if numba.config.DISABLE_JIT:  # njit would hand back the Python loops, and prange would be range: one thread
        where, remedy = (("NUMBA_DISABLE_JIT=%s" % os.environ["NUMBA_DISABLE_JIT"], "unset it")
                         if os.environ.get("NUMBA_DISABLE_JIT") else ("disable_jit in ./.numba_config.yaml",
                                                                      "remove that line"))
        raise report.UsageError("%s turns Numba's compiler off: the kernel would run as plain Python loops on one "
                                "thread, yet say kernel=numba; %s" % (where, remedy))
    options.startup = run.startup_seconds()  # importing Numba (and LLVM) is start-up too


def numba_reason(e):
    """Why Numba failed, in one line, without its terminal colours: the
    innermost error its message names, else the line after "Failed in
    nopython mode pipeline (step: ...)" (which names only the step), else the
    first (a thread pool that cannot start is said deep inside a failed lowering)."""
    lines = [line.strip() for line in re.sub(r"\x1b\[[0-9;]*m", "", str(e)).splitlines() if line.strip()]
    inner = [line.split(": ", 1)[1] for line in lines if re.match(r"\w+Error: ", line)]
    if inner:
        return inner[-1]
    return lines[1] if len(lines) > 1 and lines[0].startswith("Failed in ") else (lines or ["(no message)"])[0]


def compile_kernels(problem):
    """Compile the style's kernels for these types, outside the timed region;
    their figures (style=, jit=, threading_layer=) onto the result lines. For
    prange, -p of Numba's threads, and a first call on a 1×1 product, which
    starts Numba's thread pool (once, as an OpenMP team starts) and names its layer."""
    global kernel, all_blocks
    options, np = problem.options, matmul.np
    problem.bounds = np.array([first for first, _ in problem.blocks] + [problem.n], dtype=np.int64)
    start = run.clock()
    try:
        kernel = numba.njit(ROWS_SIGNATURE, nogil=True)(multiply_rows)
        if options.style == "prange":
            all_blocks = numba.njit(BLOCKS_SIGNATURE, parallel=True)(multiply_blocks)
            numba.set_num_threads(problem.workers)
            one = np.ones((1, 1))
            all_blocks(one, one, np.empty((1, 1)), np.array([0, 1], dtype=np.int64))
    except (numba.core.errors.NumbaError, ValueError) as e:
        layer = os.environ.get("NUMBA_THREADING_LAYER")
        raise report.Failure("Numba could not compile or start the kernel: %s%s"
                             % (numba_reason(e), " (NUMBA_THREADING_LAYER=%s)" % layer if layer else "")) from None
    options.model_figures = [("style", options.style), ("jit", "%.3f" % (run.clock() - start))]
    if options.style == "prange":
        options.model_figures.append(("threading_layer", numba.threading_layer()))
        limit = os.environ.get("OMP_THREAD_LIMIT", "").strip()
        if numba.threading_layer() == "omp" and limit.isdigit() and 0 < int(limit) < problem.workers:
            raise report.UsageError("-p %d: OMP_THREAD_LIMIT=%s lets OpenMP, Numba's threading layer here, run at "
                                    "most %s thread%s (unset it, ask for fewer, or --style nogil)"
                                    % (problem.workers, limit, limit, "" if int(limit) == 1 else "s"))


def main():
    # ---- parse (and load Numba) ----
    options = matmul.parse(sys.argv, MODEL, cli.MANY_WORKERS, [STYLE_FLAG], {"style": "prange"}, own_kernel=KERNEL)
    load_numba(options)

    # ---- prepare: A and B from the seed, and the kernels compiled, outside the timed region ----
    problem = matmul.prepare(options)
    compile_kernels(problem)

    # ---- run, verify, report: warm-up runs, then one result line per timed run ----
    run.repeat(options, matmul.TASK, problem, multiply_prange if options.style == "prange" else multiply_nogil)


if __name__ == "__main__":
    run.main(main)
