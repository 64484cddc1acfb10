"""python/common/factorial.py — exact factorials: the problem, the one kernel, the dealer, the check, the figures.

The two modes of common/factorial.h, in Python:
  --mode big   one n!: 1..n cut into one range per worker of equal cost
               (bits of their products, cut_ranges), each range multiplied
               by binary splitting (product), the partial products
               multiplied pairwise up a tree (combine); the tree's last
               multiplications are the largest and the fewest: Amdahl's
               serial part.
  --mode many  the factorials of 1..n as independent tasks, each k! computed
               whole and kept as k! mod 2^61 - 1; --schedule and --chunk say
               how they are dealt out (deal: C's dealer, for the models that
               deal themselves; chunks: the same work as pool items).

The kernel, product, is binary splitting over --kernel's integers: Python's
own (default; every multiplication holds the GIL) or gmpy2's mpz (GMP's
arithmetic, the fast alternative), which hold the GIL too as gmpy2 comes
(its context's allow_release_gil, False); gmpy2-nogil sets it in each
thread that multiplies (one), and GMP multiplies with the GIL let go. The
check shares nothing with it: n!
against math.factorial (CPython's own algorithm) or gmpy2.fac (GMP's
mpz_fac_ui), each task's residue against the 64-bit-style recurrence, the
checksum against its closed form. Figures are common/factorial.c's: the same
n gives the same digits= and mod61= in C and Python.
"""
import math

from . import cli, report, run

# Limits and defaults (common/factorial.c's).
MAX_N = 4294967295
DEFAULT_N = 1000000
MANY_DEFAULT_N = 20000
MANY_MAX_N = 1000000
MAX_WORKERS = 256
MAX_CHUNK = MANY_MAX_N
# The prime results are reduced modulo: 2^61 - 1 (FACTORIAL_PRIME).
PRIME = 2 ** 61 - 1
# Memory, in copies of n! (common/factorial.c's BIG_COPIES, MANY_COPIES_PER_WORKER), and per worker.
BIG_COPIES = 12.0
MANY_COPIES_PER_WORKER = 3.0
WORKER_BYTES = 4096.0
# A Python int keeps 30 bits in each 4-byte digit.
INT_BYTES_PER_BIT = 4.0 / 30.0
# Ranges of at most this many factors are multiplied straight, one factor at a time; longer ones are halved.
LEAF_FACTORS = 32
# A residue no task ever produces (residues are below the prime): the poison that shows a task nobody ran.
UNSET_RESIDUE = 2 ** 64 - 1

MODES = ("big", "many")
SCHEDULES = ("static", "cyclic", "dynamic")
# What a pool can deal: it gives each chunk to whichever worker is free, so not cyclic (fixed in advance).
POOL_SCHEDULES = ("static", "dynamic")
KERNELS = ("python", "gmpy2", "gmpy2-nogil")
# The kernels whose integers are gmpy2's mpz (GMP's).
GMP_KERNELS = ("gmpy2", "gmpy2-nogil")


def factorial_flags(pool=False, many_only=False):
    """The workload's flags as a model takes them, and its --help says them: a
    pool's --schedule has no cyclic, and a model that runs --mode many only
    (IPython Parallel's) says so. Each still parses every word of --mode and
    --schedule, so that parse refuses the one the model lacks saying why."""
    if many_only:
        mode = ("many", "many: the factorials of 1..n as tasks (try -n 3000); required: this model has no "
                        "--mode big")
    else:
        mode = ("big|many", "big: one n! (default); many: the factorials of 1..n as tasks (try -n 3000)")
    if pool:
        schedule = ("|".join(POOL_SCHEDULES), "--mode many: one block per worker, or chunks on request (default); "
                    "no cyclic: the pool gives each chunk to whichever worker is free")
        chunked = "dynamic"
    else:
        schedule = ("|".join(SCHEDULES), "--mode many: one block per worker, chunks round-robin, or chunks on "
                    "request (default)")
        chunked = "cyclic and dynamic"
    return (
        cli.Flag("--mode", mode[0], "choice", "mode", mode[1], choices=MODES),
        cli.Flag("--schedule", schedule[0], "choice", "schedule", schedule[1], choices=SCHEDULES),
        cli.Flag("--chunk", "K", "count", "chunk", "--mode many, %s: tasks handed out at a time (default 1)"
                 % chunked, 1, MAX_CHUNK),
        cli.Flag("--kernel", "|".join(KERNELS), "choice", "kernel",
                 "python: Python's own integers (default); gmpy2: GMP's, through gmpy2, which holds the GIL as "
                 "it multiplies (gmpy2's default); gmpy2-nogil: GMP's with the GIL let go in each multiplication "
                 "(gmpy2's allow_release_gil)", choices=KERNELS),
    )


def log2_factorial(m):
    """log2(m!), from the log-gamma function: the bits of m!, to a fraction of a bit."""
    return math.lgamma(m + 1.0) / math.log(2.0)


def factorial_bytes(n):
    return log2_factorial(n) * INT_BYTES_PER_BIT + 8


def bytes_needed(options):
    """--mode big's memory, which is also the least either mode needs."""
    return BIG_COPIES * factorial_bytes(options.n) + options.workers * WORKER_BYTES


def workload(pool=False, many_only=False):
    """The factorial workload's command line for a model (factorial_flags); for
    one that runs --mode many only, -n is that mode's: at most MANY_MAX_N, MANY_DEFAULT_N if left out."""
    if many_only:
        return cli.Workload("factorial", "Exact factorials: the factorials of 1..n as tasks (--mode many)",
                            "n of the last task, n!", 0, MANY_MAX_N, MANY_DEFAULT_N, MAX_WORKERS,
                            factorial_flags(pool, many_only), bytes_needed)
    return cli.Workload("factorial", "Exact factorials: one huge n! (--mode big) or the factorials of 1..n as "
                        "tasks (--mode many)", "n of n! (--mode many: the last task, n!; default 20000 there)",
                        0, MAX_N, DEFAULT_N, MAX_WORKERS, factorial_flags(pool, many_only), bytes_needed)


gmpy2 = None  # the gmpy2 module, when --kernel gmpy2 or gmpy2-nogil asked for it


def parse(argv, model, policy, model_flags=(), defaults=None, pool=False, many_only=False):
    """The command line, with what depends on --mode (common/factorial.c's
    factorial_options). pool: the model hands tasks to a pool, which gives
    each chunk to whichever worker is free, so it cannot deal them cyclic.
    many_only: the model runs --mode many only (it refuses big itself); its
    -n and --help are that mode's."""
    global gmpy2
    options = cli.parse(argv, workload(pool, many_only), model, policy, model_flags,
                        dict({"mode": "big", "schedule": "dynamic", "chunk": 1, "kernel": "python"},
                             **(defaults or {})))
    cli.check_memory(options)
    if options.mode == "big":
        for flag in ("schedule", "chunk"):
            if flag in options.given:
                raise report.UsageError("--%s: only --mode many deals out tasks" % flag)
    else:
        check_many_options(options, pool)
    if options.kernel in GMP_KERNELS:
        gmpy2 = report.require("gmpy2", "python3-gmpy2", "--kernel " + options.kernel)
    options.startup = run.startup_seconds()
    return options


def check_many_options(options, pool):
    """--mode many's own refusals, and its memory."""
    if "n" not in options.given:
        options.n = MANY_DEFAULT_N
    if "chunk" in options.given and options.schedule == "static":
        raise report.UsageError("--chunk %d: --schedule static deals each worker one block; chunks are for "
                                "cyclic and dynamic" % options.chunk)
    if pool and options.schedule == "cyclic":
        raise report.UsageError("--schedule cyclic: a pool gives each chunk to whichever worker is free, so it "
                                "cannot deal them round-robin in advance; use static or dynamic")
    if options.n > MANY_MAX_N:
        raise report.UsageError("-n %d: --mode many computes every k! up to n!; past %d tasks that is days of "
                                "work" % (options.n, MANY_MAX_N))
    needed = options.workers * (MANY_COPIES_PER_WORKER * factorial_bytes(options.n) + WORKER_BYTES) + \
        (options.n + 1) * 8 * 4
    cli.check_memory(options, needed, "-n %d: --mode many with %d workers" % (options.n, options.workers))


def cut_ranges(n, parts):
    """bound[0..parts]: bound[w] is the smallest m whose log2(m!) reaches w/parts
    of log2(n!), so that every range's product has about as many bits as every other's."""
    total, bound = log2_factorial(n), [0]
    for w in range(1, parts):
        target, low, high = total * w / parts, bound[w - 1], n
        while low < high:
            middle = low + (high - low) // 2
            if log2_factorial(middle) >= target:
                high = middle
            else:
                low = middle + 1
        bound.append(low)
    return bound + [n]


class Problem:
    """One run's problem, its result, and the bookkeeping of its workers (common/factorial.h's struct factorial)."""

    def __init__(self, options):
        self.options, self.n, self.mode, self.workers = options, options.n, options.mode, options.workers
        self.kernel, self.schedule = options.kernel, options.schedule
        self.chunk = -(-self.n // self.workers) if self.schedule == "static" else options.chunk
        self.bound = cut_ranges(self.n, self.workers)
        self.partial = [None] * self.workers
        self.result = self.reference = None
        self.residue = unset_residues(self)
        self.checksum = UNSET_RESIDUE
        self.n_digits = factorial_digits(self.n, one(self.kernel)) if self.mode == "many" else 0
        self.spans = []
        self.next_task, self.taken = 1, [0] * self.workers


def unset_residues(problem):
    """--mode many's residue[0..n], each poisoned; none for --mode big, which has no tasks (nor has C's):
    n + 1 slots, 8 bytes each, made again before every run and pickled to every worker a pool spawns."""
    return [UNSET_RESIDUE] * (problem.n + 1) if problem.mode == "many" else []


def prepare(options):
    """Cut 1..n into ranges of equal cost and make room for the results, outside any timed region."""
    return Problem(options)


# ---- the kernel ----

def product(first, last, unit):
    """first · (first + 1) · … · last (unit, the kernel's 1, when last < first), by
    binary splitting: the two halves' products are about the same size, the case
    fast multiplication is made for."""
    if last < first:
        return unit
    if last - first < LEAF_FACTORS:
        x = unit
        for k in range(first, last + 1):
            x *= k
        return x
    middle = first + (last - first) // 2
    return product(first, middle, unit) * product(middle + 1, last, unit)


def one(kernel):
    """The kernel's 1, from which its products start: Python's 1, or gmpy2's mpz(1),
    made ready in the calling thread, the one about to multiply. In a process that
    has not loaded gmpy2 (a spawned worker), loads it first. gmpy2's context says
    whether its multiplications let go of the GIL (gmpy2-nogil) or hold it (gmpy2,
    gmpy2's default); it is the thread's, and a new thread's may be gmpy2's default
    or, as seen with Debian 12's gmpy2 2.1, what a thread that had ended left, so
    each thread that multiplies sets it."""
    global gmpy2
    if kernel not in GMP_KERNELS:
        return 1
    if gmpy2 is None:
        gmpy2 = report.require("gmpy2", "python3-gmpy2", "--kernel " + kernel)
    gmpy2.get_context().allow_release_gil = kernel == "gmpy2-nogil"
    return gmpy2.mpz(1)


def multiply(x, y, kernel):
    """x · y in the kernel's integers: a step of the tree, in the calling thread made ready first (one)."""
    one(kernel)
    return x * y


def multiply_range(problem, worker):
    """Worker's partial product: its range of factors, its span stamped."""
    start = run.clock()
    problem.partial[worker] = product(problem.bound[worker] + 1, problem.bound[worker + 1], one(problem.kernel))
    problem.spans.append(run.Span(worker, start, run.clock()))


def tree_steps(workers):
    """The rounds of the tree: pairs (w, w + step) for step = 1, 2, 4, ... below workers."""
    step = 1
    while step < workers:
        yield step
        step *= 2


def combine(problem, into, source):
    """One step of the tree: partial[into] *= partial[source], which is then let go."""
    problem.partial[into] = multiply(problem.partial[into], problem.partial[source], problem.kernel)
    problem.partial[source] = None


def take_result(problem):
    """The tree's root, partial[0], is n!."""
    problem.result = problem.partial[0]


def tasks(problem, worker, chunk):
    """The chunk's tasks in order: residue[k] = k! mod PRIME, each k! computed whole by the kernel."""
    first, count = chunk
    unit, start = one(problem.kernel), run.clock()
    for k in range(first, first + count):
        problem.residue[k] = int(product(1, k, unit) % PRIME)
    problem.spans.append(run.Span(worker, start, run.clock()))


def deal(problem, worker):
    """The next chunk (first, count) for this worker under the schedule, or
    None when there is none left for it (common/factorial_kernel.c's
    factorial_deal). Not thread-safe: one dealer, asked by one thread at a time."""
    n, workers, chunk = problem.n, problem.workers, problem.chunk
    if problem.schedule == "static":
        if problem.taken[worker] > 0:
            return None
        problem.taken[worker] += 1
        low, high = run.block_range(n, workers, worker)
        return (low + 1, high - low) if high > low else None
    if problem.schedule == "cyclic":
        first = (problem.taken[worker] * workers + worker) * chunk + 1
        problem.taken[worker] += 1
    else:  # dynamic: the next chunk nobody has taken
        first = problem.next_task
        problem.next_task += chunk
    return (first, min(chunk, n - first + 1)) if first <= n else None


def chunks(problem):
    """The same chunks as pool items: static's blocks, or dynamic's chunks in
    order (a pool deals them to whichever worker is free)."""
    if problem.schedule == "static":
        blocks = (run.block_range(problem.n, problem.workers, w) for w in range(problem.workers))
        return [(low + 1, high - low) for low, high in blocks if high > low]
    return [(first, min(problem.chunk, problem.n - first + 1)) for first in range(1, problem.n + 1, problem.chunk)]


def make_checksum(problem):
    """The sum of k · residue[k] over all tasks, mod the prime."""
    problem.checksum = sum(k * problem.residue[k] for k in range(1, problem.n + 1)) % PRIME


# ---- in a pool's worker process ----

worker_problem = None  # in a pool worker or an engine: the problem, handed over once before its tasks


def start_worker(problem):
    """A pool's initializer: become a worker (pools.py), keep the problem (fork: no copy)."""
    # Imported here, not at the top: py-serial and py-threading never start a pool, and importing
    # multiprocessing and ctypes is much of their start-up.
    from . import pools
    pools.become_worker(pipes_only=True)
    keep_problem(problem)


def keep_problem(problem):
    """Keep the problem for this process's tasks, and load gmpy2 if its kernel is
    gmpy2's: a pool worker's start, or an IPython Parallel engine's (sent to each once)."""
    global worker_problem, gmpy2
    if problem.kernel in GMP_KERNELS:
        gmpy2 = report.require("gmpy2", "python3-gmpy2", "--kernel " + problem.kernel)
    worker_problem = problem


def range_task(worker):
    """A pool's task: worker's partial product, sent back as (worker, number, span)."""
    problem = worker_problem
    return range_job(worker, problem.bound[worker] + 1, problem.bound[worker + 1], problem.kernel)


def pair_items(problem, step):
    """One round of the tree as pool items: (into, source, partial[into], partial[source], kernel); the numbers
    travel."""
    return [(into, into + step, problem.partial[into], problem.partial[into + step], problem.kernel)
            for into in range(0, problem.workers - step, 2 * step)]


def pair_task(item):
    """A pool's task: one multiplication of the tree, sent back as (into, source, product)."""
    into, source, x, y, kernel = item
    return into, source, multiply(x, y, kernel)


def chunk_task(chunk):
    """A pool's task: a chunk of --mode many's tasks, sent back as (first, residues, span)."""
    return chunk_job(chunk, worker_problem.kernel)


# ---- jobs: tasks that carry their data (joblib's Parallel has no initializer) ----

def range_job(worker, first, last, kernel):
    """first · … · last in the kernel's integers, as worker's partial
    product, sent back as (worker, number, span)."""
    start = run.clock()
    number = product(first, last, one(kernel))
    return worker, number, run.Span(run.worker_id(), start, run.clock())


def chunk_job(chunk, kernel):
    """A chunk (first, count) of --mode many's tasks in the kernel's integers,
    sent back as (first, residues, span)."""
    first, count = chunk
    unit, start = one(kernel), run.clock()
    residues = [int(product(1, k, unit) % PRIME) for k in range(first, first + count)]
    return first, residues, run.Span(run.worker_id(), start, run.clock())


def store_ranges(problem, results):
    """Partial products a pool sent back, into partial[]."""
    for worker, number, span in results:
        problem.partial[worker] = number
        problem.spans.append(span)


def store_pairs(problem, results):
    """A round of the tree a pool sent back: each product into partial[into], its source let go."""
    for into, source, number in results:
        problem.partial[into], problem.partial[source] = number, None


def store_residues(problem, results):
    """Residues a pool sent back, into residue[]."""
    for first, residues, span in results:
        problem.residue[first:first + len(residues)] = residues
        problem.spans.append(span)


# ---- the task: what run.repeat does around each timed run ----

def reset(problem):
    """Poison every result and rewind the dealer, so a worker that skipped its part is caught."""
    problem.partial = [None] * problem.workers
    problem.result = None
    problem.residue = unset_residues(problem)
    problem.checksum = UNSET_RESIDUE
    problem.spans = []
    problem.next_task, problem.taken = 1, [0] * problem.workers


def check_big(problem):
    """n! against the reference, made once by another algorithm: math.factorial, or gmpy2.fac (GMP's mpz_fac_ui)."""
    method = "gmpy2.fac" if problem.kernel in GMP_KERNELS else "math.factorial"
    if problem.reference is None:
        problem.reference = gmpy2.fac(problem.n) if problem.kernel in GMP_KERNELS else math.factorial(problem.n)
    if problem.result is not None and problem.result == problem.reference:
        return True
    got = problem.result if problem.result is not None else 0
    report.error("wrong result: %d! differs from %s's (%d bits against %d; mod 2^61-1: %d against %d)" % (
        problem.n, method, int(got).bit_length(), int(problem.reference).bit_length(), int(got % PRIME),
        int(problem.reference % PRIME)))
    return False


def check_many(problem):
    """Every task's residue against k! mod p multiplied up one k at a time, and
    the checksum against its closed form ((n+1)! - 1 mod p)."""
    expected = 1
    for k in range(1, problem.n + 1):
        expected = expected * k % PRIME
        if problem.residue[k] != expected:
            report.error("wrong result: task %d gave %d! mod 2^61-1 = %d, the recurrence gives %d" % (
                k, k, problem.residue[k], expected))
            return False
    closed_form = (expected * (problem.n + 1) - 1) % PRIME
    if problem.checksum != closed_form:
        report.error("wrong result: checksum %d, but ((n+1)! - 1) mod 2^61-1 = %d" % (problem.checksum,
                                                                                      closed_form))
        return False
    return True


def verify(problem):
    return check_big(problem) if problem.mode == "big" else check_many(problem)


def corrupt(problem):
    """Flip one bit in the middle of n!, or change one task's residue (the checksum when there are no tasks)."""
    if problem.mode == "big":
        problem.result = problem.result ^ (1 << (int(problem.result).bit_length() // 2))
    elif problem.n >= 1:
        problem.residue[(problem.n + 1) // 2] ^= 1
    else:
        problem.checksum ^= 1


def digits_from_log(log10x):
    """The decimal digits of a number whose log10 is about log10x, or 0 where a float cannot tell."""
    whole, margin = math.floor(log10x), 1e-6 + 1e-13 * log10x
    if log10x - whole > margin and whole + 1 - log10x > margin:
        return int(whole) + 1
    return 0


def decimal_digits(x):
    """The exact number of decimal digits of x (1 for 0), settled by powers of 10 where the log cannot tell."""
    x = int(x)
    if x <= 0:
        return 1
    digits = digits_from_log(math.log10(x))
    if digits:
        return digits
    digits = max(1, int(x.bit_length() * math.log10(2)))
    while 10 ** digits <= x:
        digits += 1
    while digits > 1 and 10 ** (digits - 1) > x:
        digits -= 1
    return digits


def factorial_digits(n, unit):
    """The decimal digits of n!, from log10(n!) or, where that cannot tell, from n! itself (unit: the kernel's 1)."""
    return digits_from_log(math.lgamma(n + 1.0) / math.log(10.0)) or decimal_digits(product(1, n, unit))


def figures(problem, seconds):
    if problem.mode == "big":
        result = problem.result if problem.result is not None else 0
        return " mode=big digits=%d mod61=%d kernel=%s" % (decimal_digits(result), int(result % PRIME),
                                                           problem.kernel)
    return " mode=many digits=%d mod61=%d schedule=%s chunk=%d tasks=%d per_task_us=%.3f kernel=%s" % (
        problem.n_digits, problem.checksum, problem.schedule, problem.chunk, problem.n,
        seconds / problem.n * 1e6 if problem.n > 0 else 0.0, problem.kernel)


TASK = run.Task(reset, verify, corrupt, figures)
