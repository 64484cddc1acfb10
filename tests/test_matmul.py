"""tests/test_matmul.py — matmul's tables: correctness, bad input, the check failing, sanitizers."""
import atexit
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path

from suite import (MOST_THREADS, MPI_MORE_THAN_CORES, SHARED_BAD_INPUT, Case, MPIRUN, RANK_ONE_LIMITED, ROOT,
                   built_with, launch, needs_mpirun, no_sanitizer_report, parse_result_line, program, result_lines,
                   said_once, sanitizer_env, stderr_lacks, stderr_says, stdout_empty, stdout_says, summary_line,
                   UNDER_MEMORY_CGROUP, UNDER_MEMORY_CGROUP_CANNOT, usable_cores, wrong_warmup_line)

WORKLOAD = "matmul"
MODELS = ("serial", "threads", "processes", "openmp", "mpi", "blas")
SIZES = (1, 2, 3, 17, 64, 257)            # odd, tiny, around tile edges, exact and Freivalds checks
WORKERS = (1, 2, 3, 8)                    # P = 1, odd P, P > cores, P > n
# Under the sanitizers, a subset that still reaches every code path: one element, a
# size that is no tile's multiple, Freivalds' check; one worker, an odd count, more than cores and than n.
SANITIZED_SIZES = (1, 17, 257)
SANITIZED_WORKERS = (1, 3, 8)
LARGE_N = 1500                            # Freivalds' check, edge tiles in both directions
FIGURES = ("gflops", "kernel")


# MPI pays a launch per case: one rank, an odd count, more ranks than cores (3 on two
# cores, where it is also more ranks than rows at n = 1 and 3; two ranks run in the
# check, naive and launcher tables).
MPI_WORKERS = tuple(sorted({1, 3, MPI_MORE_THAN_CORES}))
# ... at the sizes that place rows differently: one row, fewer rows than ranks, uneven rows
# across a tile edge, and the size the Freivalds check takes over at (2 and 64 repeat them).
MPI_SIZES = (1, 3, 17, 257)


def workers_for(model):
    """The worker counts a model takes: the serial model runs exactly one."""
    if model == "serial":
        return (1,)
    return MPI_WORKERS if model == "mpi" else WORKERS


def run_args(model, workers, n, extra=(), flavor=""):
    """argv for one run of a model at size n with warm-up and two timed runs."""
    return launch(WORKLOAD, model, workers, ["-n", n, "-r", 2, "--warmup", 1] + list(extra), flavor)


def correctness(flavor=""):
    """Every model × size × workers verifies, keeping the result-line contract (under a sanitizer, a subset)."""
    cases = []
    models = MODELS if flavor != "tsan" else ("threads",)
    for model in models:
        for n in SANITIZED_SIZES if flavor else MPI_SIZES if model == "mpi" else SIZES:
            for p in (workers_for(model) if not flavor or model == "mpi" else
                      (1,) if model == "serial" else SANITIZED_WORKERS):
                checks = [result_lines(WORKLOAD, model, n, p, reps=2, figures=FIGURES)]
                if flavor:
                    checks.append(no_sanitizer_report)
                cases.append(Case("%s%s n=%d p=%d" % (flavor + " " if flavor else "", model, n, p),
                                  run_args(model, p, n, flavor=flavor), 0, checks,
                                  env=sanitizer_env(flavor, model),
                                  needs=[program("matmul-" + model, flavor)]))
    return cases


def large_and_naive():
    """One large size through Freivalds' check per model; the naive kernel too."""
    cases = []
    for model in MODELS:
        p = 1 if model == "serial" else 3
        cases.append(Case("%s n=%d p=%d (Freivalds)" % (model, LARGE_N, p),
                          launch(WORKLOAD, model, p, ["-n", LARGE_N]), 0,
                          [result_lines(WORKLOAD, model, LARGE_N, p, figures=FIGURES)],
                          needs=[program("matmul-" + model)]))
    for model, p, n in (("serial", 1, 1), ("serial", 1, 257), ("threads", 3, 257), ("mpi", 2, 64)):
        cases.append(Case("%s --kernel naive n=%d p=%d" % (model, n, p),
                          launch(WORKLOAD, model, p, ["-n", n, "--kernel", "naive"]), 0,
                          [result_lines(WORKLOAD, model, n, p, figures=FIGURES),
                           stdout_says(r"kernel=naive")],
                          needs=[program("matmul-" + model)]))
    return cases


# Bad command lines every program must refuse with exit 2, naming the argument:
# the contract's own (suite.py), then this workload's.
BAD_INPUT = SHARED_BAD_INPUT + (
    (["-n", "0"], "'0'"),
    (["-n", "-5"], "'-5'"),
    (["-n", "32769"], "'32769'"),
    (["--seed", "-1"], "'-1'"),
    (["--kernel", "fast"], "'fast'"),
)


def bad_input():
    """Every program refuses each bad command line: exit 2, a message, no result."""
    cases = []
    for model in MODELS:
        exe = program("matmul-" + model)
        for args, named in BAD_INPUT:
            if model == "blas" and args[0] == "--kernel":
                continue
            cases.append(Case("%s refuses %s" % (model, " ".join(args) or "''"), [exe] + args, 2,
                              [stdout_empty, stderr_says(named)], needs=[exe]))
    serial, mpi, blas = program("matmul-serial"), program("matmul-mpi"), program("matmul-blas")
    cases += [
        Case("serial refuses -p 2", [serial, "-p", "2"], 2,
             [stdout_empty, stderr_says("-p 2", "exactly one worker")], needs=[serial]),
        Case("blas refuses --kernel", [blas, "--kernel", "naive"], 2,
             [stdout_empty, stderr_says("--kernel")], needs=[blas]),
        # The harness leaves out worker counts past max_workers, so each one up to it must run.
        Case("blas runs the most workers its --describe offers (its OpenBLAS's MAX_THREADS)",
             ["sh", "-c", 'm=$("$0" --describe | sed -n "s/.* max_workers=\\([0-9]*\\).*/\\1/p") && '
              'exec "$0" -n 8 -p "$m" --warmup 0', blas], 0, [stdout_says("workers=[0-9]+ rep=1")], needs=[blas]),
        Case("blas refuses --isa (OpenBLAS chooses its own kernels)", [blas, "--isa", "avx2"], 2,
             [stdout_empty, stderr_says("unknown flag '--isa'")], needs=[blas]),
        Case("blas refuses, not hangs, where ulimit -v leaves OpenBLAS too little room for its buffers",
             [blas, "-n", "512"], 2, [stdout_empty, stderr_says("-n 512: needs about", "MiB")],
             memory_limit=300 << 20, needs=[blas]),
        Case("blas refuses, not hangs, -p whose threads' buffers ulimit -v cannot hold (past the 1 it started)",
             [blas, "-n", "64", "-p", "16"], 2,
             [stdout_empty, stderr_says("-p 16: OpenBLAS's 15 threads past the 1 it has started", "ulimit -v allows")],
             env={"OPENBLAS_NUM_THREADS": "1"}, memory_limit=1 << 30, needs=[blas]),
        Case("mpi refuses to run as a lone process when -p 4 expects 4 ranks", [mpi, "-p", "4", "-n", "8"],
             2, [stdout_empty, stderr_says("-p 4", "single process")], needs=[mpi]),
        Case("mpi refuses -p 3 with 2 ranks", [MPIRUN, "-np", 2, mpi, "-p", "3", "-n", "8"], 2,
             [stdout_empty, stderr_says("-p 3", "2 MPI ranks")], needs=[mpi]),
        Case("serial refuses a size the memory limit cannot hold",
             [serial, "-n", "16384"], 2, [stdout_empty, stderr_says("-n 16384", "GiB")],
             memory_limit=2 << 30, needs=[serial]),
        Case("serial says a small memory limit in MiB, not as 0.4 GiB",
             [serial, "-n", "8000"], 2, [stdout_empty, stderr_says("needs about 1.9 GiB of memory, more than the "
                                                                 "400.0 MiB this machine has")],
             memory_limit=400 << 20, needs=[serial]),
        Case("serial refuses a size a memory limit on the cgroup above its own cannot hold (systemd's MemoryMax= "
             "on a login node's user slice), where it was killed for memory (137)",
             [UNDER_MEMORY_CGROUP, 1 << 30, serial, "-n", "12000"], 2,
             [stdout_empty, stderr_says("-n 12000: needs about 4.3 GiB of memory, more than the 1.0 GiB")],
             needs=[serial], skip_exit=UNDER_MEMORY_CGROUP_CANNOT),
        # Every rank holds B and its rows besides rank 0's A, B and C: 6 matrices at 2 ranks, 4 in one process.
        Case("mpi refuses a size its ranks together cannot hold under a memory cgroup (each holds a copy of B), "
             "where rank 0 was killed for memory (137)",
             [UNDER_MEMORY_CGROUP, 1 << 30, MPIRUN, "-np", 2, mpi, "-n", "5000"], 2,
             [stdout_empty, stderr_says("-n 5000: needs about 1.1 GiB of memory, more than the 1.0 GiB")],
             needs=[mpi], skip_exit=UNDER_MEMORY_CGROUP_CANNOT, timeout=60),
        # Each rank checks the memory its host lets it have, and the ranks agree before any goes on.
        Case("mpi: a size rank 1 cannot hold (its host with less memory: ulimit -v there) is refused by every rank, "
             "exit 2, rank 1 saying so once, where the ranks waited for each other forever",
             [MPIRUN, "-np", 2, "bash", "-c", RANK_ONE_LIMITED, 1500000, mpi, "-n", "6000"], 2,
             [stdout_empty, stderr_says("-n 6000: needs about", "rank 1 may use, on host"), said_once("needs about")],
             needs=[mpi] + OPEN_MPI, timeout=60),
        Case("serial --help", [serial, "--help"], 0, [stdout_says(r"usage: matmul-serial")], needs=[serial]),
        Case("serial -n17 (value attached)", [serial, "-n17"], 0,
             [result_lines(WORKLOAD, "serial", 17, 1, figures=FIGURES)], needs=[serial]),
        Case("serial --seed=7 -r=... forms", [serial, "--seed=7", "-n", "9", "-r", "3"], 0,
             [result_lines(WORKLOAD, "serial", 9, 1, reps=3, figures=FIGURES)], needs=[serial]),
        Case("serial --no-verify says verified=skipped", [serial, "-n", "33", "--no-verify"], 0,
             [result_lines(WORKLOAD, "serial", 33, 1, verified="skipped", figures=FIGURES)], needs=[serial]),
        Case("serial cannot write its result: exit 1", [serial, "-n", "8"], 1,
             [stderr_says("cannot write")], stdout_path="/dev/full", needs=[serial]),
        Case("serial writing its results past ulimit -f: exit 1, said, not killed by SIGXFSZ",
             ["sh", "-c", 'f=$(mktemp) && ulimit -f 1 && "$0" -n 4 -r 40 >"$f"; s=$?; rm -f "$f"; exit $s', serial], 1,
             [stderr_says("cannot write the result line to stdout: File too large")], needs=[serial]),
        Case("serial started with stdout closed (>&-): exit 1, said", ["sh", "-c", 'exec "$0" -n 8 >&-', serial], 1,
             [stderr_says("cannot write the result line to stdout: Bad file descriptor")], needs=[serial]),
        Case("serial cannot write its --help: exit 1, said", [serial, "--help"], 1,
             [stderr_says("cannot write the help to stdout: No space left on device")], stdout_path="/dev/full",
             needs=[serial]),
        Case("serial cannot write its --describe: exit 1, said", [serial, "--describe"], 1,
             [stderr_says("cannot write the description to stdout")], stdout_path="/dev/full", needs=[serial]),
        Case("serial writing into a pipe nobody reads (| head gone): exit 1, said, not killed by SIGPIPE",
             [sys.executable, "-c", CLOSED_PIPE, serial, "-n", "4"], 1,
             [stderr_says("cannot write the result line to stdout: Broken pipe")], needs=[serial]),
        Case("serial --help into a pipe nobody reads: exit 1, said", [sys.executable, "-c", CLOSED_PIPE, serial,
                                                                       "--help"], 1,
             [stderr_says("cannot write the help to stdout: Broken pipe")], needs=[serial]),
        Case("serial refuses --help=yes (a switch takes no value)", [serial, "--help=yes"], 2,
             [stdout_empty, stderr_says("--help takes no value")], needs=[serial]),
    ] + [Case("%s refuses MATMUL_KC=%s (a tuning variable): exit 2, named, before any work" % (model, value),
              [program("matmul-" + model), "-n", "16", "-p", "1"], 2,
              [stdout_empty, stderr_says("MATMUL_KC=%s: a whole number from 1 to 4096" % value)],
              env={"MATMUL_KC": value}, needs=[program("matmul-" + model)])
         for model, value in (("serial", "2305843009213693952"), ("threads", "0"), ("openmp", "abc"))] + [
        Case("openmp refuses -p 2 where OMP_THREAD_LIMIT=1 would quietly run one thread", [program("matmul-openmp"),
             "-n", "16", "-p", "2"], 2, [stdout_empty, stderr_says("-p 2: OMP_THREAD_LIMIT=1 lets OpenMP run at "
                                                                   "most 1 thread ")],
             env={"OMP_THREAD_LIMIT": "1"}, needs=[program("matmul-openmp")]),
        Case("openmp runs its 2 threads where OMP_MAX_ACTIVE_LEVELS=0 would quietly run one",
             [sys.executable, "-c", MOST_THREADS, program("matmul-openmp"), "-n", "600", "-p", "2", "-r", "3"], 0,
             [result_lines(WORKLOAD, "openmp", 600, 2, reps=3, figures=FIGURES), stderr_says("most threads: 2\n")],
             env={"OMP_MAX_ACTIVE_LEVELS": "0"}, needs=[program("matmul-openmp")])]
    return cases


# Runs the program after it (argv[1:]) with its stdout the write end of a pipe
# whose read end is already closed, as `prog | head -1` is once head has gone.
CLOSED_PIPE = ("import os, subprocess, sys; r, w = os.pipe(); os.close(r); "
               "sys.exit(subprocess.call(sys.argv[1:], stdout=w))")


# A worker that never computes: threads/matmul.c with worker 1's call to matmul_block edited
# out, built with the check (common/matmul.c) compiled afresh with the flags given ($3), beside
# the suite's own objects, by the compiler build/flags names. Its rows stay the NaN that
# matmul_reset_rows put there. A failed build exits SKIPPED_BUILD_FAILED, which no case expects.
SKIPPED_BUILD_FAILED = 3
SKIPPED_ROWS = """
mkdir -p "$2" || exit %d
sed 's/^    matmul_block(w->m, w->index);$/    if (w->index != 1) matmul_block(w->m, w->index);/' \\
    threads/matmul.c > "$2/skipped_rows.c"
grep -q 'w->index != 1' "$2/skipped_rows.c" || exit %d
$1 -std=c11 -D_GNU_SOURCE -Icommon -O2 $3 -pthread -o "$2/skipped_rows" "$2/skipped_rows.c" common/matmul.c \\
    build/libmatmul.a build/libcommon.a build/team_single.o -lm || exit %d
exec "$2/skipped_rows" -n $4 -p 2 --warmup 0
""" % ((SKIPPED_BUILD_FAILED,) * 3)


def skipped_rows():
    """Rows no worker wrote must fail the check, by both methods, and also where the check is
    built with -ffast-math (as icx builds by default: its fp-model fast), under which a NaN
    compares equal to anything."""
    folder = tempfile.mkdtemp(prefix="matmul-skipped-rows-")
    atexit.register(shutil.rmtree, folder, True)  # gone even where its case does not run (--list, --filter)
    objects = [ROOT / "build" / name for name in ("libmatmul.a", "libcommon.a", "team_single.o")]
    cases = []
    for flags in ("", "-ffast-math"):
        for n, method in ((64, "exact"), (300, "Freivalds")):
            cases.append(Case("rows a worker never wrote fail the check (%s, n=%d, built with -O2 %s)"
                              % (method, n, flags or "alone"),
                              ["sh", "-c", SKIPPED_ROWS, "sh", built_with("CC", "cc"),
                               os.path.join(folder, "%s%d" % (flags.strip("-"), n)), flags, str(n)], 1,
                              [result_lines(WORKLOAD, "threads", n, 2, verified="no", figures=FIGURES),
                               stderr_says("wrong result", "never written")], needs=objects, timeout=60))
    return cases


def check_fails():
    """--inject-error spoils one element: the check must catch it, by both methods."""
    cases = []
    for model in MODELS:
        p = 1 if model == "serial" else 2
        for n, method in ((64, "exact"), (300, "Freivalds")):
            cases.append(Case("%s catches a corrupted result (%s, n=%d)" % (model, method, n),
                              launch(WORKLOAD, model, p, ["-n", n, "--warmup", 0, "--inject-error"]), 1,
                              [result_lines(WORKLOAD, model, n, p, verified="no", figures=FIGURES),
                               stderr_says("wrong result")],
                              needs=[program("matmul-" + model)]))
        cases.append(Case("%s stops at a corrupted warm-up run" % model,
                          launch(WORKLOAD, model, p, ["-n", 40, "--inject-error"]), 1,
                          [wrong_warmup_line(WORKLOAD, model, 40, p), stderr_says("untimed warm-up run")],
                          needs=[program("matmul-" + model)]))
    return cases


# The pml tools/mpirun chooses when every rank runs on this host.
ONE_HOST_PML = r"(?m)^mpi_environment=.*\bOMPI_MCA_pml=ob1( |$)"


def stdout_is(text):
    """Check: stdout is text, all of it (said in full where it is not)."""
    def check(outcome):
        return None if outcome.stdout == text else "stdout is %r, expected %r" % (outcome.stdout, text)
    return check


def stdout_lacks_pml(outcome):
    """Check: tools/mpirun --explain chose no pml (every mpi_environment= line lacks one)."""
    lines = [line for line in outcome.stdout.splitlines() if line.startswith("mpi_environment=")]
    if not lines:
        return "no mpi_environment= line: %r" % outcome.stdout[-300:]
    chosen = [line for line in lines if "OMPI_MCA_pml=" in line]
    return "it chose a pml: %s" % chosen[0] if chosen else None


# A Slurm made for one case: stand-ins for scontrol and srun, first on PATH, that say the
# site's MpiDefault ($FAKE_MPI_DEFAULT) and srun's MPI plugins ($FAKE_MPI_PLUGINS), around
# one run of tools/mpirun (sh -c FAKE_SLURM MPIRUN ARGS...); their folder goes with the shell.
FAKE_SLURM = r"""stand_ins=$(mktemp -d) || exit 1
trap 'rm -rf "$stand_ins"' EXIT
printf '#!/bin/sh\necho "MpiDefault              = $FAKE_MPI_DEFAULT"\n' >"$stand_ins/scontrol"
printf '#!/bin/sh\necho "MPI plugin types are..."\necho "$FAKE_MPI_PLUGINS"\n' >"$stand_ins/srun"
chmod +x "$stand_ins/scontrol" "$stand_ins/srun"
PATH="$stand_ins:$PATH" "$0" "$@"
"""
# A two-task job on one node that asks tools/mpirun for srun (as salloc -n 2 and MPI_LAUNCHER=srun do).
SRUN_JOB = {"SLURM_JOB_ID": "1", "SLURM_NTASKS": "2", "SLURM_JOB_NUM_NODES": "1", "MPI_LAUNCHER": "srun",
            "SLURM_MPI_TYPE": None, "FAKE_MPI_DEFAULT": "none", "FAKE_MPI_PLUGINS": "pmix none pmi2"}


def in_fake_slurm(*args):
    """argv: tools/mpirun ARGS under FAKE_SLURM's stand-ins."""
    return ["sh", "-c", FAKE_SLURM, MPIRUN] + list(args)


def slurm_launches():
    """tools/mpirun under Slurm with MPI_LAUNCHER=srun, and the harness in salloc's shell (a fake Slurm:
    CI has no real one)."""
    needs_open_mpi = [program("matmul-mpi")]   # --mpi=pmix is for Open MPI's ranks only
    return [
        Case("tools/mpirun refuses an MPI_LAUNCHER it does not know, naming it", [MPIRUN, "--explain", 2], 2,
             [stderr_says("MPI_LAUNCHER='srn'", "'srun'"), stdout_empty], env={"MPI_LAUNCHER": "srn"}),
        Case("tools/mpirun with MPI_LAUNCHER=srun where Slurm's MpiDefault is none: srun --mpi=pmix, "
             "and --overcommit past the job's tasks", in_fake_slurm("--explain", 4), 0,
             [stdout_says(r"(?m)^launcher=srun$"), stdout_says(r"(?m)^mpirun_flags=--overcommit --mpi=pmix$")],
             env=SRUN_JOB, needs=needs_open_mpi),
        Case("tools/mpirun with MPI_LAUNCHER=srun keeps the site's MpiDefault", in_fake_slurm("--explain", 2), 0,
             [stdout_says(r"(?m)^launcher=srun$"), stdout_says(r"(?m)^mpirun_flags=$")],
             env=dict(SRUN_JOB, FAKE_MPI_DEFAULT="pmix"), needs=needs_open_mpi),
        Case("tools/mpirun with MPI_LAUNCHER=srun keeps the caller's SLURM_MPI_TYPE", in_fake_slurm("--explain", 2),
             0, [stdout_says(r"(?m)^mpirun_flags=$")], env=dict(SRUN_JOB, SLURM_MPI_TYPE="pmix_v4"),
             needs=needs_open_mpi),
        Case("tools/mpirun with MPI_LAUNCHER=srun refuses a Slurm without PMIx: exit 2 before srun, "
             "naming the way out", in_fake_slurm("-np", 2, "true"), 2,
             [stderr_says("srun --mpi=list", "no pmix", "leave MPI_LAUNCHER unset"), stdout_empty],
             env=dict(SRUN_JOB, FAKE_MPI_PLUGINS="none pmi2"), needs=needs_open_mpi),
        Case("tools/bench.py in salloc's shell (SLURM_JOB_ID, but not on the job's node): preset full refused, "
             "pointing at srun and tools/bench.sbatch",
             [sys.executable, ROOT / "tools" / "bench.py", "--preset", "full"], 1,
             [stderr_says("salloc's shell", "srun -n 1 make bench PRESET=full", "tools/bench.sbatch")],
             env={"SLURM_JOB_ID": "1", "SLURMD_NODENAME": None, "PBS_JOBID": None, "LSB_JOBID": None,
                  "JOB_ID": None, "FORCE": None, "RESUME": None}),
    ]


# sh -c SAME_JOB_FAMILY MPIRUN PROGRAM: three jobs of PROGRAM at once, each mpirun pid 1 of a pid namespace
# (unshare; in a user namespace too where not root); "statuses=A B C", or exit 77 where no pid namespace
# can be made here.
SAME_JOB_FAMILY = r"""
ns="unshare --pid --fork"; [ "$(id -u)" = 0 ] || ns="unshare --user --map-root-user --pid --fork"
$ns true 2>/dev/null || { echo "no pid namespace here"; exit 77; }
top=$OMPI_MCA_orte_tmpdir_base jobs=
for job in 1 2 3; do
    mkdir "$top/$job" && OMPI_MCA_orte_tmpdir_base=$top/$job $ns "$0" -np 2 "$1" -n 64 -r 50 & jobs="$jobs $!"
done
statuses=; for job in $jobs; do wait $job; statuses="$statuses $?"; done; echo "statuses=$statuses"
"""
# bash -c KILLED_LAUNCHER MPIRUN FACTORIAL_MPI MATMUL_MPI: two long jobs (A, B); A's tools/mpirun killed with
# SIGKILL; then a short job. Each line says what became of A's ranks and shared-memory folder, and of B's.
KILLED_LAUNCHER = r"""
marker=$((300000 + $$ % 100000))
start_job() {  # start_job PROGRAM N: a long job of n = N; job_pid, and its folder once its ranks share memory
    "$0" -np 2 "$1" --mode many -n "$2" --warmup 0 >/dev/null 2>&1 & job_pid=$!
    for _ in $(seq 300); do
        folder=$(for child in $(pgrep -P "$job_pid"); do tr '\0' '\n' <"/proc/$child/environ"; done 2>/dev/null |
                 sed -n 's/^OMPI_MCA_btl_vader_backing_directory=//p')
        [ -n "$folder" ] && ls "$folder"/vader_segment.* >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    echo "job n=$2: no shared-memory folder within 30 s"; pkill -f -- "-n $2 "; exit 1
}
gone() {  # gone N: whether no process of the job of n = N is left, within 10 s
    for _ in $(seq 100); do pgrep -f -- "-n $1 " >/dev/null || return 0; sleep 0.1; done; return 1
}
start_job "$1" "$marker"; a=$job_pid a_folder=$folder
b_marker=$((marker + 1))
start_job "$1" "$b_marker"; b=$job_pid b_folder=$folder
kill -9 "$a"
if gone "$marker"; then echo "A: its ranks ended"; else echo "A: its ranks ran on"; pkill -9 -f -- "-n $marker "; fi
"$0" -np 2 "$2" -n 8 >/dev/null || echo "the short job failed"
[ -e "$a_folder" ] && echo "A: its folder left" || echo "A: its folder removed"
[ -e "$b_folder" ] && echo "B: its folder kept" || echo "B: its folder removed while it ran"
kill -TERM "$b"; wait "$b"
if gone "$b_marker"; then echo "B: its ranks ended"; else echo "B: its ranks ran on"; pkill -9 -f -- "-n $b_marker "; fi
[ -e "$b_folder" ] && echo "B: its folder left" || echo "B: its folder removed"
"""
# What the cases on Open MPI's own settings need: its mpirun (suite.needs_mpirun: skipped, saying why, without).
OPEN_MPI = needs_mpirun()


def launcher():
    """tools/mpirun adds oversubscription only past the usable cores."""
    return [
        Case("tools/mpirun --help: its usage and what it adds, on stdout", [MPIRUN, "--help"], 0,
             [stdout_says(r"Usage: tools/mpirun -np P"), stdout_says(r"oversubscription"),
              stdout_says(r"\nMPIRUN names the mpirun")]),
        Case("tools/mpirun with an unknown option: refused, exit 2, pointing at --help", [MPIRUN, "--np", 2], 2,
             [stderr_says("unknown option '--np'", "tools/mpirun --help")]),
        Case("tools/mpirun --explain 1: no oversubscription", [MPIRUN, "--explain", 1], 0,
             [stdout_says(r"oversubscribed=no")]),
        Case("tools/mpirun --explain 1000: oversubscribed", [MPIRUN, "--explain", 1000], 0,
             [stdout_says(r"oversubscribed=yes"), stdout_says(r"mpirun_flags=.*OVERSUBSCRIBE|--oversubscribe")],
             needs=OPEN_MPI),
        Case("tools/mpirun in a Slurm job over 4 nodes: 64 ranks fit its 64 tasks",
             [MPIRUN, "--explain", 64], 0,
             [stdout_says(r"oversubscribed=no"), stdout_says(r"slots=64"), stdout_says(r"mpirun_flags=\n")],
             env={"SLURM_JOB_ID": "1", "SLURM_NTASKS": "64", "SLURM_JOB_NUM_NODES": "4"}),
        Case("tools/mpirun in a one-task Slurm job: 2 ranks get past its 1 slot, and keep busy waiting",
             [MPIRUN, "--explain", 2], 0,
             [stdout_says(r"slots=1"), stdout_says(r"mpirun_flags=.*OVERSUBSCRIBE|--oversubscribe"),
              stdout_says(r"oversubscribed=no"), stdout_says(r"OMPI_MCA_mpi_yield_when_idle=0")],
             env={"SLURM_JOB_ID": "1", "SLURM_NTASKS": "1", "SLURM_JOB_NUM_NODES": "1"}, needs=OPEN_MPI),
        Case("tools/mpirun with a hostfile of 2 nodes: 32 ranks fit their 32 slots",
             [MPIRUN, "--explain", 32, "--hostfile", ROOT / "tests" / "data" / "hosts-2x16"], 0,
             [stdout_says(r"slots=32"), stdout_says(r"oversubscribed=no"), stdout_says(r"mpirun_flags=\n")]),
        Case("tools/mpirun with every rank on this host: pml ob1 (shared memory, no probing for other fabrics)",
             [MPIRUN, "--explain", 2], 0, [stdout_says(ONE_HOST_PML)], env={"OMPI_MCA_pml": ""}, needs=OPEN_MPI),
        Case("tools/mpirun leaves the pml to Open MPI over several hosts (a hostfile, a Slurm job's nodes)",
             ["sh", "-c", '"$0" --explain 32 --hostfile "$1"; SLURM_JOB_ID=1 SLURM_NTASKS=64 SLURM_JOB_NUM_NODES=4 '
              '"$0" --explain 64', MPIRUN, ROOT / "tests" / "data" / "hosts-2x16"], 0, [stdout_lacks_pml]),
        Case("tools/mpirun keeps the caller's own pml", [MPIRUN, "--explain", 2], 0, [stdout_lacks_pml],
             env={"OMPI_MCA_pml": "^cm"}),
        Case("tools/mpirun keeps a pml chosen in a parameter file",
             [MPIRUN, "--explain", 2], 0, [stdout_lacks_pml],
             env={"OMPI_MCA_pml": "", "OMPI_MCA_mca_base_param_files": "/nonexistent.conf,%s" % (
                 ROOT / "tests" / "data" / "mca-pml-chosen.conf")}),
        Case("tools/mpirun still chooses ob1 past a parameter file that only rules pmls out",
             [MPIRUN, "--explain", 2], 0, [stdout_says(ONE_HOST_PML)],
             env={"OMPI_MCA_pml": "",
                  "OMPI_MCA_mca_base_param_files": ROOT / "tests" / "data" / "mca-pml-excluded.conf"},
             needs=OPEN_MPI),
        Case("tools/mpirun ends a failed job's other ranks at once (no second of grace per signal)",
             [MPIRUN, "--explain", 2], 0,
             [stdout_says(r"(?m)^mpi_environment=.*\bOMPI_MCA_odls_base_sigkill_timeout=0( |$)")],
             env={"OMPI_MCA_odls_base_sigkill_timeout": ""}, needs=OPEN_MPI),
        Case("tools/mpirun keeps the caller's own grace before SIGKILL", [MPIRUN, "--explain", 2], 0,
             [stdout_says(r"(?m)^mpi_environment=((?!sigkill_timeout).)*$")],
             env={"OMPI_MCA_odls_base_sigkill_timeout": "3"}),
        # Jobs whose mpirun has the same pid (each in a pid namespace of its own: as jobs whose pids are 65536
        # apart, where pid_max is larger) get the same job family, so Open MPI 4 named their shared-memory files
        # in /dev/shm alike; each session folder is its own (the same pid names the same folder).
        Case("tools/mpirun keeps jobs' shared memory apart where Open MPI names it alike: three at once verify, "
             "where their ranks died with signal 11 (Segmentation fault) or hung",
             ["sh", "-c", SAME_JOB_FAMILY, MPIRUN, program("matmul-mpi")], 0,
             [stdout_says(r"(?m)^statuses= 0 0 0$")], needs=[program("matmul-mpi")] + OPEN_MPI,
             skip_exit=UNDER_MEMORY_CGROUP_CANNOT, timeout=60),
        Case("tools/mpirun killed with SIGKILL: its job ends (mpirun and the ranks went on running), and the "
             "next job removes the shared-memory folder it left; a running job's folder is kept",
             ["bash", "-c", KILLED_LAUNCHER, MPIRUN, program("factorial-mpi"), program("matmul-mpi")], 0,
             [stdout_is("A: its ranks ended\nA: its folder removed\nB: its folder kept\nB: its ranks ended\n"
                        "B: its folder removed\n")],
             needs=[program("factorial-mpi"), program("matmul-mpi")] + OPEN_MPI, timeout=90),
        # Past `ulimit -n`, Open MPI's mpirun neither fails nor says a word: it waits forever (4 ranks at 32 files).
        Case("tools/mpirun -np 4 under a soft ulimit -n of 32 (a login node's 1024 holds some 200 ranks): raised "
             "to fit, the job runs, where mpirun waited forever",
             ["sh", "-c", 'ulimit -Sn 32 && exec "$0" -np 4 "$1" -n 8', MPIRUN, program("matmul-mpi")], 0,
             [result_lines("matmul", "mpi", 8, 4)], needs=[program("matmul-mpi")] + OPEN_MPI, timeout=60),
        Case("tools/mpirun refuses -np 4 past a hard ulimit -n of 32: exit 2, said, where mpirun waited forever",
             ["sh", "-c", 'ulimit -n 32 && exec "$0" -np 4 "$1" -n 8', MPIRUN, program("matmul-mpi")], 2,
             [stdout_empty, stderr_says("-np 4: Open MPI's mpirun holds about 5 files open per rank, 52 in all, past "
                                        "the hard limit of 'ulimit -n' (32)")],
             needs=[program("matmul-mpi")] + OPEN_MPI, timeout=60),
        # One case, its jobs one after another: their session folders share /tmp/ompi.HOST.UID, which jobs started
        # at once race to make and remove (suite.run_case gives every other case a folder of its own).
        Case("tools/mpirun, and an MPI program started alone (C, mpi4py), with a TMPDIR that names no folder (a "
             "finished job's scratch): each runs, its session folder in /tmp, where each stopped in orte_init",
             ["sh", "-c", '"$0" -np 2 "$1" -n 8 && "$1" -n 8 && "$2" -n 8', MPIRUN, program("matmul-mpi"),
              program("factorial-py-mpi4py")], 0,
             [stdout_says(r"(?m)^workload=matmul model=mpi n=8 workers=2 .*verified=yes"),
              stdout_says(r"(?m)^workload=matmul model=mpi n=8 workers=1 .*verified=yes"),
              stdout_says(r"(?m)^workload=factorial model=py-mpi4py n=8 workers=1 .*verified=yes")],
             env={"TMPDIR": str(ROOT / "README.md" / "tmp"), "OMPI_MCA_orte_tmpdir_base": None},
             needs=[program("matmul-mpi"), program("factorial-py-mpi4py")] + OPEN_MPI),
        Case("tools/mpirun: a job whose output cannot be written (stdout on a full disk) is exit 1, said; "
             "mpirun alone drops it and says 0", [MPIRUN, "-np", 2, program("matmul-mpi"), "-n", 32], 1,
             [stderr_says("cat: write error: No space left on device",
                          "the job succeeded, but its output could not all be written to stdout")],
             stdout_path="/dev/full", needs=[program("matmul-mpi")] + OPEN_MPI),
        Case("tools/mpirun refuses a hostfile it cannot read", [MPIRUN, "-np", 2, "--hostfile", "/nonexistent"],
             2, [stderr_says("cannot read '/nonexistent'")]),
        Case("tools/mpirun refuses -np 0", [MPIRUN, "-np", 0, "true"], 2, [stderr_says("'0'")]),
    ] + [Case("tools/mpirun refuses -np %s" % ranks, [MPIRUN, "-np", ranks, "true"], 2,
              [stderr_says("the number of ranks must be a whole number from 1 to 1000000, not '%s'" % ranks),
               stdout_empty])
         for ranks in ("00", "4294967297", "99999999999999999999", "-2")] + [
        Case("tools/mpirun reads -np 010 as ten ranks, not octal eight", [MPIRUN, "--explain", "010"], 0,
             [stdout_says(r"(?m)^ranks=10$")]),
    ] + [Case("tools/mpirun refuses a program it cannot run (%s): exit 2, before mpirun" % why,
              [MPIRUN, "-np", 2, path], 2, [stderr_says("cannot run '%s'" % path, said), stdout_empty])
         for path, why, said in (("bin/nonexistent", "missing", "no such file"),
                                 ("bin/", "a folder", "not an executable file"),
                                 ("no-such-command", "not on PATH", "no such program on PATH"))] + [
        Case("tools/mpirun says what a broken mpirun says, not that it is missing", [MPIRUN, "-np", 2, "true"], 1,
             [stderr_says("'mpirun --version' failed", "    "), stdout_empty],
             env={"OMPI_MCA_mca_base_param_files": "/etc"}, needs=[program("matmul-mpi")]),
    ] + own_cpus() + slurm_launches()


# tools/cores and tools/mpirun under a narrower affinity mask: the first CPU this test may use.
ONE_CPU = min(os.sched_getaffinity(0))
CORES = ROOT / "tools" / "cores"


def own_cpus():
    """The cores a user leaves the suite (taskset, a cgroup's CPU quota on any cgroup above it) are the ones
    it counts and runs on; the threads asked of OpenMP (OMP_NUM_THREADS, often set by HPC modules) are not cores."""
    taskset = shutil.which("taskset") or "taskset"
    return [
        Case("tools/cores counts cores, not the threads OMP_NUM_THREADS or OMP_THREAD_LIMIT ask for",
             ["sh", "-c", 'OMP_NUM_THREADS=64 "$0"; OMP_THREAD_LIMIT=1 "$0"', CORES], 0,
             [stdout_says(r"^%d\n%d\n$" % (usable_cores(), usable_cores()))]),
        Case("tools/cores refuses an argument it does not take", [CORES, "--bogus"], 2,
             [stderr_says("unknown argument '--bogus'"), stdout_empty]),
        Case("tools/cores under taskset -c %d: 1" % ONE_CPU, [taskset, "-c", ONE_CPU, CORES], 0,
             [stdout_says(r"^1\n$")], needs=[taskset]),
        Case("tools/cores (plain, --explain, --help) and tools/mpirun (--explain 2, --help) with stdout on a full "
             "disk, then closed (>&-): exit 1 each, said in a line (exit 0, the answer lost)",
             ["sh", "-c", 'check() { "$@" >/dev/full; [ $? = 1 ] || exit 3; "$@" >&-; [ $? = 1 ] || exit 4; }; '
                          'check "$0"; check "$0" --explain; check "$0" --help; check "$1" --explain 2; '
                          'check "$1" --help; exit 1',
              CORES, MPIRUN], 1,
             [stderr_says("tools/cores: cannot write to stdout: No space left on device",
                          "tools/cores: cannot write to stdout: Bad file descriptor",
                          "tools/mpirun: cannot write to stdout: No space left on device",
                          "tools/mpirun: cannot write to stdout: Bad file descriptor"), stderr_lacks("write error")]),
    ] + [
        Case("tools/cores under a CPU quota on %s: cgroup_cpu_quota=%s, at most %d usable" % (where, said, cores),
             [CORES, "--explain"], 0,
             [stdout_says(r"(?m)^cgroup_cpu_quota=%s$" % re.escape(said)),
              stdout_says(r"(?m)^usable_cores=%d$" % min(cores, usable_cores()))],
             env={"SUITE_CORES_TEST_ROOT": ROOT / "tests" / "data" / tree})
        for where, tree, said, cores in (
            ("the user slice above this process's cgroup (cgroup v2, systemd's CPUQuota=100% on a login node)",
             "cgroup-v2-user-slice", "1", 1),
            ("this process's own cgroup below the mount (cgroup v1, systemd-run -p CPUQuota=150%): the quota "
             "as it is, the cores rounded up", "cgroup-v1-own-scope", "1.5", 2),
            ("a container's own cgroup, the top of its mount (cgroup v2, docker --cpus 0.5)", "cgroup-v2-container",
             "0.5", 1))
    ] + [
        Case("tools/cores on a POWER9 core of 4 hardware threads (cpu0's siblings 0-3): threads_per_core=4",
             [CORES, "--explain"], 0, [stdout_says(r"(?m)^threads_per_core=4$")],
             env={"SUITE_CORES_TEST_ROOT": ROOT / "tests" / "data" / "cpu-power9-smt4"}),
    ] + [
        Case("tools/mpirun under taskset -c %d: every rank stays on that CPU (Open MPI would bind one elsewhere)"
             % ONE_CPU,
             [taskset, "-c", ONE_CPU, MPIRUN, "-np", 2, "sh", "-c", "grep ^Cpus_allowed_list: /proc/self/status"],
             0, [stdout_says(r"^(Cpus_allowed_list:\t%d\n){2}$" % ONE_CPU)], needs=[taskset, program("matmul-mpi")]),
    ]


def summaries():
    """-r 3 and more ends with a summary line on stderr (median, min, max); fewer runs, none."""
    cases = []
    for model in MODELS:
        p = 1 if model == "serial" else 2
        for reps in (2, 3, 4):
            cases.append(Case("%s -r %d %s a summary line" % (model, reps, "ends with" if reps >= 3 else "has no"),
                              launch(WORKLOAD, model, p, ["-n", 64, "-r", reps]), 0,
                              [result_lines(WORKLOAD, model, 64, p, reps=reps, figures=FIGURES),
                               summary_line(reps)], needs=[program("matmul-" + model)]))
    return cases


# OpenBLAS's x86-64 core names (openblas_get_corename), generic ones included.
BLAS_CORES = {"Katmai", "Coppermine", "Northwood", "Prescott", "Banias", "Atom", "Core2", "Penryn",
              "Dunnington", "Nehalem", "Athlon", "Opteron", "Opteron(SSE3)", "Barcelona", "Nano",
              "Sandybridge", "Bobcat", "Bulldozer", "Piledriver", "Haswell", "Steamroller", "Excavator",
              "Zen", "SkylakeX", "Cooperlake", "SapphireRapids"}


def cpu_best_core():
    """The core the lane moves to from a generic one on this CPU (None: it keeps OpenBLAS's)."""
    flags = set()
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("flags"):
            flags = set(line.split(":", 1)[1].split())
            break
    if "avx512f" in flags:
        return "SkylakeX"
    if {"avx2", "fma"} <= flags:
        return "Haswell"
    return None


def blas_says(**expected):
    """Check: every result line's blas_* keys have the expected values
    (a set of values: any of them)."""
    def check(outcome):
        for line in outcome.stdout.splitlines():
            pairs = parse_result_line(line)
            for key, want in expected.items():
                wanted = want if isinstance(want, (set, frozenset)) else {want}
                if pairs.get(key) not in wanted:
                    return "%s=%s, expected %s" % (key, pairs.get(key), " or ".join(sorted(wanted)))
        return None
    return check


def blas_lane():
    """The reference lane says which OpenBLAS core ran, keeps a core the user
    set, and leaves a generic core OpenBLAS fell back to for a better one."""
    exe = program("matmul-blas")
    best = cpu_best_core()
    figures = FIGURES + ("blas_core", "blas_choice", "blas_core_fits", "blas_threads")
    run = [exe, "-n", 97, "-p", 1]
    cases = [
        Case("blas names the core OpenBLAS runs", run, 0,
             [result_lines(WORKLOAD, "blas", 97, 1, figures=figures), blas_says(blas_core=BLAS_CORES)],
             needs=[exe]),
        Case("blas keeps OPENBLAS_CORETYPE=Prescott set by the user", run, 0,
             [result_lines(WORKLOAD, "blas", 97, 1, figures=figures),
              blas_says(blas_core="Prescott", blas_choice="user", blas_core_fits="no" if best else "yes")]
             + ([stderr_says("OPENBLAS_CORETYPE=Prescott is set", "kept as set")] if best else []),
             env={"OPENBLAS_CORETYPE": "Prescott"}, needs=[exe]),
        Case("blas runs on a core OpenBLAS does not know by that name, and says so", run, 0,
             [result_lines(WORKLOAD, "blas", 97, 1, figures=figures), blas_says(blas_choice="user"),
              stderr_says("OPENBLAS_CORETYPE=NoSuchCore is set, but OpenBLAS runs its")],
             env={"OPENBLAS_CORETYPE": "NoSuchCore"}, needs=[exe]),
        Case("blas takes an empty OPENBLAS_CORETYPE as unset: OpenBLAS's choice, not the user's, and no message",
             run, 0,
             [result_lines(WORKLOAD, "blas", 97, 1, figures=figures),
              blas_says(blas_choice={"detected", "corrected"}, blas_core_fits="yes"), stderr_lacks("OPENBLAS_CORETYPE")],
             env={"OPENBLAS_CORETYPE": ""}, needs=[exe]),
        Case("blas leaves a generic core it fell back to for the CPU's (verified, 2 threads)",
             [exe, "-n", 300, "-p", 2, "-r", 2], 0,
             [result_lines(WORKLOAD, "blas", 300, 2, reps=2, figures=figures),
              blas_says(blas_core=best, blas_choice="corrected", blas_core_fits="yes") if best else
              blas_says(blas_core="Prescott", blas_choice="detected")]
             + ([stderr_says("OpenBLAS chose its Prescott core", "running its %s core instead" % best)]
                if best else []),
             env={"OPENBLAS_CORETYPE": None, "SUITE_BLAS_TEST_FALLBACK": "Prescott"}, needs=[exe]),
        Case("blas left to detect its core runs one that fits the CPU", run, 0,
             [result_lines(WORKLOAD, "blas", 97, 1, figures=figures),
              blas_says(blas_choice={"detected", "corrected"}, blas_core_fits="yes")],
             env={"OPENBLAS_CORETYPE": None}, needs=[exe]),
    ]
    return cases


# The blocked kernel's builds (--isa), their tiles (MR rows × NR columns, as in
# common/matmul_kernel.c) and the CPU flags each needs.
ISA_TILES = {"portable": (4, 8, set()), "avx2": (6, 8, {"avx2", "fma"}), "avx512": (8, 24, {"avx512f"})}
# Blocks shrunk for the edge table (MATMUL_KC, MATMUL_MC, MATMUL_NC), so that
# sizes crossing up to three blocks stay small enough for the exact check.
EDGE_KC = 16


def cpu_flags():
    """This CPU's feature flags, from /proc/cpuinfo."""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("flags"):
            return set(line.split(":", 1)[1].split())
    return set()


def edge_sizes(mr, nr, mc, nc):
    """Orders that cross every tile and block edge: 1, MR-1, MR, MR+1, ... up to 3 blocks."""
    sizes = {1}
    for edge in (mr, nr, EDGE_KC, mc, nc, 2 * nc, 3 * EDGE_KC):
        sizes |= {edge - 1, edge, edge + 1}
    sizes.add(3 * nc + 1)
    return sorted(s for s in sizes if s >= 1)


def kernel_edges():
    """Each build this CPU runs gives exactly the reference loop's C (exact
    check, n <= 256) at every size that crosses a tile or block edge, with
    blocks shrunk so that three of them fit; and split over threads."""
    cases = []
    flags = cpu_flags()
    exe = program("matmul-serial")
    for isa, (mr, nr, needs_flags) in ISA_TILES.items():
        if not needs_flags <= flags:
            cases.append(Case("--isa %s is refused on a CPU without it" % isa,
                              [exe, "-n", 8, "--isa", isa], 2,
                              [stdout_empty, stderr_says("--isa %s: this CPU cannot run that build" % isa)],
                              needs=[exe]))
            continue
        mc, nc = 3 * mr, 2 * nr
        env = {"MATMUL_KC": str(EDGE_KC), "MATMUL_MC": str(mc), "MATMUL_NC": str(nc)}
        for n in edge_sizes(mr, nr, mc, nc):
            cases.append(Case("--isa %s exact at n=%d (tile %dx%d, blocks kc=%d mc=%d nc=%d)" % (
                isa, n, mr, nr, EDGE_KC, mc, nc), [exe, "-n", n, "--isa", isa, "--warmup", 0], 0,
                [result_lines(WORKLOAD, "serial", n, 1, figures=FIGURES), stdout_says(r"isa=%s\b" % isa)],
                env=env, needs=[exe]))
        threads = program("matmul-threads")
        cases.append(Case("--isa %s exact at n=%d over 3 threads" % (isa, 3 * nc + 1),
                          [threads, "-n", 3 * nc + 1, "-p", 3, "--isa", isa], 0,
                          [result_lines(WORKLOAD, "threads", 3 * nc + 1, 3, figures=FIGURES)], env=env,
                          needs=[threads]))
    cases.append(Case("--isa auto picks a build and says which", [exe, "-n", 64], 0,
                      [stdout_says(r"isa=(portable|avx2|avx512)\b")], needs=[exe]))
    cases.append(Case("--isa refuses a build with --kernel naive, which has none", [exe, "-n", 8, "--kernel", "naive",
                                                                              "--isa", "portable"], 2,
                      [stdout_empty, stderr_says("--isa portable: only the blocked kernel")], needs=[exe]))
    cases.append(Case("--isa refuses a build it does not know", [exe, "-n", 64, "--isa", "sse9"], 2,
                      [stdout_empty, stderr_says("--isa: 'sse9' is not one of auto|portable|avx2|avx512")],
                      needs=[exe]))
    return cases


def children_files():
    """The processes model's C: a memory file per child where every child's block of rows begins on a
    page (their copies into C then run side by side), one file where not (c_files=, verified either way)."""
    cases = []
    page_rows = 4096 // 8  # n = 512: a row is one 4 KiB page, so every block of rows begins on a page
    for flavor in ("", "asan"):
        for n, p, files, why in ((page_rows, 4, 4, "every block begins on a page"),
                                 (100, 3, 1, "a block begins inside a page"),
                                 (3, 8, 1, "more children than rows: some blocks are empty")):
            checks = [result_lines(WORKLOAD, "processes", n, p, reps=2, figures=FIGURES),
                      stdout_says(r"(?m)^(.* )?c_files=%d( |$)" % files)]
            if flavor:
                checks.append(no_sanitizer_report)
            cases.append(Case("%sprocesses n=%d p=%d: %d memory file%s behind C (%s)" % (
                flavor + " " if flavor else "", n, p, files, "s" if files > 1 else "", why),
                run_args("processes", p, n, flavor=flavor), 0, checks,
                env=sanitizer_env(flavor, "processes"), needs=[program("matmul-processes", flavor)]))
    # 32 children want 32 memory files; with 24 descriptors allowed, they share one.
    few = 24
    cases.append(Case("processes n=%d p=32 with %d descriptors allowed: one memory file behind C" % (page_rows, few),
                      ["sh", "-c", 'ulimit -n %d && exec "$@"' % few, "sh"] + run_args("processes", 32, page_rows),
                      0, [result_lines(WORKLOAD, "processes", page_rows, 32, reps=2, figures=FIGURES),
                          stdout_says(r"(?m)^(.* )?c_files=1( |$)")],
                      needs=[program("matmul-processes")]))
    return cases


def cases():
    """Every matmul table, in the order they are reported."""
    return (correctness() + large_and_naive() + bad_input() + check_fails() + skipped_rows() + summaries()
            + blas_lane() + kernel_edges() + launcher() + children_files() + correctness("asan")
            + correctness("tsan"))
