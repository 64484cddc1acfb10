/* common/memory.c — aligned private memory, shared mappings (and writing into them), the RAM limit. */
#include "memory.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
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
/* The most memory_heap_reserve grows malloc's heap by: half glibc's largest mmap threshold (32 MiB). */
#define HEAP_RESERVE_MAX (16u << 20)
/* Where cgroup v2 says how much memory this process's group may use. */
#define CGROUP_MEMORY_MAX "/sys/fs/cgroup/memory.max"

/* A shared mapping and the memory files (memfd) behind it, one after
 * another, so that memory_write_shared can write into a file rather than
 * through the mapping. Usually one file; memory_alloc_shared_blocks gives
 * each writer's block a file of its own, because writes into one file take
 * turns (each holds the file's lock while it copies). Forked children
 * inherit the table and the descriptors. */
static struct shared_file {
    char *base;
    size_t bytes;
    unsigned files; /* how many memory files: 1, or one per block */
    int *fd;        /* their descriptors, in order */
    size_t *start;  /* files + 1 offsets: file i is mapped at [base + start[i], base + start[i + 1]) */
} shared_files[SHARED_FILES];

/* shared_file_forget: close an entry's files and empty its slot. */
static void shared_file_forget(struct shared_file *file)
{
    for (unsigned i = 0; file->fd && i < file->files; i++)
        if (file->fd[i] >= 0)
            close(file->fd[i]);
    free(file->fd);
    free(file->start);
    *file = (struct shared_file){0};
}

#ifdef MFD_CLOEXEC
/* one_file_per_block: whether every block can have a file of its own: they
 * begin at 0, in order, none empty, each on a page (a mapping of a file
 * begins on a page). */
static int one_file_per_block(size_t bytes, unsigned blocks, const size_t *block_start)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    if (blocks < 2 || block_start[0] != 0)
        return 0;
    for (unsigned i = 1; i < blocks; i++)
        if (block_start[i] <= block_start[i - 1] || block_start[i] >= bytes || block_start[i] % page != 0)
            return 0;
    return 1;
}
#endif

/* shared_file_map: bytes of shared memory backed by memory files that the
 * table remembers (one per block where one_file_per_block says so, else
 * one); NULL where that cannot be had (no memfd_create on this system, the
 * table full, too many descriptors), and the caller maps anonymous shared
 * memory. */
static void *shared_file_map(size_t bytes, unsigned blocks, const size_t *block_start)
{
#ifdef MFD_CLOEXEC
    struct shared_file *slot = NULL;
    for (size_t i = 0; i < SHARED_FILES && !slot; i++)
        if (!shared_files[i].base)
            slot = &shared_files[i];
    if (!slot)
        return NULL;
    unsigned files = one_file_per_block(bytes, blocks, block_start) ? blocks : 1;
    struct shared_file file = {.bytes = bytes, .files = files, .fd = malloc(files * sizeof(int)),
                               .start = malloc((files + 1) * sizeof(size_t))};
    if (!file.fd || !file.start) {
        free(file.fd);
        free(file.start);
        return NULL;
    }
    for (unsigned i = 0; i < files; i++) {
        file.fd[i] = -1;
        file.start[i] = files == 1 ? 0 : block_start[i];
    }
    file.start[files] = bytes;
    /* the addresses first, then each file mapped into its part of them */
    void *base = mmap(NULL, bytes, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    file.base = base == MAP_FAILED ? NULL : base;
    int mapped = file.base != NULL;
    for (unsigned i = 0; i < files && mapped; i++) {
        size_t length = file.start[i + 1] - file.start[i];
        file.fd[i] = memfd_create("parallel-suite-shared", MFD_CLOEXEC);
        mapped = file.fd[i] >= 0 && ftruncate(file.fd[i], (off_t)length) == 0 &&
                 mmap(file.base + file.start[i], length, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
                      file.fd[i], 0) != MAP_FAILED;
    }
    if (!mapped) {
        if (file.base)
            (void)munmap(file.base, bytes); /* addresses this function just took: nothing else lives there */
        shared_file_forget(&file);
        return NULL;
    }
    *slot = file;
    return file.base;
#else
    (void)bytes;
    (void)blocks;
    (void)block_start;
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

/* shared_alloc: rounded bytes of shared memory in blocks (shared_file_map),
 * in one memory file where the blocks cannot have one each (too many
 * descriptors open, say), or anonymous shared memory where there can be no
 * memory file at all. */
static void *shared_alloc(size_t rounded, unsigned blocks, const size_t *block_start)
{
    void *p = shared_file_map(rounded, blocks, block_start);
    if (!p && blocks > 1)
        p = shared_file_map(rounded, 1, (const size_t[]){0});
    if (p)
        return p;
    p = mmap(NULL, rounded, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        report_error("mmap of %zu bytes of shared memory failed: %s", rounded, strerror(errno));
        return NULL;
    }
    return p;
}

/* rounded_size: bytes rounded up to ALIGNMENT, and never 0. */
static size_t rounded_size(size_t bytes)
{
    size_t rounded = (bytes + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
    return rounded == 0 ? ALIGNMENT : rounded;
}

void *memory_alloc(size_t bytes, enum memory where)
{
    size_t rounded = rounded_size(bytes);
    if (where == MEMORY_SHARED)
        return shared_alloc(rounded, 1, (const size_t[]){0});
    size_t alignment = rounded >= MEMORY_HUGE_PAGE / 2 ? MEMORY_HUGE_PAGE : ALIGNMENT; /* memory.h says why half */
    rounded = (rounded + alignment - 1) / alignment * alignment;
    void *p = aligned_alloc(alignment, rounded);
    if (!p)
        report_error("out of memory allocating %zu bytes", rounded);
    else if (alignment == MEMORY_HUGE_PAGE)
        (void)madvise(p, rounded, MADV_HUGEPAGE); /* advice: a refusal costs speed, not results */
    return p;
}

void *memory_alloc_shared_blocks(size_t bytes, unsigned blocks, const size_t *block_start)
{
    return shared_alloc(rounded_size(bytes), blocks, block_start);
}

unsigned memory_shared_files(const void *p, size_t bytes)
{
    const struct shared_file *file = shared_file_of(p, bytes);
    return file ? file->files : 0;
}

void memory_heap_reserve(size_t bytes)
{
#if defined(M_MMAP_THRESHOLD) && defined(M_TRIM_THRESHOLD)
    if (bytes < 2 * MEMORY_HUGE_PAGE) /* room for at least one whole huge page, wherever the block lands */
        bytes = 2 * MEMORY_HUGE_PAGE;
    if (bytes > HEAP_RESERVE_MAX)
        bytes = HEAP_RESERVE_MAX;
    /* a block this big from the heap itself (not a mapping of its own), and
     * the heap's top kept when it is freed, so the room stays for later blocks */
    if (mallopt(M_MMAP_THRESHOLD, (int)(2 * bytes)) == 0 || mallopt(M_TRIM_THRESHOLD, (int)(4 * bytes)) == 0)
        return;
#ifdef M_ARENA_MAX
    (void)mallopt(M_ARENA_MAX, 1); /* every thread allocates here too, not in heaps of its own */
#endif
    char *block = malloc(bytes);
    if (!block)
        return; /* no room: the library's blocks come as they would have */
    uintptr_t first = ((uintptr_t)block + MEMORY_HUGE_PAGE - 1) / MEMORY_HUGE_PAGE * MEMORY_HUGE_PAGE;
    uintptr_t end = ((uintptr_t)block + bytes) / MEMORY_HUGE_PAGE * MEMORY_HUGE_PAGE;
    if (end > first)
        (void)madvise((void *)first, end - first, MADV_HUGEPAGE); /* advice, as in memory_alloc */
    free(block);
#else
    (void)bytes;
#endif
}

void memory_free(void *p, size_t bytes, enum memory where)
{
    if (!p)
        return;
    if (where == MEMORY_SHARED) {
        size_t rounded = rounded_size(bytes);
        if (munmap(p, rounded) != 0) /* a wrong address or size: a bug here, worth saying */
            report_error("munmap of %zu bytes of shared memory failed: %s", rounded, strerror(errno));
        struct shared_file *file = shared_file_of(p, rounded);
        if (file)
            shared_file_forget(file);
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
    size_t at = (size_t)((char *)to - file->base);
    for (unsigned i = 0; i < file->files && bytes > 0; i++) { /* the part in each file it crosses */
        if (at >= file->start[i + 1])
            continue;
        size_t part = file->start[i + 1] - at < bytes ? file->start[i + 1] - at : bytes;
        if (fdio_pwrite_all(file->fd[i], from, part, (uint64_t)(at - file->start[i])) != 0) {
            report_error("writing %zu bytes into shared memory failed: %s", part, strerror(errno));
            return OUTCOME_FAILED;
        }
        from = (const char *)from + part;
        at += part;
        bytes -= part;
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
    if (errno == EMFILE || errno == ENFILE) { /* a file in TMPDIR would need a descriptor too */
        const char *why = strerror(errno);
        struct rlimit open_files;
        if (errno == EMFILE && getrlimit(RLIMIT_NOFILE, &open_files) == 0 && open_files.rlim_cur != RLIM_INFINITY)
            report_error("cannot open a memory file: %s (ulimit -n is %llu)", why,
                         (unsigned long long)open_files.rlim_cur);
        else
            report_error("cannot open a memory file: %s", why);
        return -1;
    }
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
