/* common/memory.c — aligned private memory, shared anonymous mappings, the RAM limit. */
#include "memory.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include "report.h"

/* Alignment of every buffer: a cache line, also enough for any vector load. */
#define ALIGNMENT 64
/* Private buffers this big are aligned to, and asked for, transparent huge
 * pages: one TLB entry and (in a fork()ed child) one first touch per 2 MiB
 * instead of per 4 KiB. The request is advice; the kernel may decline. */
#define HUGE_PAGE (2u << 20)
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23 /* Linux 5.14; older kernels answer EINVAL and nothing is lost */
#endif
/* Where cgroup v2 says how much memory this process's group may use. */
#define CGROUP_MEMORY_MAX "/sys/fs/cgroup/memory.max"

void *memory_alloc(size_t bytes, enum memory where)
{
    size_t rounded = (bytes + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
    if (rounded == 0)
        rounded = ALIGNMENT;
    void *p;
    if (where == MEMORY_SHARED) {
        p = mmap(NULL, rounded, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) {
            report_error("mmap of %zu bytes of shared memory failed: %s", rounded, strerror(errno));
            return NULL;
        }
        return p;
    }
    size_t alignment = rounded >= HUGE_PAGE ? HUGE_PAGE : ALIGNMENT;
    rounded = (rounded + alignment - 1) / alignment * alignment;
    p = aligned_alloc(alignment, rounded);
    if (!p)
        report_error("out of memory allocating %zu bytes", rounded);
    else if (alignment == HUGE_PAGE)
        (void)madvise(p, rounded, MADV_HUGEPAGE); /* advice: a refusal costs speed, not results */
    return p;
}

void memory_free(void *p, size_t bytes, enum memory where)
{
    if (!p)
        return;
    if (where == MEMORY_SHARED) {
        size_t rounded = (bytes + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
        if (rounded == 0)
            rounded = ALIGNMENT;
        if (munmap(p, rounded) != 0) /* a wrong address or size: a bug here, worth saying */
            report_error("munmap of %zu bytes of shared memory failed: %s", rounded, strerror(errno));
    } else {
        free(p);
    }
}

void memory_prefault(void *p, size_t bytes)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    uintptr_t first = (uintptr_t)p / page * page, end = (uintptr_t)p + bytes;
    if (bytes > 0)
        (void)madvise((void *)first, end - first, MADV_POPULATE_WRITE); /* advice, as above */
}

void memory_inherit(void *p, size_t bytes, int inherit)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    uintptr_t first = ((uintptr_t)p + page - 1) / page * page, end = ((uintptr_t)p + bytes) / page * page;
    if (end > first) /* whole pages only: the rest of a partial page may belong to another block */
        (void)madvise((void *)first, end - first, inherit ? MADV_DOFORK : MADV_DONTFORK); /* advice, as above */
}

double memory_total(void)
{
    double total = (double)sysconf(_SC_PHYS_PAGES) * (double)sysconf(_SC_PAGESIZE);
    FILE *f = fopen(CGROUP_MEMORY_MAX, "r");
    if (f) {
        unsigned long long limit;
        if (fscanf(f, "%llu", &limit) == 1 && (double)limit < total)
            total = (double)limit;
        fclose(f);
    }
    struct rlimit address_space;
    if (getrlimit(RLIMIT_AS, &address_space) == 0 && address_space.rlim_cur != RLIM_INFINITY &&
        (double)address_space.rlim_cur < total)
        total = (double)address_space.rlim_cur;
    return total;
}
