/* common/matmul.h — dense matrix multiply C = A·B: the problem, the one kernel, the check.
 *
 * Every model (serial/, threads/, processes/, openmp/, mpi/matmul.c) calls the
 * same kernel, matmul_rows, on a different split of C's rows, so a difference
 * in speed between models is the model's doing, not the arithmetic's.
 *
 * Inputs are small whole numbers stored as doubles. The arithmetic is that of
 * any doubles (same instructions, same speed), but every product and partial
 * sum is exact, so any correct order of summation, blocked, naive, threaded or
 * OpenBLAS, gives the same bits, and the check can demand exact equality.
 *
 * The models, each serial/matmul.c plus one idea (diff -u serial/matmul.c MODEL/matmul.c):
 *   serial/matmul.c     one thread, the blocks of rows one after another: the baseline
 *   threads/matmul.c    one POSIX thread per block of rows
 *   processes/matmul.c  one fork()ed child per block, its rows copied into C in shared memory
 *   openmp/matmul.c     a parallel for over the blocks of rows
 *   mpi/matmul.c        ranks: A's rows by Scatterv, B by Bcast, C back by Gatherv
 *   reference/matmul.c  OpenBLAS dgemm, what you would use instead
 * Each runs as bin/matmul-MODEL (bin/matmul-blas for the reference); any of
 * them takes --kernel naive for the textbook triple loop instead.
 * What they share: common/matmul_kernel.c (the kernel), common/matmul.c
 * (inputs, memory, the check), common/run.c (timing, result lines),
 * common/cli.c (flags); processes/ also common/child.c (forking and
 * reaping), mpi/ common/team_mpi.c (barrier, max over ranks, leaving
 * together) and common/rank_rows.c (every rank's rows).
 */
#ifndef MATMUL_H
#define MATMUL_H

#include <stddef.h>

#include "cli.h"
#include "memory.h"
#include "rank_rows.h"
#include "run.h"

/* The kernels --kernel chooses between (the order of matmul_kernel_names). */
enum matmul_kernel {
    KERNEL_BLOCKED, /* packed, cache-blocked, register-tiled: the one all models use */
    KERNEL_NAIVE,   /* the textbook triple loop, for the lesson on why blocking matters */
    KERNEL_OPENBLAS, /* cblas_dgemm: only the reference lane, reference/matmul.c */
};

/* The builds of the blocked kernel's micro-tile (the order of matmul_isa_names). */
enum matmul_isa {
    MATMUL_ISA_PORTABLE, /* C that any C11 compiler builds: the fallback everywhere */
    MATMUL_ISA_AVX2,     /* x86 AVX2 + FMA intrinsics, 256-bit vectors */
    MATMUL_ISA_AVX512,   /* x86 AVX-512 intrinsics, 512-bit vectors */
};

/* The names result lines (isa=) and --isa use; NULL-terminated. */
extern const char *const matmul_isa_names[];

/* How the blocked kernel cuts the work: its tile (mr × nr values of C in
 * registers) and its blocks (kc deep, mc rows of A, nc columns of B). */
struct matmul_blocking {
    enum matmul_isa isa;
    size_t mr, nr, kc, mc, nc;
};

/* matmul_isa_detect: the widest build this CPU runs. */
enum matmul_isa matmul_isa_detect(void);

/* matmul_isa_runs_here: 1 if this CPU can run that build. */
int matmul_isa_runs_here(enum matmul_isa isa);

/* matmul_blocking: the tile of that build, and blocks sized from this
 * machine's caches (MATMUL_KC, MATMUL_MC, MATMUL_NC override them for tuning). */
struct matmul_blocking matmul_blocking(enum matmul_isa isa);

/* matmul_tuning_check: OUTCOME_USAGE, said, when MATMUL_KC, MATMUL_MC or
 * MATMUL_NC is set to anything but a whole number from 1 to 4096. */
enum outcome matmul_tuning_check(void);

/* A worker's packing buffers: the copies of A's and B's blocks its kernel reads. */
struct matmul_scratch {
    double *a, *b;
    size_t a_bytes, b_bytes;
};

/* One multiplication and what it needs. */
struct matmul {
    size_t n;                  /* order of the square matrices */
    enum matmul_kernel kernel;
    struct matmul_blocking blocking; /* the blocked kernel's build and blocks */
    unsigned workers;          /* -p: how many blocks the model cuts C's rows into */
    unsigned local;            /* how many of those workers run in this address space */
    double *a, *b, *c;         /* n×n, row-major; c is the result */
    enum memory c_memory;      /* where c, span and copied live (shared for fork()ed children) */
    struct span *span;         /* per local worker: its time in the kernel */
    double *copied;            /* per local worker: when its rows were in C (matmul_block_apart) */
    struct matmul_scratch *scratch; /* per local worker, allocated once, outside the timer (empty for
                                    * MATMUL_CHILDREN: each child allocates its own) */
    double *reference;         /* A·B by a separate loop, made on the first exact check */
    unsigned long long seed;
    /* MPI (MATMUL_RANK): this rank's block of rows, and every rank's for Scatterv and Gatherv */
    struct rank_rows rows;
    double *a_rows, *c_rows;   /* this rank's rows of A and C (rows.count × n each) */
};

extern const struct workload matmul_workload;

/* Which part of the problem a process holds. */
enum matmul_part {
    MATMUL_ALL_WORKERS, /* A, B, C, and scratch for every worker: threads, OpenMP */
    MATMUL_CHILDREN,    /* A, B, C, no scratch: processes, whose children make their own */
    MATMUL_RANK,        /* an MPI rank: B (rank 0 generates it, the others receive it), its own
                         * rows of A and C, scratch for one worker; A and C whole on rank 0 */
};

/* matmul_prepare: allocate the part this process holds, and generate A and B
 * from the seed where it holds them; all outside any timed region. */
enum outcome matmul_prepare(struct matmul *m, const struct options *opt, enum memory c_memory,
                            enum matmul_part part);

/* matmul_release: free what matmul_prepare allocated. */
void matmul_release(struct matmul *m);

/* matmul_rows: the kernel. c = a·B for `rows` rows, where a and c point at the
 * first of those rows (n doubles each) and B is m->b, using the scratch of
 * local worker `worker` and stamping its span. */
void matmul_rows(const struct matmul *m, unsigned worker, const double *a, double *c, size_t rows);

/* matmul_block: the kernel on the index-th of the m->workers blocks of C's rows. */
void matmul_block(const struct matmul *m, unsigned index);

/* matmul_block_apart: matmul_block for a fork()ed child, which writes no page
 * of C itself. It multiplies into fresh memory of its own, with fresh packing
 * buffers, then copies its rows into C with memory_write_shared and stamps
 * m->copied[index]. A new process pays for the first touch of every page it
 * maps: a page fault, and under a hypervisor often a trip out of the virtual
 * machine too, some microseconds each. C's shared pages are 4 KiB (4,096 per
 * child at n = 2048, P = 2), and the parent's packing buffers would be copied
 * 4 KiB at a time on the child's first write; memory of its own comes in
 * 2 MiB pages, and the copy goes through the kernel's mapping of C.
 * OUTCOME_OK, or OUTCOME_FAILED after saying why. */
enum outcome matmul_block_apart(const struct matmul *m, unsigned index);

/* matmul_phases_copied: after phases_from_spans for `count` children that ran
 * matmul_block_apart: comm, the longest copy into C; combine, from the last
 * copy (not the last kernel) to now. */
void matmul_phases_copied(struct phases *phases, const struct matmul *m, unsigned count);

/* matmul_scratch_alloc: packing buffers for a worker of up to `rows` rows
 * (sized by the kernel's blocking); matmul_scratch_free gives them back. */
enum outcome matmul_scratch_alloc(struct matmul_scratch *scratch, const struct matmul_blocking *blocking,
                                  size_t n, size_t rows);

/* matmul_scratch_bytes: what matmul_scratch_alloc takes for those sizes. */
size_t matmul_scratch_bytes(const struct matmul_blocking *blocking, size_t n, size_t rows);
void matmul_scratch_free(struct matmul_scratch *scratch);

/* matmul_reset_rows: fill rows of a result with NaN, so rows nobody wrote fail the check. */
void matmul_reset_rows(double *c, size_t rows, size_t n);

/* The matmul task for runs_repeat: reset (C, and an MPI rank's own rows of C:
 * a rank that skipped its work must not send back the last run's right
 * answer), verify, corrupt, figures (gflops=). */
extern const struct task matmul_task;

#endif
