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

/* memory_fresh_blocks: from now on, blocks of at least bytes come from
 * mappings of their own, given back when freed, never from heap memory used
 * before. For a process that forks children while it computes: a child
 * shares its parent's heap copy-on-write, so a block the heap hands out
 * again costs a page copy at the first write on either side (and, under a
 * hypervisor, a round of TLB shootdowns); a fresh mapping belongs to one
 * process. A process that never forks loses by it: every block is new
 * memory, zeroed by the kernel. Advice only (glibc's M_MMAP_THRESHOLD):
 * elsewhere, or refused, nothing changes. */
void memory_fresh_blocks(size_t bytes);

/* memory_total: bytes of RAM this process may use: physical memory, or less
 * where the cgroup's limit or the address-space limit (ulimit -v) says so. */
double memory_total(void);

#endif
