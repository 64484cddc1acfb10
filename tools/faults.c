/* tools/faults.c — what a page fault costs on this machine: the price a fork()ed process pays for memory.
 *
 * Usage: build/faults [--idle SECONDS]   (make builds it; make doctor and the speed checks run it)
 * Prints key=value lines, each figure the median of TRIES tries:
 *
 *   first_touch_us     a first write to a page of fresh memory: the kernel
 *                      finds a page, zeroes it and maps it (what a new process
 *                      or a fresh buffer pays, 4 KiB at a time);
 *   copy_on_write_us   a first write, after fork(), to a page the parent had
 *                      written: the kernel copies the page that parent and
 *                      child shared (what both of them pay for every page
 *                      they write after the fork, a Python pool's parent and
 *                      workers among them: Python writes reference counts
 *                      into every object it touches);
 *   fork_exit_ms       fork() of this small process, its child's exit, and
 *                      waitpid(): the least a process costs to start and end.
 *
 * With --idle SECONDS, two more, each of one try (make doctor asks for them):
 *
 *   fresh_ms_per_mib   a first write to fresh memory on 2 MiB pages (as
 *                      big buffers get them: common/memory.c), right after
 *                      the same amount was freed: the kernel's zeroing;
 *   idle_ms_per_mib    the same after SECONDS doing nothing. A host that
 *                      takes back the memory its guest frees (free page
 *                      reporting, a balloon) does so within a few seconds,
 *                      and the next first touch of that memory waits for
 *                      the host to give it back, page by page: the first
 *                      run after a pause, and every fork()ed child that
 *                      touches more than was freed just before it, pay it.
 *
 * The pages are 4 KiB (MADV_NOHUGEPAGE), one byte written per page, so the
 * time is the fault's, not the copying's. On bare metal a fault is a trip
 * into the kernel; under a hypervisor it can also be a trip out of the
 * virtual machine, or a page table the hypervisor shadows, and cost many
 * times more: lessons 3 and 10 show what that does to the processes and to
 * Python's pools.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Pages per try: enough that the clock's resolution does not matter (4 MiB). */
#define PAGES 1024
#define PAGE 4096
/* Tries of each figure; the median is printed, so one try the scheduler interrupts does not count. */
#define TRIES 5
/* --idle's memory: 32 huge pages of 2 MiB, on a boundary of their size. */
#define HUGE_PAGE (2u << 20)
#define FRESH_BYTES (64u << 20)
/* The longest --idle there is reason to wait (Linux reports free pages to the host after 2 s). */
#define IDLE_MOST 60

/* seconds: the monotonic clock. */
static double seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* median: the middle of count figures (sorts them). */
static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}
static double median(double *figure, int count)
{
    qsort(figure, (size_t)count, sizeof *figure, by_value);
    return figure[count / 2];
}

/* fresh_pages: PAGES pages of private memory on 4 KiB pages, not yet touched; NULL after saying why. */
static char *fresh_pages(void)
{
    char *p = mmap(NULL, (size_t)PAGES * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        perror("faults: mmap");
        return NULL;
    }
    (void)madvise(p, (size_t)PAGES * PAGE, MADV_NOHUGEPAGE); /* advice: where refused, a huge page reads as fast */
    return p;
}

/* touch: one byte written per page; returns the seconds per page. */
static double touch(char *p, char value)
{
    double start = seconds();
    for (size_t i = 0; i < PAGES; i++)
        ((volatile char *)p)[i * PAGE] = value;
    return (seconds() - start) / PAGES;
}

/* first_touch: microseconds per page of a first write to fresh memory; negative on failure. */
static double first_touch(void)
{
    char *p = fresh_pages();
    if (!p)
        return -1;
    double per_page = touch(p, 1);
    munmap(p, (size_t)PAGES * PAGE);
    return per_page * 1e6;
}

/* copy_on_write: microseconds per page of a first write to pages this process had written, while a
 * fork()ed child that shares them waits (a pipe it reads until the parent closes it); negative on failure. */
static double copy_on_write(void)
{
    char *p = fresh_pages();
    int gate[2];
    if (!p)
        return -1;
    if (pipe(gate) != 0) {
        perror("faults: pipe");
        munmap(p, (size_t)PAGES * PAGE);
        return -1;
    }
    touch(p, 1);
    pid_t child = fork();
    if (child < 0) {
        perror("faults: fork");
        munmap(p, (size_t)PAGES * PAGE);
        close(gate[0]);
        close(gate[1]);
        return -1;
    }
    if (child == 0) { /* holds its share of the pages until the parent has written them */
        char byte;
        close(gate[1]);
        while (read(gate[0], &byte, 1) > 0)
            ;
        _exit(0);
    }
    close(gate[0]);
    double per_page = touch(p, 2);
    close(gate[1]);
    waitpid(child, NULL, 0);
    munmap(p, (size_t)PAGES * PAGE);
    return per_page * 1e6;
}

/* fork_exit: milliseconds for fork(), the child's _exit and waitpid(); negative on failure. */
static double fork_exit(void)
{
    double start = seconds();
    pid_t child = fork();
    if (child < 0) {
        perror("faults: fork");
        return -1;
    }
    if (child == 0)
        _exit(0);
    if (waitpid(child, NULL, 0) != child) {
        perror("faults: waitpid");
        return -1;
    }
    return (seconds() - start) * 1e3;
}

/* fresh_huge: milliseconds per MiB of a first write to FRESH_BYTES of fresh memory advised onto 2 MiB pages,
 * one byte per 4 KiB (a refused huge page is faulted 4 KiB at a time, and reads so); negative on failure. */
static double fresh_huge(void)
{
    char *mapped = mmap(NULL, FRESH_BYTES + HUGE_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mapped == MAP_FAILED) {
        perror("faults: mmap");
        return -1;
    }
    char *p = (char *)(((unsigned long)mapped + HUGE_PAGE - 1) & ~(unsigned long)(HUGE_PAGE - 1));
    (void)madvise(p, FRESH_BYTES, MADV_HUGEPAGE); /* advice, as in memory_alloc */
    double start = seconds();
    for (size_t i = 0; i < FRESH_BYTES; i += PAGE)
        ((volatile char *)p)[i] = 1;
    double took = seconds() - start;
    munmap(mapped, FRESH_BYTES + HUGE_PAGE);
    return took * 1e3 / (FRESH_BYTES >> 20);
}

/* idle_figures: fresh_huge right after the same memory was freed (the second of two tries: the first may
 * meet idle memory itself), then after idle seconds of sleep; 1 on failure. */
static int idle_figures(unsigned idle)
{
    double fresh = fresh_huge();
    if (fresh >= 0)
        fresh = fresh_huge();
    if (fresh < 0)
        return 1;
    for (unsigned left = idle; left > 0;)
        left = sleep(left); /* a signal's handler may end it early: sleep the rest */
    double after = fresh_huge();
    if (after < 0)
        return 1;
    printf("fresh_ms_per_mib=%.3f\nidle_ms_per_mib=%.3f\nidle_seconds=%u\n", fresh, after, idle);
    return 0;
}

/* idle_seconds: --idle's argument, 1 to IDLE_MOST; 0 after saying why it is not one. */
static unsigned idle_seconds(const char *text)
{
    char *end;
    errno = 0;
    long value = strtol(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || value < 1 || value > IDLE_MOST) {
        fprintf(stderr, "faults: --idle %s: want whole seconds from 1 to %d\n", text, IDLE_MOST);
        return 0;
    }
    return (unsigned)value;
}

int main(int argc, char **argv)
{
    unsigned idle = 0;
    if (argc == 3 && strcmp(argv[1], "--idle") == 0) {
        if ((idle = idle_seconds(argv[2])) == 0)
            return 2;
    } else if (argc != 1) {
        fprintf(stderr, "usage: faults [--idle SECONDS]\n");
        return 2;
    }

    static const struct {
        const char *key;
        double (*measure)(void);
    } figures[] = {
        {"first_touch_us", first_touch},
        {"copy_on_write_us", copy_on_write},
        {"fork_exit_ms", fork_exit},
    };
    for (size_t f = 0; f < sizeof figures / sizeof figures[0]; f++) {
        double tries[TRIES];
        for (int t = 0; t < TRIES; t++)
            if ((tries[t] = figures[f].measure()) < 0)
                return 1;
        printf("%s=%.2f\n", figures[f].key, median(tries, TRIES));
    }
    printf("pages=%d\npage_bytes=%d\ntries=%d\n", PAGES, PAGE, TRIES);
    return idle > 0 ? idle_figures(idle) : 0;
}
