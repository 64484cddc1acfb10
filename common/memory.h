/* common/memory.h — big allocations, private to a process or shared across fork(). */
#ifndef MEMORY_H
#define MEMORY_H

#include <stddef.h>

/* Where an allocation lives. */
enum memory {
    MEMORY_PRIVATE, /* this process's heap; a fork()ed child gets a copy-on-write view */
    MEMORY_SHARED,  /* mmap(MAP_SHARED): a child's writes are seen by its parent */
};

/* memory_alloc: bytes of cache-line-aligned memory, or NULL after saying why. */
void *memory_alloc(size_t bytes, enum memory where);

/* memory_free: give back what memory_alloc returned (NULL is fine); a failure
 * to unmap shared memory is said on stderr. */
void memory_free(void *p, size_t bytes, enum memory where);

/* memory_prefault: map [p, p + bytes) for writing in one system call, where a
 * process would otherwise take one page fault per page on first touch (as a
 * fork()ed child does in memory it shares with its parent). Advice only:
 * where the kernel cannot, the pages fault in as usual. */
void memory_prefault(void *p, size_t bytes);

/* memory_total: bytes of RAM this process may use: physical memory, or less
 * where the cgroup's limit or the address-space limit (ulimit -v) says so. */
double memory_total(void);

#endif
