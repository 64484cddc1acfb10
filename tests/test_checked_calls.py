"""tests/test_checked_calls.py — calls that rarely fail are checked: made to fail on purpose, each is reported.

build/fail_calls.so (tests/fail_calls.c), preloaded, makes the C library
call that FAIL_CALL names fail every time; the program must say which call
failed and why, and end with the exit status the contract gives.
"""
import atexit
import os
import shutil
import tempfile

from suite import ROOT, Case, program, result_lines, stderr_says, stdout_empty, stdout_says

FAIL_CALLS = ROOT / "build" / "fail_calls.so"


def preloadable(library):
    """library's path as LD_PRELOAD can name it: the dynamic loader splits that list at
    spaces and colons, so a checkout whose path has one (~/My Projects/) is reached
    through a link in a folder of /tmp made for it."""
    if not any(c in str(library) for c in " \t:"):
        return str(library)
    folder = tempfile.mkdtemp(prefix="fail-calls-", dir="/tmp")
    atexit.register(shutil.rmtree, folder, True)
    link = os.path.join(folder, library.name)
    os.symlink(library, link)
    return link


def failing(call, preload):
    """Environment that makes one call fail (preload: fail_calls.so, as preloadable gives it)."""
    return {"LD_PRELOAD": preload, "FAIL_CALL": call}


def left_empty(folder):
    """Check: nothing was left in folder (then it is removed)."""
    def check(outcome):
        left = sorted(os.listdir(folder))
        shutil.rmtree(folder, ignore_errors=True)
        return "left behind in TMPDIR: %s" % ", ".join(left) if left else None
    return check


def cases():
    """Each checked call, failing."""
    preload = preloadable(FAIL_CALLS)
    matmul, factorial = program("matmul-processes"), program("factorial-processes")
    threads, openmp = program("factorial-threads"), program("factorial-openmp")
    numbers_dir = tempfile.mkdtemp(prefix="factorial-numbers-")
    atexit.register(shutil.rmtree, numbers_dir, True)  # gone even where its case does not run (--list, --filter)
    return [
        # A thread that cannot be started fails the run at once: the one already
        # running takes no more tasks (each k! whole, up to 100000!: minutes of work).
        Case("pthread_create failing for worker 1 is reported, and the running worker stops (factorial-threads)",
             [threads, "--mode", "many", "-n", 100000, "-p", 2], 1,
             [stdout_empty, stderr_says("pthread_create for worker 1 failed: Resource temporarily unavailable")],
             env=dict(failing("pthread_create", preload), FAIL_AFTER="1"), timeout=30, needs=[threads, FAIL_CALLS]),
        # The OpenMP runtime starts the team's threads itself: GCC's says why it cannot and exits 1, no result.
        Case("pthread_create failing for the OpenMP team's second thread is said by the runtime, exit 1, no result "
             "(factorial-openmp)", [openmp, "-n", 1000, "-p", 2], 1,
             [stdout_empty, stderr_says("Thread creation failed: Resource temporarily unavailable")],
             env=failing("pthread_create", preload), timeout=30, needs=[openmp, FAIL_CALLS]),
        # Shared memory given back at the end: the results stand (exit 0), the failure is said.
        Case("munmap failing is reported (matmul-processes)", [matmul, "-n", 8, "-p", 2], 0,
             [result_lines("matmul", "processes", 8, 2, figures=("gflops", "kernel")),
              stderr_says("munmap of", "failed: Invalid argument")],
             env=failing("munmap", preload), needs=[matmul, FAIL_CALLS]),
        # A child that cannot be bound to its parent (child_fork) leaves at once: the run fails.
        Case("prctl failing is reported, and the run fails (factorial-processes)",
             [factorial, "-n", 100, "-p", 2], 1,
             [stdout_empty, stderr_says("prctl(PR_SET_PDEATHSIG) for worker 1 failed: Invalid argument",
                                        "worker 1 (pid")],
             env=failing("prctl", preload), needs=[factorial, FAIL_CALLS]),
        # A child whose copy of its rows into C fails (matmul_block_apart) says so and exits 1: the run fails.
        Case("pwrite into shared memory failing is reported, and the run fails (matmul-processes)",
             [matmul, "-n", 64, "-p", 2], 1,
             [stdout_empty, stderr_says("bytes into shared memory failed: Invalid argument", "exited with status 1")],
             env=failing("pwrite", preload), needs=[matmul, FAIL_CALLS]),
        # No memory file for shared memory: anonymous shared memory instead, the
        # children's rows copied with memcpy, and the answer still checked whole.
        Case("without memfd_create the children write C through the mapping (matmul-processes)",
             [matmul, "-n", 100, "-p", 3], 0,
             [result_lines("matmul", "processes", 100, 3, figures=("gflops", "kernel")),
              stdout_says(r"(?m)^(.* )?c_files=0( |$)")],
             env=failing("memfd_create", preload), needs=[matmul, FAIL_CALLS]),
        # --mode big's numbers go through a memory file per child; without
        # one, through an unlinked file in $TMPDIR: checked whole, none left.
        Case("without memfd_create the numbers go through a file in TMPDIR, none left (factorial-processes)",
             [factorial, "-n", 20000, "-p", 3], 0,
             [result_lines("factorial", "processes", 20000, 3, figures=("digits", "mod61")),
              left_empty(numbers_dir)],
             env=dict(failing("memfd_create", preload), TMPDIR=numbers_dir), needs=[factorial, FAIL_CALLS]),
        Case("without memfd_create and with no TMPDIR to write in, the run is refused (factorial-processes)",
             [factorial, "-n", 20000, "-p", 2], 1,
             [stdout_empty, stderr_says("no memory file (memfd_create), and no file",
                                        "/no-such-folder/factorial-numbers-", "No such file or directory")],
             env=dict(failing("memfd_create", preload), TMPDIR=str(ROOT / "no-such-folder")),
             needs=[factorial, FAIL_CALLS]),
        # Writes into the memory files fail (the first is a child's product): said, the run fails, the children leave.
        Case("pwrite into a memory file failing is reported, and the run fails (factorial-processes)",
             [factorial, "-n", 20000, "-p", 2], 1,
             [stdout_empty, stderr_says("into a memory file failed: Invalid argument", "exited with status 1")],
             env=failing("pwrite", preload), needs=[factorial, FAIL_CALLS]),
    ]
