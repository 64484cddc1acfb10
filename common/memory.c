/* common/memory.c — aligned private memory, shared mappings (and writing into them), the RAM limit. */
#include "memory.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include "fdio.h"
#include "report.h"

/* Alignment of every buffer: a cache line, also enough for any vector load. */
#define ALIGNMENT 64
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23 /* Linux 5.14; older kernels answer EINVAL and nothing is lost */
#endif
/* How many shared mappings can have their memory file remembered at once:
 * a program makes a few (a result, a record of each worker's time, a queue). */
#define SHARED_FILES 16
/* Where cgroup v2 says how much memory this process's group may use. */
#define CGROUP_MEMORY_MAX "/sys/fs/cgroup/memory.max"

/* A shared mapping and the memory file (memfd) behind it, so that
 * memory_write_shared can write into the file rather than through the
 * mapping. Forked children inherit both the table and the descriptors. */
static struct shared_file {
    char *base;
    size_t bytes;
    int fd;
} shared_files[SHARED_FILES];

/* shared_file_map: bytes of shared memory backed by a memory file that the
 * table remembers; NULL where that cannot be had (no memfd_create on this
 * system, the table full), and the caller maps anonymous shared memory. */
static void *shared_file_map(size_t bytes)
{
#ifdef MFD_CLOEXEC
    struct shared_file *slot = NULL;
    for (size_t i = 0; i < SHARED_FILES && !slot; i++)
        if (!shared_files[i].base)
            slot = &shared_files[i];
    if (!slot)
        return NULL;
    int fd = memfd_create("parallel-suite-shared", MFD_CLOEXEC);
    if (fd < 0)
        return NULL;
    void *p = MAP_FAILED;
    if (ftruncate(fd, (off_t)bytes) == 0)
        p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) {
        close(fd);
        return NULL;
    }
    *slot = (struct shared_file){.base = p, .bytes = bytes, .fd = fd};
    return p;
#else
    (void)bytes;
    return NULL;
#endif
}

/* shared_file_of: the table's entry whose mapping holds [p, p + bytes), or NULL. */
static struct shared_file *shared_file_of(const void *p, size_t bytes)
{
    uintptr_t first = (uintptr_t)p;
    for (size_t i = 0; i < SHARED_FILES; i++) {
        uintptr_t base = (uintptr_t)shared_files[i].base;
        if (shared_files[i].base && first >= base && first - base <= shared_files[i].bytes &&
            bytes <= shared_files[i].bytes - (first - base))
            return &shared_files[i];
    }
    return NULL;
}

void *memory_alloc(size_t bytes, enum memory where)
{
    size_t rounded = (bytes + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
    if (rounded == 0)
        rounded = ALIGNMENT;
    void *p;
    if (where == MEMORY_SHARED) {
        p = shared_file_map(rounded);
        if (p)
            return p;
        p = mmap(NULL, rounded, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) {
            report_error("mmap of %zu bytes of shared memory failed: %s", rounded, strerror(errno));
            return NULL;
        }
        return p;
    }
    size_t alignment = rounded >= MEMORY_HUGE_PAGE ? MEMORY_HUGE_PAGE : ALIGNMENT;
    rounded = (rounded + alignment - 1) / alignment * alignment;
    p = aligned_alloc(alignment, rounded);
    if (!p)
        report_error("out of memory allocating %zu bytes", rounded);
    else if (alignment == MEMORY_HUGE_PAGE)
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
        struct shared_file *file = shared_file_of(p, rounded);
        if (file) {
            close(file->fd);
            *file = (struct shared_file){0};
        }
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

enum outcome memory_write_shared(void *to, const void *from, size_t bytes)
{
    const struct shared_file *file = shared_file_of(to, bytes);
    if (!file) {
        memcpy(to, from, bytes);
        return OUTCOME_OK;
    }
    if (fdio_pwrite_all(file->fd, from, bytes, (uint64_t)((char *)to - file->base)) != 0) {
        report_error("writing %zu bytes into shared memory failed: %s", bytes, strerror(errno));
        return OUTCOME_FAILED;
    }
    return OUTCOME_OK;
}

int memory_file_open(const char *name)
{
    int fd = -1;
#ifdef MFD_CLOEXEC
    fd = memfd_create(name, MFD_CLOEXEC);
    if (fd >= 0)
        return fd;
#endif
    const char *dir = getenv("TMPDIR");
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s-XXXXXX", dir && *dir ? dir : "/tmp", name);
    fd = mkostemp(path, O_CLOEXEC);
    if (fd < 0) {
        report_error("no memory file (memfd_create), and no file %s: %s", path, strerror(errno));
        return -1;
    }
    (void)unlink(path); /* the file lives on while the descriptor is open; a failure leaves a file behind, no more */
    return fd;
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
