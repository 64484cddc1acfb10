"""tests/test_fuzz.py — the libFuzzer targets: a short fuzzing run each, and their seed corpus replayed.

bin/fuzz/<target> (tests/fuzz/<target>.c, built where clang has libFuzzer)
runs for SMOKE_SECONDS through tests/fuzz/run, starting from its seeds in
tests/fuzz/corpus/<target>/; any crash, hang or sanitizer report fails the
case, and the input that caused it is left in build/fuzz/test/<target>/.
Every seed is also replayed as a regression case: the inputs that once
broke something stay in the corpus for good. `make fuzz FUZZ_SECONDS=N`
runs the same targets longer.
"""
import re
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from suite import ROOT, Case, program  # noqa: E402

TARGETS = ("http", "cli")
# Seconds each target is fuzzed in make test: enough to pass through its
# seeds and mutate them some thousand times per second, little enough for
# the whole suite's budget.
SMOKE_SECONDS = 5
RUNNER = ROOT / "tests" / "fuzz" / "run"
DONE = re.compile(r"^Done (\d+) runs in \d+ second", re.M)


def fuzzer(target):
    return program("fuzz/" + target)


def seeds(target):
    """The target's seed corpus, file by file."""
    return sorted(p for p in (ROOT / "tests" / "fuzz" / "corpus" / target).iterdir() if p.is_file())


def ran_to_the_end(outcome):
    """Check: libFuzzer said it was done, having run some inputs."""
    match = DONE.search(outcome.stderr)
    if not match or int(match.group(1)) == 0:
        return "libFuzzer did not finish its run (no 'Done N runs' line)"
    return None


def replayed(count):
    """Check: every seed was run ("Executed" once per file)."""
    def check(outcome):
        executed = outcome.stderr.count("Executed ")
        return None if executed == count else "%d of the %d seeds were run" % (executed, count)
    return check


def workdir(target):
    """Where a smoke run keeps what it finds (tests/fuzz/run's WORKDIR)."""
    return ROOT / "build" / "fuzz" / "test" / target


def setup():
    """Each smoke run starts from the seeds alone, not from what an earlier one found."""
    for target in TARGETS:
        shutil.rmtree(workdir(target) / "corpus", ignore_errors=True)


def cases():
    cases = []
    for target in TARGETS:
        cases.append(Case("fuzz %s: %d s of libFuzzer from the seeds find nothing" % (target, SMOKE_SECONDS),
                          [RUNNER, target, SMOKE_SECONDS, workdir(target)], 0, [ran_to_the_end],
                          timeout=SMOKE_SECONDS + 60, needs=[fuzzer(target)]))
        inputs = seeds(target)
        cases.append(Case("fuzz %s: its %d seeds replay clean (regressions)" % (target, len(inputs)),
                          [fuzzer(target)] + inputs, 0, [replayed(len(inputs))], needs=[fuzzer(target)]))
    return cases
