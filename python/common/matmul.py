"""python/common/matmul.py — dense matrix multiply C = A·B: the problem, the kernels, the check, the figures.

Every Python model (python/<model>/matmul.py) computes the same blocks of
C's rows with the same kernel, compute_rows, so a difference in speed
between models is the model's doing:

  --kernel numpy   a block of A's rows times B through NumPy (np.matmul, one
                   dgemm call into the BLAS, which runs without the GIL);
                   the BLAS is pinned to one thread (blas.py), so the model,
                   not the BLAS, decides how many cores work;
  --kernel python  the textbook loops in pure Python, which hold the GIL;
                   refused above PYTHON_KERNEL_MAX_N.

Inputs are those of common/matmul.c, bit for bit: whole numbers in [-8, 8]
from splitmix64 on the seed (mix.py), stored as doubles. Every product and
partial sum is exact, so any correct order of summation gives the same bits,
the check demands exact equality, and the same n and seed give the same
checksum= in C and Python. The check shares nothing with the kernels: up to
n = 256 every element against a product of integer arrays (NumPy's own
loops, no BLAS); above it Freivalds' test, C·w against A·(B·w), by
element-wise products and sums.
"""
import copy
import resource
import threading

from . import blas, cli, mix, pools, report, run

# Largest order accepted (common/matmul.c's MAX_N), the default, and the most workers.
MAX_N = 32768
DEFAULT_N = 1024
MAX_WORKERS = 1024
# Inputs are whole numbers in [-INPUT_RANGE, INPUT_RANGE].
INPUT_RANGE = 8
# Streams of the input generator: A, B and the check's weights differ (common/matmul.c's).
STREAM_A, STREAM_B, STREAM_WEIGHTS = 1, 2, 3
# Up to this order the check recomputes every element; above it, Freivalds' test.
EXACT_CHECK_MAX_N = 256
# Freivalds' rounds and the range [1, FREIVALDS_MAX_WEIGHT] of its random weights.
FREIVALDS_ROUNDS = 2
FREIVALDS_MAX_WEIGHT = 1024
# --kernel python above this order: n³ = 134 million multiply-adds in the
# interpreter, about a minute on one core; beyond it, hours. Use NumPy.
PYTHON_KERNEL_MAX_N = 512
# Elements generated, checked or summed at a time: bounds the temporaries (32 MiB of doubles).
BLOCK_ELEMENTS = 1 << 22
# checksum=: the sum over i, j of C[i][j] · (i·n + j + 1), modulo this prime
# (2^31 - 1): every product fits 64 bits, and a single wrong element always changes it.
CHECKSUM_PRIME = 2 ** 31 - 1
# Values of C the checksum takes as they are (beyond: not a result, counted as 0).
CHECKSUM_LIMIT = 2.0 ** 62
# The interpreter and its libraries, besides the matrices (NumPy, OpenBLAS's
# buffers): the address space they map (py-serial at n = 512 maps 366 MiB in
# all with Debian's NumPy and OpenBLAS 0.3.21). Under a `ulimit -v` tighter
# than that, OpenBLAS's allocator retries forever: the run must be refused first.
INTERPRETER_BYTES = 384 << 20
# What each worker thread that calls NumPy's BLAS maps besides (address space,
# hardly touched): OpenBLAS's buffer for the thread (128 MiB with 0.3.21), a
# malloc arena (64 MiB), and its stack (thread_stack_bytes). Measured at
# n = 512, peak VmPeak at -p 1, 2, 4, 8, 16 (MiB): py-threading 437, 637, 845,
# 845, 1037; futures' threads 437, 637, 909, 1363, 1579; Dask's threads 446,
# 646, 1046, 1516, 1694; joblib's threading backend 383, 864, 1264, 1808, 1872,
# with its pool's own threads besides (pool_threads: multiprocessing's
# ThreadPool has three, which call no BLAS; futures and Dask have none).
OPENBLAS_BUFFER_BYTES = 128 << 20
MALLOC_ARENA_BYTES = 64 << 20
# A thread's stack where `ulimit -s` is unlimited (the C library's default then, on x86-64).
UNLIMITED_STACK_THREAD_BYTES = 32 << 20

KERNELS = ("numpy", "python")
MATMUL_FLAGS = (
    cli.Flag("--kernel", "numpy|python", "choice", "kernel",
             "numpy: a block of rows times B through NumPy's BLAS (default); python: pure Python loops "
             "(n up to %d)" % PYTHON_KERNEL_MAX_N, choices=KERNELS),
)


def bytes_needed(options):
    """A, B, C, the reference kept for the exact check, a copy of C in transit, the interpreter.
    An MPI job (options.ranks_here: the ranks its launcher started on this host, python/mpi4py/'s):
    besides, B again in every rank but 0, and the rows of A and of C of every rank."""
    matrices = 5 if options.n <= EXACT_CHECK_MAX_N else 4
    ranks = getattr(options, "ranks_here", 0)
    if ranks:
        matrices += ranks - 1 + 2
    return matrices * options.n * options.n * 8 + INTERPRETER_BYTES


WORKLOAD = cli.Workload("matmul", "Dense matrix multiply C = A·B (double, n×n)", "order of the matrices",
                        1, MAX_N, DEFAULT_N, MAX_WORKERS, MATMUL_FLAGS, bytes_needed)

np = None  # NumPy, once parse has chosen the BLAS core it loads with


def parse(argv, model, policy, model_flags=(), defaults=None, own_kernel=None, in_threads=False, pool_threads=0):
    """The command line, checked; then NumPy loaded on the right BLAS core.
    own_kernel: (name, help) of a model's own kernel (python/numba/'s), the only one its --kernel takes.
    in_threads: whether the workers are threads of this process (True, or a function of the options);
    pool_threads: how many threads their pool runs besides them (joblib's threading backend: 3)."""
    global np
    workload, kernel = WORKLOAD, "numpy"
    if own_kernel:
        kernel, kernel_help = own_kernel
        workload = copy.copy(WORKLOAD)
        workload.flags = tuple(cli.Flag("--kernel", kernel, "choice", "kernel", kernel_help, choices=(kernel,))
                               if flag.field == "kernel" else flag for flag in WORKLOAD.flags)
    options = cli.parse(argv, workload, model, policy, model_flags, dict({"kernel": kernel}, **(defaults or {})))
    if options.kernel == "python" and options.n > PYTHON_KERNEL_MAX_N:
        raise report.UsageError("-n %d: --kernel python runs pure Python loops, and above -n %d (n³ = %d million "
                                "multiply-adds) that takes far too long; use --kernel numpy"
                                % (options.n, PYTHON_KERNEL_MAX_N, PYTHON_KERNEL_MAX_N ** 3 // 10 ** 6))
    cli.check_memory(options)
    if options.kernel == "numpy":
        if in_threads(options) if callable(in_threads) else in_threads:
            check_address_space(options, pool_threads)
        options.blas = blas.choose_core()
    else:
        options.blas = None
    np = report.require("numpy", "python3-numpy", "matmul")
    options.startup = run.startup_seconds()
    return options


def thread_stack_bytes():
    """The stack a new thread gets: threading.stack_size's, else the C library's default (ulimit -s)."""
    chosen = threading.stack_size()
    if chosen:
        return chosen
    soft = resource.getrlimit(resource.RLIMIT_STACK)[0]
    return UNLIMITED_STACK_THREAD_BYTES if soft == resource.RLIM_INFINITY else soft


def check_address_space(options, pool_threads):
    """Refuse -p when its worker threads, each calling OpenBLAS, would map more
    than `ulimit -v` allows: past it, a thread's OpenBLAS buffer is retried
    forever and the run hangs. Address space, not memory: checked against that
    limit alone (check_memory holds the matrices against the memory). Each
    worker may hold a buffer of its own at once, and each thread, the pool's
    own pool_threads too, a malloc arena and a stack."""
    limit = resource.getrlimit(resource.RLIMIT_AS)[0]
    if limit == resource.RLIM_INFINITY:
        return
    needed = (bytes_needed(options) + options.workers * OPENBLAS_BUFFER_BYTES
              + (options.workers + pool_threads) * (MALLOC_ARENA_BYTES + thread_stack_bytes()))
    if needed > limit:
        besides = "; and the pool's %d threads of its own" % pool_threads if pool_threads else ""
        raise report.UsageError("-p %d: %d threads calling OpenBLAS need about %s of address space in all (each: "
                                "OpenBLAS's buffer, a malloc arena and a stack%s), more than the %s ulimit -v "
                                "allows; fewer workers fit, or workers that are processes (each has its own)"
                                % (options.workers, options.workers, report.size_said(needed), besides,
                                   report.size_said(limit)))


class Problem:
    """One multiplication and what it needs (common/matmul.h's struct matmul).

    inputs=False (an MPI rank other than 0, which is sent what it needs): no
    A, no C, and B only as room to receive it.
    """

    def __init__(self, options, inputs=True):
        n = self.n = options.n
        self.options, self.kernel, self.workers, self.seed = options, options.kernel, options.workers, options.seed
        if inputs:
            self.a, self.b = generate(options.seed, STREAM_A, n), generate(options.seed, STREAM_B, n)
            self.c = np.empty((n, n))
        else:
            self.a, self.b, self.c = None, np.empty((n, n)), np.empty((0, n))
        # What each worker is handed: the index-th of `workers` blocks of C's rows, as (first, last).
        self.blocks = [run.block_range(n, self.workers, index) for index in range(self.workers)]
        self.spans = [None] * self.workers
        # The python kernel's operands: lists of Python floats, made once here.
        self.a_lists = self.a.tolist() if self.kernel == "python" and inputs else None
        self.b_lists = self.b.tolist() if self.kernel == "python" and inputs else None
        self.reference = None  # A·B by integer arithmetic, made on the first exact check


def prepare(options, inputs=True):
    """Generate A and B from the seed and make room for C, outside any timed region
    (inputs=False: room for B only, for an MPI rank that receives the inputs)."""
    return Problem(options, inputs)


def generated(seed, stream, first, count):
    """Elements first .. first+count-1 of a stream as uint64, a pure function of the seed (common/matmul.c's)."""
    stream_key = mix.finalize((seed ^ (stream << 56)) + mix.GOLDEN)
    index = np.arange(first, first + count, dtype=np.uint64)
    return mix.finalize_array(index + np.uint64((stream_key + mix.GOLDEN) & mix.MASK), np)


def generate(seed, stream, n):
    """An n×n input: whole numbers in [-INPUT_RANGE, INPUT_RANGE], as doubles."""
    x = np.empty(n * n)
    for first in range(0, n * n, BLOCK_ELEMENTS):
        count = min(BLOCK_ELEMENTS, n * n - first)
        values = generated(seed, stream, first, count) % np.uint64(2 * INPUT_RANGE + 1)
        x[first:first + count] = values.astype(np.int64) - INPUT_RANGE
    return x.reshape(n, n)


# ---- the kernels ----

def python_rows(a_rows, b, n):
    """The pure Python kernel: a_rows times B by the textbook loops (i, k, j order), lists of floats."""
    c_rows = []
    for a_row in a_rows:
        c_row = [0.0] * n
        for a_ik, b_row in zip(a_row, b):
            for j in range(n):
                c_row[j] += a_ik * b_row[j]
        c_rows.append(c_row)
    return c_rows


def multiply_rows(kernel, a_rows, b, out):
    """The kernel every model calls: a_rows times B into out (numpy: arrays; python: lists of floats)."""
    if kernel == "numpy":
        np.matmul(a_rows, b, out=out)
    elif len(a_rows) > 0:  # a worker with no rows (P > n) has none to write: NumPy takes no [] for a (0, n) block
        out[:] = python_rows(a_rows, b, len(b))


def compute_rows(problem, first, last, out):
    """Rows first..last-1 of A·B into out, from the operands prepare made for the kernel."""
    a, b = (problem.a, problem.b) if problem.kernel == "numpy" else (problem.a_lists, problem.b_lists)
    multiply_rows(problem.kernel, a[first:last], b, out)


def multiply_block(problem, index):
    """Block index of C's rows, computed in place, its span stamped (serial, threads)."""
    first, last = problem.blocks[index]
    start = run.clock()
    compute_rows(problem, first, last, problem.c[first:last])
    problem.spans[index] = run.Span(index, start, run.clock())


def rows_times_b(kernel, a_rows, b, out=None):
    """The same kernel on operands that travelled (an MPI rank's rows, a Dask
    task's): a_rows·B into out (made here when None), which it returns, by
    compute_rows' NumPy call or Python loops (whose lists are made here, from
    the arrays that arrived). In a process that has not loaded NumPy (a
    spawned worker), loads it first, its BLAS pinned to one thread as in a pool's worker."""
    global np
    if np is None:
        np = report.require("numpy", "python3-numpy", "matmul")
        if kernel == "numpy":
            report.require("threadpoolctl", "python3-threadpoolctl", "matmul").threadpool_limits(1, user_api="blas")
    if out is None:
        out = np.empty((a_rows.shape[0], b.shape[1]))
    if kernel == "numpy":
        np.matmul(a_rows, b, out=out)
    elif a_rows.shape[0] > 0:  # as in multiply_rows
        out[:] = python_rows(a_rows.tolist(), b.tolist(), b.shape[0])
    return out


# ---- in a pool's worker process ----

worker_problem = None  # in a pool worker: the problem, handed over once by the pool's initializer


def start_worker(problem):
    """A pool's initializer: become a worker (pools.py), pin the BLAS, keep the problem (fork: no copy)."""
    global worker_problem, np
    pools.become_worker(pipes_only=True)
    np = report.require("numpy", "python3-numpy", "matmul")
    if problem.kernel == "numpy":
        report.require("threadpoolctl", "python3-threadpoolctl", "matmul").threadpool_limits(1, user_api="blas")
    worker_problem = problem


def block_task(index):
    """A pool's task: block index of C's rows, sent back as (index, rows, span)."""
    problem = worker_problem
    first, last = problem.blocks[index]
    rows = np.empty((last - first, problem.n))
    start = run.clock()
    compute_rows(problem, first, last, rows)
    return index, rows, run.Span(run.worker_id(), start, run.clock())


# ---- jobs: tasks that carry their data (joblib's Parallel has no initializer) ----

jobs_ready = False  # whether this process has NumPy loaded and its BLAS pinned for jobs


def ready_for_jobs(kernel):
    """Once in every process that runs jobs (a loky worker is a fresh interpreter):
    NumPy loaded and, for the numpy kernel, the BLAS pinned to one thread
    (joblib gives each loky worker cpu_count // P of them otherwise)."""
    global np, jobs_ready
    if jobs_ready:
        return
    np = report.require("numpy", "python3-numpy", "matmul")
    if kernel == "numpy":
        report.require("threadpoolctl", "python3-threadpoolctl", "matmul").threadpool_limits(1, user_api="blas")
    jobs_ready = True


def block_job(index, a_rows, b, kernel):
    """A job: block index of C's rows, A's rows times B, sent back as (index, rows, span).
    The operands come as arrays (joblib hands large ones to a process as memory
    maps); the pure Python kernel makes its lists before its clock starts."""
    ready_for_jobs(kernel)
    if kernel == "python":
        a_rows, b = a_rows.tolist(), b.tolist()
    rows = np.empty((len(a_rows), len(b)))
    start = run.clock()
    multiply_rows(kernel, a_rows, b, rows)
    return index, rows, run.Span(run.worker_id(), start, run.clock())


def store(problem, results):
    """The blocks a pool or jobs sent back, into C (part of combine)."""
    for index, rows, span in results:
        first, last = problem.blocks[index]
        problem.c[first:last] = rows
        problem.spans[index] = span


# ---- the task: what run.repeat does around each timed multiplication ----

def reset(problem):
    """Poison C and the spans, so rows nobody wrote fail the check."""
    problem.c.fill(np.nan)
    problem.spans = [None] * problem.workers


def first_wrong(got, want):
    """(i, j) of the first element where got differs from want."""
    i, j = np.argwhere(~(got == want))[0]
    return int(i), int(j)


def check_exact(problem):
    """Every element of C against A·B made from integer arrays (NumPy's own loops, not the BLAS)."""
    if problem.reference is None:
        problem.reference = problem.a.astype(np.int64) @ problem.b.astype(np.int64)
    if np.array_equal(problem.c, problem.reference):
        return True
    i, j = first_wrong(problem.c, problem.reference)
    report.error("wrong result: C[%d][%d] = %g, the reference product gives %d" % (i, j, problem.c[i, j],
                                                                                   problem.reference[i, j]))
    return False


def times_vector(matrix, w):
    """matrix·w by element-wise products and sums, a block of rows at a time (exact here: whole numbers below 2^53)."""
    n = matrix.shape[0]
    rows = max(1, BLOCK_ELEMENTS // n)
    return np.concatenate([(matrix[r:r + rows] * w).sum(axis=1) for r in range(0, n, rows)])


def check_freivalds(problem):
    """C·w == A·(B·w) for random whole-number weights w, exactly (common/matmul.c's rounds and weights)."""
    n = problem.n
    for round_number in range(FREIVALDS_ROUNDS):
        w = (generated(problem.seed + round_number, STREAM_WEIGHTS, 0, n) % np.uint64(FREIVALDS_MAX_WEIGHT)
             ).astype(np.float64) + 1
        abw, cw = times_vector(problem.a, times_vector(problem.b, w)), times_vector(problem.c, w)
        if not np.array_equal(cw, abw):
            i = int(np.argwhere(~(cw == abw))[0][0])
            report.error("wrong result: row %d of C fails Freivalds' check ((C·w)[%d] = %g, (A·(B·w))[%d] = %g)"
                         % (i, i, cw[i], i, abw[i]))
            return False
    return True


def verify(problem):
    return check_exact(problem) if problem.n <= EXACT_CHECK_MAX_N else check_freivalds(problem)


def corrupt(problem):
    problem.c[problem.n // 2, problem.n // 3] += 1.0


def checksum(c):
    """The sum over i, j of C[i][j] · (i·n + j + 1) mod CHECKSUM_PRIME, each C[i][j]
    taken as a whole number toward zero (NaN and huge values: 0), as common/matmul.c."""
    n, total = c.shape[0], 0
    flat, prime = c.reshape(-1), np.uint64(CHECKSUM_PRIME)
    with np.errstate(invalid="ignore"):
        for first in range(0, n * n, BLOCK_ELEMENTS):
            block = flat[first:first + BLOCK_ELEMENTS]
            whole = np.where(np.abs(block) < CHECKSUM_LIMIT, block, 0.0).astype(np.int64)
            residue = np.mod(whole, CHECKSUM_PRIME).astype(np.uint64)
            weight = np.arange(first + 1, first + 1 + len(block), dtype=np.uint64) % prime
            total = (total + int((residue * weight % prime).sum())) % CHECKSUM_PRIME
    return total


def figures(problem, seconds):
    flops = 2.0 * problem.n ** 3
    blas_figures = problem.options.blas.figures() if problem.options.blas else ""
    return " gflops=%.3f kernel=%s checksum=%d%s" % (flops / seconds / 1e9 if seconds > 0 else 0.0, problem.kernel,
                                                    checksum(problem.c), blas_figures)


TASK = run.Task(reset, verify, corrupt, figures)
