"""tests/test_lessons.py — the lessons: their bug/fix examples, every command in them, every link."""
import atexit
import shutil
import sys
import tempfile

from lesson_blocks import SKIPPED as BLOCKS_NOT_RUN
from suite import (MPIRUN, ROOT, Case, built_with, fails_on, parsed_stdout, program, sanitizer_env, stderr_lacks,
                   stderr_says, stdout_says)

LESSONS = sorted((ROOT / "lessons").glob("[0-9][0-9]-*.md"))
# TSan's exit status when it reports (its default exitcode).
TSAN_REPORTED = 66
# deadlock.c's exit status when its watchdog fires.
DEADLOCK_FOUND = 3
# race.c's exit status when updates were lost.
RACE_LOST = 1
# The plain race, run for real. At the lesson's -n 1000000 a thread is done
# in a millisecond or two, often before the other one gets a core, and many
# runs lose nothing; at -n 10^8 each thread adds for a tenth of a second or
# more, over many time slices, and nearly every run loses updates (even on
# one core: a thread preempted between its load and its store overwrites the
# other's whole time slice of additions). Up to RACE_TRIES runs, stopping at
# the first that loses some, make missing it vanishingly rare.
RACE_THREADS, RACE_N, RACE_TRIES = 2, 100000000, 10
# Lesson 3's exercise 1, done: processes/matmul.c with C allocated MEMORY_PRIVATE, built beside
# the suite's own objects into a folder of its own, by the compiler build/flags names (split into
# words: "ccache cc"). A failed build exits BUILD_FAILED, which no
# case expects.
BUILD_FAILED = 3
PRIVATE_C = """
sed 's/MEMORY_SHARED, MATMUL_CHILDREN/MEMORY_PRIVATE, MATMUL_CHILDREN/' processes/matmul.c > "$2/private_c.c"
grep -q 'MEMORY_PRIVATE, MATMUL_CHILDREN' "$2/private_c.c" || exit %d
$1 -std=c11 -D_GNU_SOURCE -Icommon -o "$2/private_c" "$2/private_c.c" build/libmatmul.a build/libcommon.a \\
    build/team_single.o -lm || exit %d
exec "$2/private_c" -n 512 -p 2
""" % (BUILD_FAILED, BUILD_FAILED)


def until_it_shows(argv, tries=RACE_TRIES):
    """argv (a bug that shows on most runs, not all) run up to tries times,
    stopping at the first run that exits non-zero, with that run's status."""
    return ["sh", "-c", 'for try in $(seq %d); do "$@" || exit; done' % tries, "sh"] + list(argv)


def race_shows(threads, increments):
    """Check: the last run's line says updates were lost (counter below
    expected = threads x increments, lost the difference), the lines before
    it (runs that happened to lose nothing) are well formed."""
    def check(outcome):
        lines, problem = parsed_stdout(outcome)
        if problem:
            return problem
        for pairs in lines:
            try:
                counter, expected, lost = int(pairs["counter"]), int(pairs["expected"]), int(pairs["lost"])
            except (KeyError, ValueError):
                return "a line is not counter=N expected=N lost=N: %s" % pairs
            if expected != threads * increments or lost != expected - counter:
                return "counter=%d expected=%d lost=%d: expected should be %d x %d, lost their difference" % (
                    counter, expected, lost, threads, increments)
        if not lost > 0:
            return "no update was lost in %d runs: the race did not show" % len(lines)
        return None
    return check


def race_case(exe, increments, extra=(), tries=RACE_TRIES):
    """A run of a racy counter that must show the race: exit RACE_LOST, updates lost."""
    argv = until_it_shows([exe, "-p", RACE_THREADS, "-n", increments] + list(extra), tries)
    return Case("lessons race loses updates (-p %d -n %d, up to %d runs)" % (RACE_THREADS, increments, tries),
                argv, RACE_LOST, [race_shows(RACE_THREADS, increments)], needs=[exe])


def race_check_fails(race, fixed):
    """The race case fails a counter that loses nothing (race_fixed), a
    program that prints nothing and exits 1, and one whose line says nothing
    was lost but exits 1 as if something were."""
    small = 1000
    counted_right = "counter=%d expected=%d lost=0" % (RACE_THREADS * RACE_N, RACE_THREADS * RACE_N)
    return [fails_on(race_case(race, small, tries=2), until_it_shows([fixed, "-p", RACE_THREADS, "-n", small], 2),
                     "a counter that loses nothing (race_fixed)", needs=[fixed]),
            fails_on(race_case(race, RACE_N), ["false"], "a program that prints nothing and exits 1"),
            fails_on(race_case(race, RACE_N), ["sh", "-c", "echo %s; exit 1" % counted_right],
                     "a line that lost nothing")]


def private_c_case():
    """Lesson 3's exercise 1 asks what a private C would do to matmul-processes; its solution
    says: the children's rows vanish with them, the warm-up run fails its check (rep=0,
    verified=no, compute=0: their times vanish too) and the program exits 1."""
    folder = tempfile.mkdtemp(prefix="lesson-private-c-")
    atexit.register(shutil.rmtree, folder, True)  # gone even where its case does not run (--list, --filter)
    objects = [ROOT / "build" / name for name in ("libmatmul.a", "libcommon.a", "team_single.o")]
    return Case("lessons 03 exercise 1: a private C in matmul-processes fails its check, as the solution says",
                ["sh", "-c", PRIVATE_C, "sh", built_with("CC", "cc"), folder], 1,
                [stdout_says(r"\brep=0 .*\bcompute=0\.0+ .*\bverified=no\b"),
                 stderr_says("wrong result", "no timed run was made")], needs=objects)


def examples():
    """Each fix is right; each bug shows wherever it shows deterministically,
    and the plain race where it shows on nearly every run, retried."""
    lessons = program("lessons")
    race, fixed = lessons / "race", lessons / "race_fixed"
    tsan_race, tsan_fixed = program("lessons", "tsan") / "race", program("lessons", "tsan") / "race_fixed"
    sharing, sharing_fixed = lessons / "false_sharing", lessons / "false_sharing_fixed"
    zombies, zombies_fixed = lessons / "zombies", lessons / "zombies_fixed"
    deadlock, deadlock_fixed = lessons / "deadlock", lessons / "deadlock_fixed"
    tsan = sanitizer_env("tsan", "threads")
    return [race_case(race, RACE_N)] + race_check_fails(race, fixed) + [private_c_case()] + [
        Case("lessons race_fixed --lock mutex loses nothing", [fixed, "-p", 4, "-n", 200000, "--lock", "mutex"], 0,
             [stdout_says(r"lost=0\b")], needs=[fixed]),
        Case("lessons race_fixed --lock atomic loses nothing", [fixed, "-p", 4, "-n", 200000, "--lock", "atomic"],
             0, [stdout_says(r"lost=0\b")], needs=[fixed]),
        Case("lessons race: ThreadSanitizer names the data race", [tsan_race, "-p", 2, "-n", 1000], TSAN_REPORTED,
             [stderr_says("WARNING: ThreadSanitizer: data race")], env=tsan, needs=[tsan_race]),
        Case("lessons race_fixed (mutex) is clean under ThreadSanitizer",
             [tsan_fixed, "-p", 2, "-n", 1000, "--lock", "mutex"], 0, [stdout_says(r"lost=0\b")], env=tsan,
             needs=[tsan_fixed]),
        Case("lessons race_fixed (atomic) is clean under ThreadSanitizer",
             [tsan_fixed, "-p", 2, "-n", 1000, "--lock", "atomic"], 0, [stdout_says(r"lost=0\b")], env=tsan,
             needs=[tsan_fixed]),
        Case("lessons false_sharing counts right (slowly)", [sharing, "-p", 2, "-n", 1000000], 0,
             [stdout_says(r"total=2000000 expected=2000000")], needs=[sharing]),
        Case("lessons false_sharing_fixed counts right, a line per slot", [sharing_fixed, "-p", 2, "-n", 1000000], 0,
             [stdout_says(r"total=2000000 expected=2000000"), stdout_says(r"bytes_between_slots=64")],
             needs=[sharing_fixed]),
        Case("lessons zombies leaves its children as zombies", [zombies, "-p", 4], 1,
             [stdout_says(r"zombies=4 ")], needs=[zombies]),
        Case("lessons zombies_fixed reaps every child", [zombies_fixed, "-p", 4], 0,
             [stdout_says(r"zombies=0 ")], needs=[zombies_fixed]),
        Case("lessons deadlock hangs with big messages (the watchdog says so)", [MPIRUN, "-np", 2, deadlock],
             DEADLOCK_FOUND, [stderr_says("deadlock")], needs=[deadlock], timeout=60),
        Case("lessons deadlock hides with small messages", [MPIRUN, "-np", 2, deadlock, "-n", 1024], 0,
             [stdout_says(r"right=yes")], needs=[deadlock], timeout=60),
        Case("lessons deadlock_fixed exchanges big messages", [MPIRUN, "-np", 2, deadlock_fixed], 0,
             [stdout_says(r"exchanged=4194304 bytes right=yes")], needs=[deadlock_fixed], timeout=60),
    ]


def cases():
    """The examples, then every lesson's commands, its Python quotes, then the links of every page."""
    pages = LESSONS + [ROOT / "lessons" / "README.md", ROOT / "README.md", ROOT / "results" / "README.md",
                       ROOT / "results" / "reference" / "README.md"]
    pages = [p for p in pages if p.exists()]
    return (examples()
            + [Case("lessons %s: every command runs as written" % lesson.name,
                    [sys.executable, ROOT / "tests" / "lesson_blocks.py", lesson], timeout=900,
                    skip_exit=BLOCKS_NOT_RUN)   # some need what this machine lacks (MPI, a cluster)
               for lesson in LESSONS]
            + [Case("lessons: a block that needs what is not built or installed (a model MODELS= names, a loop's "
                    "bin/matmul-$m, a command its needs: names) is not run, and said, not failed",
                    [sys.executable, ROOT / "tests" / "lesson_blocks.py",
                     ROOT / "tests" / "data" / "lesson-lacking.md"],
                    BLOCKS_NOT_RUN,
                    [stdout_says(r"lesson-lacking.md:5: ok"),
                     stdout_says(r"lesson-lacking.md:12: not run: it needs a program of the model nosuchmodel "),
                     stdout_says(r"lesson-lacking.md:18: not run: it needs bin/matmul-nosuchmodel \(not built here\)"),
                     stdout_says(r"lesson-lacking.md:26: not run: it needs no-such-command \(apt-get install "
                                 r"no-such-command\)")], timeout=120)]
            + [case for script, said in (("lesson_blocks.py", "expect-exit"), ("lesson_quotes.py", "drifted"),
                                         ("doc_links.py", "#anchor"))
               for case in (Case("lessons: tests/%s --help says how to use it, exit 0" % script,
                                 [sys.executable, ROOT / "tests" / script, "--help"], 0,
                                 [stdout_says(r"^usage: tests/%s " % script), stdout_says(said)]),
                            Case("lessons: tests/%s given a page that is not there: exit 2, said, no traceback"
                                 % script,
                                 [sys.executable, ROOT / "tests" / script, "lessons/no-such-lesson.md"], 2,
                                 [stderr_says("%s: lessons/no-such-lesson.md: no such page" % script),
                                  stderr_lacks("Traceback")]))]
            + [Case("lessons: every Python block quotes the real files under python/",
                    [sys.executable, ROOT / "tests" / "lesson_quotes.py"] + LESSONS)]
            + [Case("lessons: every link in the lessons and READMEs leads somewhere",
                    [sys.executable, ROOT / "tests" / "doc_links.py"] + pages)])
