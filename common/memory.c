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
/* Which cgroups this process is in ("0::PATH" for v2, "N:memory:PATH" for
 * v1), and where each hierarchy is mounted. */
#define PROC_CGROUP "/proc/self/cgroup"
#define PROC_MOUNTINFO "/proc/self/mountinfo"
/* The file that holds a cgroup's memory limit: cgroup v2, cgroup v1. */
static const char *const cgroup_limit_files[] = {"memory.max", "memory.limit_in_bytes"};

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

/* has_word: whether a comma-separated list ("rw,memory") holds word. */
static int has_word(const char *list, const char *word)
{
    size_t length = strlen(word);
    for (const char *at = list; at; at = strchr(at, ','), at = at ? at + 1 : NULL)
        if (strncmp(at, word, length) == 0 && (at[length] == ',' || at[length] == '\0'))
            return 1;
    return 0;
}

/* own_cgroup: into path, this process's cgroup in the v2 hierarchy (v1 = 0)
 * or in v1's memory hierarchy (v1 = 1), as /proc/self/cgroup names it; 0
 * where it is in none. */
static int own_cgroup(int v1, char *path, size_t size)
{
    FILE *f = fopen(PROC_CGROUP, "r");
    if (!f)
        return 0;
    char line[PATH_MAX + 256];
    int found = 0;
    while (!found && fgets(line, sizeof line, f)) {
        char *controllers = strchr(line, ':');
        char *cgroup = controllers ? strchr(controllers + 1, ':') : NULL;
        if (!cgroup)
            continue;
        *controllers++ = '\0';
        *cgroup++ = '\0';
        cgroup[strcspn(cgroup, "\n")] = '\0';
        if (v1 ? has_word(controllers, "memory") : strcmp(line, "0") == 0 && *controllers == '\0')
            found = snprintf(path, size, "%s", cgroup) < (int)size;
    }
    fclose(f);
    return found;
}

/* cgroup_mount: into root and point, the part of the hierarchy a mount
 * shows and where it is mounted (size bytes each), for the v2 hierarchy
 * (v1 = 0) or v1's memory one; 0 where none is mounted. mountinfo's lines:
 * ID PARENT DEV ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - TYPE SOURCE OPTIONS. */
static int cgroup_mount(int v1, char *root, char *point, size_t size)
{
    FILE *f = fopen(PROC_MOUNTINFO, "r");
    if (!f)
        return 0;
    char line[3 * PATH_MAX], type[64], options[1024], format[64];
    snprintf(format, sizeof format, "%%*s %%*s %%*s %%%zus %%%zus", size - 1, size - 1);
    int found = 0;
    while (!found && fgets(line, sizeof line, f)) {
        const char *after = strstr(line, " - ");
        if (after && sscanf(after, " - %63s %*s %1023s", type, options) == 2 &&
            (v1 ? strcmp(type, "cgroup") == 0 && has_word(options, "memory") : strcmp(type, "cgroup2") == 0))
            found = sscanf(line, format, root, point) == 2;
    }
    fclose(f);
    return found;
}

/* cgroup_limit: the smallest memory limit on this process's cgroup or one
 * above it, up to the top of the mount (v2's hierarchy, or v1 = 1: v1's
 * memory one); 0 where none says one. A limit holds every cgroup below it:
 * on a host this process's cgroup is a folder below the mount (a login
 * node's user slice under systemd's MemoryMax=, a job's cgroup), not the
 * mount's top, which only a container's own cgroup namespace shows it as. */
static double cgroup_limit(int v1)
{
    char cgroup[PATH_MAX], root[PATH_MAX], point[PATH_MAX], dir[2 * PATH_MAX + 32];
    if (!own_cgroup(v1, cgroup, sizeof cgroup) || !cgroup_mount(v1, root, point, sizeof root))
        return 0;
    size_t root_length = strlen(root);
    const char *below = ""; /* the cgroup's folder below the mount point */
    if (strstr(cgroup, "/..") == NULL) {    /* not outside what a cgroup namespace shows */
        if (strcmp(root, "/") == 0)
            below = cgroup;
        else if (strncmp(cgroup, root, root_length) == 0 && (cgroup[root_length] == '/' || !cgroup[root_length]))
            below = cgroup + root_length;
    }
    size_t top = (size_t)snprintf(dir, sizeof dir, "%s", point);
    snprintf(dir + top, sizeof dir - top, "%s", below);
    double smallest = 0;
    for (;;) {
        size_t length = strlen(dir);
        snprintf(dir + length, sizeof dir - length, "/%s", cgroup_limit_files[v1]);
        FILE *f = fopen(dir, "r");
        unsigned long long limit; /* "max" (v2) is no limit; v1 says none with a huge number */
        if (f && fscanf(f, "%llu", &limit) == 1 && (smallest == 0 || (double)limit < smallest))
            smallest = (double)limit;
        if (f)
            fclose(f);
        dir[length] = '\0';
        char *slash = strrchr(dir, '/');
        if (length <= top || !slash || (size_t)(slash - dir) < top)
            break;
        *slash = '\0';
    }
    return smallest;
}

double memory_total(void)
{
    double total = (double)sysconf(_SC_PHYS_PAGES) * (double)sysconf(_SC_PAGESIZE);
    for (int v1 = 0; v1 <= 1; v1++) {
        double limit = cgroup_limit(v1);
        if (limit > 0 && limit < total)
            total = limit;
    }
    struct rlimit address_space;
    if (getrlimit(RLIMIT_AS, &address_space) == 0 && address_space.rlim_cur != RLIM_INFINITY &&
        (double)address_space.rlim_cur < total)
        total = (double)address_space.rlim_cur;
    return total;
}
