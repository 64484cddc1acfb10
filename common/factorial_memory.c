/* common/factorial_memory.c — GMP's memory: big and medium blocks on huge pages, kept for reuse, never inherited by fork().
 *
 * Blocks of GMP's at least FACTORIAL_BIG_BLOCK (factorial.h, 2 MiB) big
 * are mappings of their own, aligned to and advised onto transparent huge
 * pages: the first touch of a block then costs one page fault per 2 MiB
 * instead of one per 4 KiB. Medium blocks (MEDIUM_BLOCK, 64 KiB, up to
 * 2 MiB) are cut out of such huge pages, a power of two each, and go back
 * on their size's list when freed, never to the kernel. Small blocks stay
 * with malloc.
 *
 * - Medium blocks used to come from malloc too, which maps each one from
 *   128 KiB up afresh (4 KiB pages, faulted in and zeroed again every time)
 *   until a large enough free happens to raise its threshold; and whatever
 *   it keeps in its heap, a fork()ed child shares with its parent
 *   copy-on-write, so both pay a fault and a copy for every heap page either
 *   writes. With the lists, and the prime table kept (factorial_prepare),
 *   a run at n = 10^7, P = 2 takes 200-400 page faults (threads) and 670
 *   (processes, parent and child) instead of 680 and 8,200; on the AMD EPYC
 *   Zen 5 virtual machine these were measured on, each 4 KiB fault cost
 *   about 11 µs.
 *
 * - A freed big block is kept (up to CACHED_BLOCKS of them) and given to
 *   the next request it fits. The largest multiplications take and give back
 *   blocks of the same few sizes all the time; malloc gives every block past
 *   its mmap threshold (at most 32 MiB, and n! at n = 10^7 is 27 MB) a fresh
 *   mapping, whose pages are faulted in and zeroed again each time.
 * - Big blocks and the huge pages of medium ones are marked MADV_DONTFORK:
 *   a child forked from this process does not get them. Memory that a
 *   parent and child share copy-on-write costs a page fault and a 4 KiB
 *   copy for every page either side writes first afterwards, and in the
 *   processes model both sides write GMP's blocks all the time. A child's
 *   numbers come through memory files, never from its parent's memory, so
 *   it loses nothing; it forgets the kept blocks of its parent (it does not
 *   have them: forget_kept).
 *
 * Measured at n = 10^7, P = 2 (an AMD EPYC Zen 5 virtual machine, -r 3):
 * in three rounds of the old build (big blocks from malloc) and this one
 * side by side, this one was faster in 11 of 12 pairs (threads, OpenMP,
 * processes, MPI), by 0.02-0.52 s. In the two quieter of three rounds of
 * every lane it took 1.03-1.07 s (threads, OpenMP, MPI; one worker
 * 1.92-1.99 s) and 1.32-1.37 s (processes). A processes run's page faults
 * went from 13,000-17,000 to 3,700 in the parent, and from 7,000-15,000 to
 * 3,700 in its child. With the blocks kept, 256 KiB instead of 2 MiB made no
 * difference; without, smaller blocks were slower (512 KiB: threads by a
 * quarter), and larger ones too (8 MiB: processes by 6%).
 *
 * GMP cannot go on without the memory it asks for, and by default aborts
 * with a core dump when it is refused; these functions say so and end the
 * process with the status of a runtime failure instead (_exit: a fork()ed
 * child must not run its parent's exit handlers).
 */
#include "factorial.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* Under AddressSanitizer a kept block is poisoned: GMP's use of a block it
 * gave back is then reported, as malloc's blocks are. */
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define KEPT_POISON(p, bytes) ASAN_POISON_MEMORY_REGION(p, bytes)
#define KEPT_UNPOISON(p, bytes) ASAN_UNPOISON_MEMORY_REGION(p, bytes)
#else
#define KEPT_POISON(p, bytes) ((void)(p), (void)(bytes))
#define KEPT_UNPOISON(p, bytes) ((void)(p), (void)(bytes))
#endif

/* Before a big block's limbs: the size of its mapping (a whole cache line,
 * so the limbs keep malloc's alignment and more). */
#define BLOCK_HEADER 64u
/* How many freed big blocks are kept for reuse: the scratch and products of
 * a few multiplications at once, for every worker thread of a process
 * (threads, OpenMP; each child or rank keeps its own). */
#define CACHED_BLOCKS 16
/* A kept block is given to a request that needs at least 1/REUSE_FRACTION
 * of it: a small number in a huge block would hold memory nobody uses. */
#define REUSE_FRACTION 2
/* GMP's blocks from this size up to FACTORIAL_BIG_BLOCK are medium blocks:
 * carved out of huge pages of their own, one size class per power of two. */
#define MEDIUM_BLOCK (64u << 10)
/* The size classes: MEDIUM_BLOCK << c for c = 0 .. MEDIUM_CLASSES - 1, the
 * last one FACTORIAL_BIG_BLOCK (a whole huge page). */
#define MEDIUM_CLASSES 6
_Static_assert((MEDIUM_BLOCK << (MEDIUM_CLASSES - 1)) == FACTORIAL_BIG_BLOCK,
               "the largest medium class is one huge page, a big block's smallest size");

/* The kept blocks, shared by the threads of a process. */
static struct {
    pthread_mutex_t lock;
    void *map[CACHED_BLOCKS];
    size_t bytes[CACHED_BLOCKS];
    unsigned count;
} kept = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* A free medium block: the next free one of its class. */
struct free_block {
    struct free_block *next;
};

/* The medium blocks, shared by the threads of a process: a list of free
 * blocks per class, and every huge page they were carved from (for a
 * fork()ed child to forget). */
static struct {
    pthread_mutex_t lock;
    struct free_block *free[MEDIUM_CLASSES];
    char **page;
    size_t pages, page_room;
} medium = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* out_of_memory: say what GMP asked for, and end the process. */
static _Noreturn void out_of_memory(const char *what, size_t bytes)
{
    report_error("out of memory: GMP asked %s %zu bytes", what, bytes);
    _exit(outcome_exit_code(OUTCOME_FAILED));
}

/* forget_kept: in a fork()ed child, the kept blocks are its parent's
 * mappings, which the child does not have; and the lock may have been held
 * by a thread that the child does not have either. Under AddressSanitizer
 * their addresses are unpoisoned: the child inherits the shadow memory that
 * says they are kept, and its own new mappings may land there. */
static void forget_kept(void)
{
    for (unsigned i = 0; i < kept.count; i++)
        KEPT_UNPOISON(kept.map[i], kept.bytes[i]);
    kept.count = 0;
    pthread_mutex_init(&kept.lock, NULL);
    for (size_t i = 0; i < medium.pages; i++)
        KEPT_UNPOISON(medium.page[i], MEMORY_HUGE_PAGE);
    for (unsigned c = 0; c < MEDIUM_CLASSES; c++)
        medium.free[c] = NULL;
    medium.pages = 0; /* the list of pages itself is malloc's: the child has its copy, and keeps the room */
    pthread_mutex_init(&medium.lock, NULL);
}

/* take_kept: the smallest kept mapping of at least bytes that the request
 * fills enough, taken out of the list; NULL when none. */
static void *take_kept(size_t bytes, size_t *mapped)
{
    void *map = NULL;
    pthread_mutex_lock(&kept.lock);
    unsigned best = kept.count;
    for (unsigned i = 0; i < kept.count; i++)
        if (kept.bytes[i] >= bytes && kept.bytes[i] / REUSE_FRACTION <= bytes &&
            (best == kept.count || kept.bytes[i] < kept.bytes[best]))
            best = i;
    if (best < kept.count) {
        map = kept.map[best];
        *mapped = kept.bytes[best];
        kept.count--;
        kept.map[best] = kept.map[kept.count];
        kept.bytes[best] = kept.bytes[kept.count];
    }
    pthread_mutex_unlock(&kept.lock);
    if (map)
        KEPT_UNPOISON(map, *mapped);
    return map;
}

/* new_mapping: a fresh mapping of bytes (a multiple of MEMORY_HUGE_PAGE) that
 * starts on a huge page: map a huge page more, and give back the ends. */
static void *new_mapping(size_t bytes)
{
    char *raw = mmap(NULL, bytes + MEMORY_HUGE_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED)
        return NULL;
    size_t head = (MEMORY_HUGE_PAGE - (uintptr_t)raw % MEMORY_HUGE_PAGE) % MEMORY_HUGE_PAGE;
    if (head > 0)
        (void)munmap(raw, head); /* only address space: a failure loses none of the block */
    (void)munmap(raw + head + bytes, MEMORY_HUGE_PAGE - head);
    (void)madvise(raw + head, bytes, MADV_HUGEPAGE); /* advice: a refusal costs speed, not results */
    (void)madvise(raw + head, bytes, MADV_DONTFORK); /* likewise: a refusal costs copy-on-write faults */
    return raw + head;
}

/* big_allocate: a big block of at least bytes: a kept one, or a new mapping. */
static void *big_allocate(size_t bytes)
{
    size_t mapped = (bytes + BLOCK_HEADER + MEMORY_HUGE_PAGE - 1) / MEMORY_HUGE_PAGE * MEMORY_HUGE_PAGE;
    char *map = take_kept(mapped, &mapped);
    if (!map)
        map = new_mapping(mapped);
    if (!map)
        out_of_memory("for", bytes);
    memcpy(map, &mapped, sizeof mapped);
    return map + BLOCK_HEADER;
}

/* big_free: keep a big block for reuse; when the list is full, give back
 * the smaller of it and the smallest kept one. */
static void big_free(void *p)
{
    char *map = (char *)p - BLOCK_HEADER;
    size_t mapped;
    memcpy(&mapped, map, sizeof mapped);
    KEPT_POISON(map, mapped);
    pthread_mutex_lock(&kept.lock);
    if (kept.count == CACHED_BLOCKS) {
        unsigned smallest = 0;
        for (unsigned i = 1; i < kept.count; i++)
            if (kept.bytes[i] < kept.bytes[smallest])
                smallest = i;
        if (kept.bytes[smallest] < mapped) {
            void *old = kept.map[smallest];
            size_t old_bytes = kept.bytes[smallest];
            kept.map[smallest] = map;
            kept.bytes[smallest] = mapped;
            map = old;
            mapped = old_bytes;
        }
    } else {
        kept.map[kept.count] = map;
        kept.bytes[kept.count++] = mapped;
        map = NULL;
    }
    pthread_mutex_unlock(&kept.lock);
    if (map)
        KEPT_UNPOISON(map, mapped); /* its addresses may be mapped again, for anything */
    if (map && munmap(map, mapped) != 0) /* a wrong address or size: a bug here, worth saying */
        report_error("munmap of %zu bytes of GMP's memory failed: %s", mapped, strerror(errno));
}

/* big_room: how many bytes a big block can hold. */
static size_t big_room(const void *p)
{
    size_t mapped;
    memcpy(&mapped, (const char *)p - BLOCK_HEADER, sizeof mapped);
    return mapped - BLOCK_HEADER;
}

/* medium_class: the size class of a medium block of bytes: the smallest
 * power of two from MEDIUM_BLOCK up that holds it. */
static unsigned medium_class(size_t bytes)
{
    unsigned c = 0;
    while ((size_t)MEDIUM_BLOCK << c < bytes)
        c++;
    return c;
}

/* carve: a new huge page cut into free blocks of class c (the lock held);
 * 0, or -1 when no memory is left. */
static int carve(unsigned c)
{
    if (medium.pages == medium.page_room) {
        size_t room = medium.page_room ? 2 * medium.page_room : 16;
        char **page = realloc(medium.page, room * sizeof *page);
        if (!page)
            return -1;
        medium.page = page;
        medium.page_room = room;
    }
    char *page = new_mapping(MEMORY_HUGE_PAGE);
    if (!page)
        return -1;
    medium.page[medium.pages++] = page;
    size_t size = (size_t)MEDIUM_BLOCK << c;
    for (size_t at = MEMORY_HUGE_PAGE; at >= size; at -= size) {
        struct free_block *block = (struct free_block *)(page + at - size);
        block->next = medium.free[c];
        medium.free[c] = block;
    }
    KEPT_POISON(page, MEMORY_HUGE_PAGE);
    return 0;
}

/* medium_allocate: a free block of bytes' class, carving a new huge page
 * when the class has none. */
static void *medium_allocate(size_t bytes)
{
    unsigned c = medium_class(bytes);
    pthread_mutex_lock(&medium.lock);
    struct free_block *block = medium.free[c];
    if (!block && carve(c) == 0)
        block = medium.free[c];
    if (block) {
        KEPT_UNPOISON(block, sizeof *block);
        medium.free[c] = block->next;
        KEPT_UNPOISON(block, (size_t)MEDIUM_BLOCK << c);
    }
    pthread_mutex_unlock(&medium.lock);
    if (!block)
        out_of_memory("for", bytes);
    return block;
}

/* medium_free: a medium block of bytes back on its class's list, for the
 * next request of its class in this process. */
static void medium_free(void *p, size_t bytes)
{
    unsigned c = medium_class(bytes);
    struct free_block *block = p;
    pthread_mutex_lock(&medium.lock);
    block->next = medium.free[c];
    medium.free[c] = block;
    /* poisoned before the lock is let go: once it is, another thread may take
     * the block and unpoison it, and a poisoning after that would be on its memory */
    KEPT_POISON(p, (size_t)MEDIUM_BLOCK << c);
    pthread_mutex_unlock(&medium.lock);
}

/* gmp_allocate: GMP's allocation function. */
static void *gmp_allocate(size_t bytes)
{
    if (bytes >= FACTORIAL_BIG_BLOCK)
        return big_allocate(bytes);
    if (bytes >= MEDIUM_BLOCK)
        return medium_allocate(bytes);
    void *p = malloc(bytes);
    if (!p)
        out_of_memory("for", bytes);
    return p;
}

/* gmp_free: GMP's free function; GMP says how big the block is, and so
 * which of the three kinds. */
static void gmp_free(void *p, size_t bytes)
{
    if (bytes >= FACTORIAL_BIG_BLOCK)
        big_free(p);
    else if (bytes >= MEDIUM_BLOCK)
        medium_free(p, bytes);
    else
        free(p);
}

/* block_kind: which of the three kinds a block of bytes is: 0 small, 1 medium, 2 big. */
static int block_kind(size_t bytes)
{
    return bytes >= FACTORIAL_BIG_BLOCK ? 2 : bytes >= MEDIUM_BLOCK ? 1 : 0;
}

/* gmp_reallocate: GMP's reallocation function: in place where the block
 * has room (malloc's realloc for small blocks), otherwise a new block of
 * the right kind and a copy. */
static void *gmp_reallocate(void *old, size_t old_bytes, size_t new_bytes)
{
    int old_kind = block_kind(old_bytes), new_kind = block_kind(new_bytes);
    if (old_kind == 0 && new_kind == 0) {
        void *p = realloc(old, new_bytes);
        if (!p)
            out_of_memory("to grow a block to", new_bytes);
        return p;
    }
    if (old_kind == 2 && new_kind == 2 && new_bytes <= big_room(old))
        return old;
    if (old_kind == 1 && new_kind == 1 && medium_class(old_bytes) == medium_class(new_bytes))
        return old;
    void *p = gmp_allocate(new_bytes);
    memcpy(p, old, old_bytes < new_bytes ? old_bytes : new_bytes);
    gmp_free(old, old_bytes);
    return p;
}

enum outcome factorial_memory_use(void)
{
    static int registered; /* prepare runs once per process, before any thread or child */
    if (!registered) {
        int error = pthread_atfork(NULL, NULL, forget_kept);
        if (error != 0) {
            report_error("pthread_atfork failed: %s", strerror(error));
            return OUTCOME_FAILED;
        }
        registered = 1;
    }
    mp_set_memory_functions(gmp_allocate, gmp_reallocate, gmp_free);
    return OUTCOME_OK;
}
