/* common/memory.h — big allocations, private to a process or shared across fork(). */
#ifndef MEMORY_H
#define MEMORY_H

#include <stddef.h>

#include "report.h"

/* A transparent huge page: 2 MiB on x86-64 and on most arm64 kernels.
 * Private buffers of half this or more are rounded up to whole huge pages,
 * aligned to them and asked for them: one TLB entry and (in a fork()ed
 * child) one first touch per 2 MiB instead of per 4 KiB. At half a huge
 * page, zeroing the whole page costs about what 256 first touches do on a
 * machine of its own, and far less under a hypervisor, where each first
 * touch of a 4 KiB page can cost microseconds more (lesson 3). The request
 * is advice; the kernel may decline, and where pages are another size the
 * alignment only wastes a little address space. */
#define MEMORY_HUGE_PAGE (2u << 20)

/* Where an allocation lives. */
enum memory {
    MEMORY_PRIVATE, /* this process's heap; a fork()ed child gets a copy-on-write view */
    MEMORY_SHARED,  /* mmap(MAP_SHARED) of a memory file: a child's writes are seen by its parent */
};

/* memory_alloc: bytes of cache-line-aligned memory, or NULL after saying why. */
void *memory_alloc(size_t bytes, enum memory where);

/* memory_alloc_shared_blocks: memory_alloc(bytes, MEMORY_SHARED) for memory
 * that `blocks` processes write a block of each, block i beginning
 * block_start[i] bytes in (block_start[0] is 0; they increase). Where every
 * block begins on a page, each has a memory file of its own, so that their
 * memory_write_shared calls copy side by side; otherwise (or where this
 * process may not open that many files) there is one file, and they take
 * turns (a write into a file holds the file's lock). */
void *memory_alloc_shared_blocks(size_t bytes, unsigned blocks, const size_t *block_start);

/* memory_shared_files: how many memory files lie behind the shared memory
 * [p, p + bytes): 1, one per block (memory_alloc_shared_blocks), or 0 where
 * there is none (no memfd_create: memory_write_shared is then a memcpy). */
unsigned memory_shared_files(const void *p, size_t bytes);

/* memory_heap_reserve: grow malloc's heap by about `bytes` (at most 16 MiB)
 * and ask for huge pages there, keeping the room when it is freed, for the
 * many small blocks a library allocates on its own (libcurl's buffers for
 * each transfer): they then cost a first touch per 2 MiB, not per 4 KiB.
 * Threads allocate there too, rather than in heaps of their own (which
 * malloc gives them to spare them its lock): for threads that allocate
 * little. Advice, like MADV_HUGEPAGE itself: where malloc or the kernel
 * will not, nothing changes but the speed. Call it once, before the
 * library's blocks. */
void memory_heap_reserve(size_t bytes);

/* memory_free: give back what memory_alloc or memory_alloc_shared_blocks
 * returned (NULL is fine); a failure to unmap shared memory is said on stderr. */
void memory_free(void *p, size_t bytes, enum memory where);

/* memory_prefault: map [p, p + bytes) for writing in one system call, where a
 * process would otherwise take one page fault per page on first touch (as a
 * fork()ed child does in memory it shares with its parent). Advice only:
 * where the kernel cannot, the pages fault in as usual. */
void memory_prefault(void *p, size_t bytes);

/* memory_write_shared: copy bytes from `from` to `to`, which lies inside one
 * MEMORY_SHARED allocation, with pwrite(2) into the memory file(s) behind it:
 * the kernel copies through its own mapping of the pages, and this process
 * maps none of them. For a fork()ed child that writes a big block once: its
 * first touch of each 4 KiB page of a shared mapping costs it a page fault,
 * or under a hypervisor a trip out of the virtual machine as well, and the
 * copy pays for neither. Where there is no memory file (no memfd_create on
 * this system) it is a memcpy. OUTCOME_OK, or OUTCOME_FAILED after saying why. */
enum outcome memory_write_shared(void *to, const void *from, size_t bytes);

/* memory_file_open: an anonymous file in memory, for processes to pass data
 * through with pwrite(2) and pread(2): a memory file (memfd_create), or
 * where there is none an unlinked file in $TMPDIR (or /tmp). Its pages stay
 * with the file, so the next write of the same size allocates none; a
 * fork()ed child inherits the descriptor. The descriptor, or -1 after
 * saying why; name is for /proc/PID/fd. */
int memory_file_open(const char *name);

/* memory_total: bytes of RAM this process may use: physical memory, or less
 * where a cgroup's limit (its own cgroup's or one above it, v1 or v2) or the
 * address-space limit (ulimit -v) says so. */
double memory_total(void);

#endif
