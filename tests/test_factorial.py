"""tests/test_factorial.py — factorial's tables: both modes, every schedule, bad input, the check failing, sanitizers.

Every result line is also checked from outside: digits= and mod61= against
Python's own integers (n! mod 2^61-1, the digits of n!; in --mode many the
checksum, whose closed form is ((n+1)! - 1) mod 2^61-1).

--mode many computes every k! up to n!, so its largest size here is
MANY_LARGE_N, not --mode big's 100000: the factorials of 1..100000 take
minutes in one thread, and every table together must stay near two minutes.
"""
import functools
import math

from suite import (MPI_MORE_THAN_CORES, SHARED_BAD_INPUT, SILENT_STAND_IN, Case, MPIRUN, fails_on, launch, no_sanitizer_report, parsed_stdout, program,
                   result_lines, sanitizer_env, stderr_says, stdout_empty, stdout_says,
                   wrong_warmup_line)

WORKLOAD = "factorial"
MODELS = ("serial", "threads", "processes", "openmp", "mpi")
REFERENCE = "gmp"
SIZES = (0, 1, 2, 20, 1000, 100000)       # n = 0 and 1 are 1; tiny; ranges empty for P > n; large
MANY_LARGE_N = 3000                       # --mode many: thousands of tasks, costs from 1! to 3000!
MANY_SIZES = SIZES[:-1] + (MANY_LARGE_N,)
MEDIUM_N = 1000000                        # n! of 2.3 MB, built of many products of 64 KiB - 2 MiB
HUGE_N = 3000000                          # n! of 9 MB: GMP's blocks past FACTORIAL_BIG_BLOCK
WORKERS = (1, 2, 3, 8)                    # P = 1, odd P, P > cores, P > n
SCHEDULES = ("static", "cyclic", "dynamic")
BIG_FIGURES = ("digits", "mod61")
MANY_FIGURES = ("digits", "mod61", "chunk", "tasks", "per_task_us")
PRIME = 2 ** 61 - 1


# MPI pays a launch per case: one rank, an odd count, more ranks than cores (3 on two
# cores) and than n (n = 0 and 2 below; two ranks run in the kernels, check and cluster tables).
MPI_WORKERS = tuple(sorted({1, 3, MPI_MORE_THAN_CORES}))
# ... and --mode many at the sizes that reach its edges: no task, fewer tasks than ranks, a few
# tasks each, thousands (1 and 1000 repeat 0 and 20 there; 1000 runs in the chunk cases below).
MPI_MANY_SIZES = (0, 2, 20, MANY_LARGE_N)
# --mode big likewise: 1! is 0!'s edge again, and 1000 lies between 20 and 100000.
MPI_BIG_SIZES = (0, 2, 20, 100000)


def workers_for(model):
    """The worker counts a model takes: the serial model runs exactly one."""
    if model in ("serial", REFERENCE):
        return (1,)
    return MPI_WORKERS if model == "mpi" else WORKERS


def digits_of(x):
    """Decimal digits of x > 0, without converting it to a string (slow, and limited, for huge x)."""
    digits = max(1, int(x.bit_length() * math.log10(2)))
    while 10 ** digits <= x:
        digits += 1
    while digits > 1 and 10 ** (digits - 1) > x:
        digits -= 1
    return digits


@functools.lru_cache(maxsize=None)
def expected_figures(mode, n):
    """What digits= and mod61= must say, by Python's integers."""
    if mode == "big":
        value = math.factorial(n)
        return {"digits": str(digits_of(value)), "mod61": str(value % PRIME)}
    return {"digits": str(digits_of(math.factorial(n))), "mod61": str((math.factorial(n + 1) - 1) % PRIME),
            "tasks": str(n)}


def figures_agree(mode, n, schedule=None, chunk=None):
    """Check: there are result lines, and every one's own figures are those
    of n!, and say its mode (and schedule, chunk)."""
    expected = dict(expected_figures(mode, n), mode=mode)
    if schedule:
        expected["schedule"] = schedule
    if chunk is not None:
        expected["chunk"] = str(chunk)

    def check(outcome):
        lines, problem = parsed_stdout(outcome)
        if problem:
            return problem
        for pairs in lines:
            for key, value in expected.items():
                if pairs.get(key) != value:
                    return "%s=%s, expected %s" % (key, pairs.get(key), value)
        return None
    return check


def effective_chunk(schedule, n, workers, chunk=1):
    """chunk= on the result line: a block of the tasks for static, else --chunk."""
    return -(-n // workers) if schedule == "static" else chunk


def run_args(model, workers, n, extra=(), flavor=""):
    """argv for one run of a model at size n with warm-up and two timed runs."""
    return launch(WORKLOAD, model, workers, ["-n", n, "-r", 2, "--warmup", 1] + list(extra), flavor)


def big_case(model, n, p, flavor=""):
    """One --mode big run that must verify and keep the contract."""
    checks = [result_lines(WORKLOAD, model, n, p, reps=2, figures=BIG_FIGURES), figures_agree("big", n)]
    if flavor:
        checks.append(no_sanitizer_report)
    return Case("factorial %s%s big n=%d p=%d" % (flavor + " " if flavor else "", model, n, p),
                run_args(model, p, n, flavor=flavor), 0, checks, env=sanitizer_env(flavor, model),
                needs=[program("factorial-" + model, flavor)])


def many_case(model, n, p, schedule, chunk=None, flavor=""):
    """One --mode many run that must verify and keep the contract."""
    extra = ["--mode", "many", "--schedule", schedule] + (["--chunk", chunk] if chunk else [])
    checks = [result_lines(WORKLOAD, model, n, p, reps=2, figures=MANY_FIGURES),
              figures_agree("many", n, schedule, effective_chunk(schedule, n, p, chunk or 1))]
    if flavor:
        checks.append(no_sanitizer_report)
    return Case("factorial %s%s many n=%d p=%d %s%s" % (flavor + " " if flavor else "", model, n, p, schedule,
                                                        " chunk=%d" % chunk if chunk else ""),
                run_args(model, p, n, extra, flavor), 0, checks, env=sanitizer_env(flavor, model),
                needs=[program("factorial-" + model, flavor)])


KERNELS = ("primes", "tree", "split-tree")
KERNEL_SIZES = (5000, 30000)            # n! of about 850 and 6 300 limbs: many cuts each at 16 limbs
KERNEL_WORKERS = (1, 2, 3, 5)
# Cut every multiplication above this many limbs (FACTORIAL_SPLIT_LIMBS), so
# that small n reach every edge of the cutting: pieces of one limb's worth,
# uneven last pieces, squarings cut into up to 8 pieces.
KERNEL_SPLIT_LIMBS = "16"


def kernels():
    """Every --mode big kernel, in every model, with its multiplications cut
    over 1, 2, 3 and 5 workers, gives n! exactly; --kernel is refused
    outside --mode big and with a word it does not know."""
    cases = []
    for model in MODELS + (REFERENCE,):
        for kernel in KERNELS if model != REFERENCE else ():
            # the larger size, thousands of cuts, in threads only: the cutting is common code
            for n in KERNEL_SIZES if model == "threads" else KERNEL_SIZES[:1]:
                for p in (1,) if model == "serial" else KERNEL_WORKERS:
                    cases.append(Case("factorial %s big --kernel %s n=%d p=%d (cut at %s limbs)" % (
                        model, kernel, n, p, KERNEL_SPLIT_LIMBS),
                        launch(WORKLOAD, model, p, ["-n", n, "--kernel", kernel, "--warmup", 0, "-r", 2]), 0,
                        [result_lines(WORKLOAD, model, n, p, reps=2, figures=BIG_FIGURES), figures_agree("big", n),
                         stdout_says(r"kernel=%s\b" % kernel)],
                        env={"FACTORIAL_SPLIT_LIMBS": KERNEL_SPLIT_LIMBS}, needs=[program("factorial-" + model)]))
    for flavor in ("asan", "tsan"):
        for kernel in KERNELS:
            cases.append(Case("factorial %s threads big --kernel %s n=5000 p=3 (cut at %s limbs)" % (
                flavor, kernel, KERNEL_SPLIT_LIMBS),
                launch(WORKLOAD, "threads", 3, ["-n", 5000, "--kernel", kernel, "--warmup", 0], flavor), 0,
                [result_lines(WORKLOAD, "threads", 5000, 3, figures=BIG_FIGURES), figures_agree("big", 5000),
                 no_sanitizer_report],
                env=dict(sanitizer_env(flavor, "threads"), FACTORIAL_SPLIT_LIMBS=KERNEL_SPLIT_LIMBS),
                needs=[program("factorial-threads", flavor)]))
    exe = program("factorial-threads")
    cases.append(Case("factorial --kernel is refused with --mode many", [exe, "--mode", "many", "--kernel", "tree"],
                      2, [stdout_empty, stderr_says("--kernel: only --mode big")], needs=[exe]))
    cases.append(Case("factorial --kernel refuses a word it does not know", [exe, "--kernel", "fast"], 2,
                      [stdout_empty, stderr_says("--kernel: 'fast' is not one of primes|tree|split-tree")],
                      needs=[exe]))
    return cases


def correctness():
    """Every model × size × workers, in both modes and every schedule, verifies."""
    cases = []
    for model in MODELS:
        for n in MPI_BIG_SIZES if model == "mpi" else SIZES:
            for p in workers_for(model):
                cases.append(big_case(model, n, p))
        for n in MPI_MANY_SIZES if model == "mpi" else MANY_SIZES:
            for p in workers_for(model):
                for schedule in SCHEDULES:
                    cases.append(many_case(model, n, p, schedule))
        for p in workers_for(model)[-2:]:      # chunks of several tasks, and one larger than all of them
            cases.append(many_case(model, 1000, p, "cyclic", chunk=7))
            cases.append(many_case(model, 1000, p, "dynamic", chunk=7))
            cases.append(many_case(model, 20, p, "dynamic", chunk=50))
    for n in SIZES:
        cases.append(big_case(REFERENCE, n, 1))
    for n in MANY_SIZES:
        cases.append(many_case(REFERENCE, n, 1, "dynamic"))
    cases.append(many_case(REFERENCE, 1000, 1, "static"))
    cases.append(many_case(REFERENCE, 1000, 1, "cyclic", chunk=7))
    return cases


# Bad command lines every program must refuse with exit 2, naming the argument:
# the contract's own (suite.py), then this workload's.
BAD_INPUT = SHARED_BAD_INPUT + (
    (["-n", "-1"], "'-1'"),
    (["-n", "4294967296"], "'4294967296'"),
    (["--mode", "huge"], "'huge'"),
    (["--mode"], "--mode needs a value"),
    (["--schedule", "random"], "'random'"),
    (["--chunk", "0"], "'0'"),
    (["--chunk", "-3"], "'-3'"),
    (["--chunk", "many"], "'many'"),
    (["--schedule", "dynamic"], "--schedule: only --mode many"),
    (["--chunk", "4"], "--chunk: only --mode many"),
    (["--mode", "many", "--schedule", "static", "--chunk", "4"], "--chunk 4"),
    (["--mode", "many", "-n", "1000001"], "-n 1000001"),
)


def bad_input():
    """Every program refuses each bad command line: exit 2, a message, no result.
    The MPI program, whose every start costs half a second, takes only the
    rows of factorial's own flags; the shared flags are the same code in all."""
    cases = []
    for model in MODELS + (REFERENCE,):
        exe = program("factorial-" + model)
        for args, named in BAD_INPUT:
            if model == "mpi" and not any(a in ("--mode", "--schedule", "--chunk", "4294967296") for a in args):
                continue
            cases.append(Case("factorial %s refuses %s" % (model, " ".join(args) or "''"), [exe] + args, 2,
                              [stdout_empty, stderr_says(named)], needs=[exe]))
    serial, threads, mpi = program("factorial-serial"), program("factorial-threads"), program("factorial-mpi")
    processes = program("factorial-processes")
    cases += [
        Case("factorial serial refuses -p 2", [serial, "-p", "2"], 2,
             [stdout_empty, stderr_says("-p 2", "exactly one worker")], needs=[serial]),
        Case("factorial mpi refuses to run as a lone process when -p 4 expects 4 ranks",
             [mpi, "-p", "4", "-n", "8"], 2, [stdout_empty, stderr_says("-p 4", "single process")], needs=[mpi]),
        Case("factorial mpi refuses -p 3 with 2 ranks", [MPIRUN, "-np", 2, mpi, "-p", "3", "-n", "8"], 2,
             [stdout_empty, stderr_says("-p 3", "2 MPI ranks")], needs=[mpi]),
        Case("factorial mpi refuses --chunk with static, on every rank alike",
             [MPIRUN, "-np", 2, mpi, "--mode", "many", "--schedule", "static", "--chunk", "3"], 2,
             [stdout_empty, stderr_says("--chunk 3")], needs=[mpi]),
        Case("factorial serial refuses an n! the memory limit cannot hold",
             [serial, "-n", "1000000000"], 2, [stdout_empty, stderr_says("-n 1000000000", "GiB")],
             memory_limit=2 << 30, needs=[serial]),
        Case("factorial threads refuses --mode many whose workers the memory limit cannot hold",
             [threads, "--mode", "many", "-n", "1000000", "-p", "256"], 2,
             [stdout_empty, stderr_says("-n 1000000", "256 workers", "GiB")],
             memory_limit=1 << 30, needs=[threads]),
        Case("factorial serial --help", [serial, "--help"], 0,
             [stdout_says(r"usage: factorial-serial"), stdout_says(r"--mode"), stdout_says(r"--schedule"),
              stdout_says(r"--chunk")], needs=[serial]),
        Case("factorial serial -n17 (value attached)", [serial, "-n17"], 0,
             [result_lines(WORKLOAD, "serial", 17, 1, figures=BIG_FIGURES), figures_agree("big", 17)],
             needs=[serial]),
        Case("factorial serial --mode=many --schedule=cyclic --chunk=3 forms",
             [serial, "--mode=many", "--schedule=cyclic", "--chunk=3", "-n", "10", "-r", "3"], 0,
             [result_lines(WORKLOAD, "serial", 10, 1, reps=3, figures=MANY_FIGURES),
              figures_agree("many", 10, "cyclic", 3)], needs=[serial]),
    ] + list(default_modes()) + [
        Case("factorial serial --no-verify says verified=skipped", [serial, "-n", "33", "--no-verify"], 0,
             [result_lines(WORKLOAD, "serial", 33, 1, verified="skipped", figures=BIG_FIGURES)], needs=[serial]),
        Case("factorial serial --mode many --no-verify says verified=skipped",
             [serial, "--mode", "many", "-n", "33", "--no-verify"], 0,
             [result_lines(WORKLOAD, "serial", 33, 1, verified="skipped", figures=MANY_FIGURES)], needs=[serial]),
        Case("factorial serial cannot write its result: exit 1", [serial, "-n", "8"], 1,
             [stderr_says("cannot write")], stdout_path="/dev/full", needs=[serial]),
        # The memory files it opens before the runs must not take descriptor 1 and swallow the result line.
        Case("factorial processes started with stdout closed (>&-): exit 1, said",
             ["sh", "-c", 'exec "$0" -n 1000 -p 2 >&-', processes], 1,
             [stderr_says("cannot write the result line to stdout: Bad file descriptor")], needs=[processes]),
        Case("factorial processes with too few descriptors for its memory files: exit 1, ulimit -n named",
             ["sh", "-c", 'ulimit -n 5 && exec "$0" -n 1000 -p 2', processes], 1,
             [stdout_empty, stderr_says("cannot open a memory file: Too many open files (ulimit -n is 5)")],
             needs=[processes]),
    ]
    return cases


def default_modes():
    """The defaults, checked by figures_agree alone: (--mode big, --mode many)."""
    serial = program("factorial-serial")
    return (Case("factorial serial defaults to --mode big", [serial, "-n", "30"], 0,
                 [figures_agree("big", 30)], needs=[serial]),
            Case("factorial serial --mode many defaults to dynamic, chunk 1", [serial, "--mode", "many", "-n", "30"], 0,
                 [figures_agree("many", 30, "dynamic", 1)], needs=[serial]))


def figures_check_fails():
    """figures_agree, the only check of the defaults' cases, fails a program
    that prints nothing and exits 0, and a real run that answers another question."""
    serial = program("factorial-serial")
    big, many = default_modes()
    return [fails_on(big, SILENT_STAND_IN, "a program that prints nothing and exits 0"),
            fails_on(many, SILENT_STAND_IN, "a program that prints nothing and exits 0"),
            fails_on(big, [serial, "-n", "31"], "the answer for 31!", needs=[serial]),
            fails_on(many, [serial, "--mode", "many", "-n", "30", "--schedule", "cyclic"], "another schedule",
                     needs=[serial])]


def check_fails():
    """--inject-error spoils one bit of n!, one task's residue, or the checksum: the check must catch it."""
    cases = []
    for model in MODELS + (REFERENCE,):
        p = 1 if model in ("serial", REFERENCE) else 2
        exe = program("factorial-" + model)
        runs = [("big", 1000, []), ("big", 0, []), ("many", 1000, ["--mode", "many"]), ("many", 0, ["--mode", "many"])]
        for mode, n, extra in runs:
            figures = BIG_FIGURES if mode == "big" else MANY_FIGURES
            cases.append(Case("factorial %s catches a corrupted result (%s, n=%d)" % (model, mode, n),
                              launch(WORKLOAD, model, p, ["-n", n, "--warmup", 0, "--inject-error"] + extra), 1,
                              [result_lines(WORKLOAD, model, n, p, verified="no", figures=figures),
                               stderr_says("wrong result")], needs=[exe]))
        cases.append(Case("factorial %s stops at a corrupted warm-up run" % model,
                          launch(WORKLOAD, model, p, ["-n", 40, "--inject-error"]), 1,
                          [wrong_warmup_line(WORKLOAD, model, 40, p), stderr_says("untimed warm-up run")], needs=[exe]))
    return cases


def dying_worker():
    """A worker process killed in the middle: the parent reports it and exits 1, never waits forever."""
    exe = program("factorial-processes")
    # Kill every live child seen until the parent ends (or is a zombie, waiting for sh): a child caught just as it finished its job
    # (a zombie, or gone) is no test, and a run has children only while it lasts (its pool, forked at its start).
    kill_one_child = ('"$@" & parent=$!; '
                      'while case "$(ps -o stat= -p $parent)" in Z*|"") false ;; esac; do '
                      'for child in $(pgrep -P $parent); do '
                      'case "$(ps -o stat= -p $child)" in Z*|"") ;; *) kill -9 $child ;; esac; done; '
                      'sleep 0.05; done; wait $parent')
    cases = []
    for mode_args, n in ((["--mode", "big"], 10000000), (["--mode", "many"], 20000)):
        argv = ["sh", "-c", kill_one_child, "sh", exe, "-p", 3, "-n", n, "--warmup", 0] + mode_args
        cases.append(Case("factorial processes survives a worker killed in %s mode" % mode_args[1], argv, 1,
                          [stdout_empty, stderr_says("killed by signal 9")], timeout=60, needs=[exe]))
    return cases


def repeated_big_case(model, n, p, flavor, why):
    """A sanitizer build's --mode big run at P = p, p timed runs in one process (no warm-up):
    every run verified, no sanitizer report."""
    exe = program("factorial-" + model, flavor)
    return Case("factorial %s %s big n=%d p=%d -r %d (%s)" % (flavor, model, n, p, p, why),
                [exe, "-p", p, "-n", n, "-r", p, "--warmup", 0], 0,
                [result_lines(WORKLOAD, model, n, p, reps=p, figures=BIG_FIGURES), no_sanitizer_report],
                env=sanitizer_env(flavor, model), needs=[exe])


def sanitized(flavor):
    """A representative subset under ASan+UBSan (every program) or TSan (the threads)."""
    cases = []
    models = MODELS + (REFERENCE,) if flavor == "asan" else ("threads",)
    for model in models:
        plist = (1,) if model in ("serial", REFERENCE) else ((3,) if flavor == "asan" else (2, 3, 8))
        for p in plist:
            for n in (2, 1000, 100000):
                cases.append(big_case(model, n, p, flavor))
            cases.append(many_case(model, 0, p, "dynamic", flavor=flavor))
            for schedule in SCHEDULES:
                cases.append(many_case(model, 1000, p, schedule, flavor=flavor))
    for model in ("threads", "processes") if flavor == "asan" else ("threads",):
        # numbers of megabytes: GMP's big blocks (common/factorial_memory.c), kept for reuse: a block
        # given back and used again is poisoned under ASan; under TSan, threads share the kept list.
        # Three runs: the later runs fork their children from a parent that holds kept blocks.
        cases.append(repeated_big_case(model, HUGE_N, 3, flavor, "huge blocks, kept between runs"))
    if flavor == "asan":
        # eight threads on few cores giving back and taking GMP's medium blocks (64 KiB - 2 MiB) at once:
        # a block given back is poisoned before another thread can take it, never after (a use-after-poison
        # report in most such runs when it was poisoned once the list's lock was let go)
        for model in ("threads", "openmp"):
            cases.append(repeated_big_case(model, MEDIUM_N, 8, flavor, "medium blocks passed between threads"))
    return cases


def halves():
    """common/halves.c alone (bin/tests/halves-check, tests/halves_check.c): products put back
    together from their two residues equal GMP's, plainly and under ASan+UBSan; and the check fails
    when a product is wrong."""
    cases = []
    for flavor in ("", "asan"):
        exe = program("tests/halves-check", flavor)
        cases.append(Case("halves %s: x·y from its residues mod B^m - 1 and B^m + 1 equals mpz_mul's, edges "
                          "and FFT sizes" % (flavor or "plain"), [exe], 0,
                          [stdout_says(r"halves: \d+ products agree with mpz_mul"), no_sanitizer_report],
                          env=sanitizer_env(flavor, "serial") if flavor else None, needs=[exe]))
    exe = program("tests/halves-check")
    cases.append(Case("halves check fails on a wrong product (--break)", [exe, "--break"], 1,
                      [stdout_says("differ from mpz_mul's product")], needs=[exe]))
    return cases


def cases():
    """Every factorial table, in the order they are reported."""
    return (correctness() + kernels() + halves() + bad_input() + figures_check_fails() + check_fails()
            + dying_worker() + sanitized("asan") + sanitized("tsan"))
