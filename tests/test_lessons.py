"""tests/test_lessons.py — the lessons: their bug/fix examples, every command in them, every link."""
import sys

from suite import MPIRUN, ROOT, Case, program, sanitizer_env, stderr_says, stdout_says

LESSONS = sorted((ROOT / "lessons").glob("[0-9][0-9]-*.md"))
# TSan's exit status when it reports (its default exitcode).
TSAN_REPORTED = 66
# deadlock.c's exit status when its watchdog fires.
DEADLOCK_FOUND = 3


def examples():
    """Each fix is right; each bug shows wherever it shows deterministically."""
    lessons = program("lessons")
    race, fixed = lessons / "race", lessons / "race_fixed"
    tsan_race, tsan_fixed = program("lessons", "tsan") / "race", program("lessons", "tsan") / "race_fixed"
    sharing, sharing_fixed = lessons / "false_sharing", lessons / "false_sharing_fixed"
    zombies, zombies_fixed = lessons / "zombies", lessons / "zombies_fixed"
    deadlock, deadlock_fixed = lessons / "deadlock", lessons / "deadlock_fixed"
    tsan = sanitizer_env("tsan", "threads")
    return [
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
    """The examples, then every lesson's commands, then the links of every page."""
    pages = LESSONS + [ROOT / "lessons" / "README.md", ROOT / "README.md", ROOT / "results" / "README.md",
                       ROOT / "results" / "reference" / "README.md"]
    pages = [p for p in pages if p.exists()]
    return (examples()
            + [Case("lessons %s: every command runs as written" % lesson.name,
                    [sys.executable, ROOT / "tests" / "lesson_blocks.py", lesson], timeout=900)
               for lesson in LESSONS]
            + [Case("lessons: every link in the lessons and READMEs leads somewhere",
                    [sys.executable, ROOT / "tests" / "doc_links.py"] + pages)])
