/* processes/matmul.c — dense matrix multiply C = A·B with fork(): one child process per block of rows.
 *
 * The idea: serial's loop over blocks of rows becomes one fork() per block
 * (child_fork, which also makes the child die with its parent) and a loop
 * that reaps the children with waitpid() (child_reap). A child has its own
 * address space: it reads A and B through the copy-on-write pages it
 * inherited, and its rows of C must end up in memory mapped MAP_SHARED
 * (MEMORY_SHARED below), the only place its parent can see them. It
 * multiplies into memory of its own and then copies its rows into C in one
 * pwrite() (matmul_block_apart): writing C's shared pages directly would
 * cost a first touch per 4 KiB page, which in a new process is a page fault
 * and, under a hypervisor, often much more (lesson 3). The copy is this
 * model's communication (comm=). C has a memory file per child where the
 * blocks begin on pages, so the copies need not take turns (c_files=).
 *
 * Run:    bin/matmul-processes -n 1024 -p 2 -r 5
 * Models: common/matmul.h lists every model of this workload, and the code they share.
 */
#include <stdlib.h>
#include <unistd.h>

#include "child.h"
#include "matmul.h"

#define MODEL "processes"

/* multiply: C = A·B, the blocks of rows shared out among m->workers child
 * processes, one block each; forking them, their copies into C and reaping
 * them are part of the time. */
static enum outcome multiply(void *work, struct phases *phases)
{
    struct matmul *m = work;
    pid_t *children = calloc(m->workers, sizeof *children);
    if (!children) {
        report_error("out of memory for %u process ids", m->workers);
        return OUTCOME_FAILED;
    }
    enum outcome o = OUTCOME_OK;
    unsigned started = 0;
    double start = clock_now();
    for (unsigned w = 0; w < m->workers; w++, started++) {
        pid_t pid = child_fork(w); /* fork(), the child bound to die with this process */
        if (pid < 0) {
            o = OUTCOME_FAILED;
            break;
        }
        if (pid == 0) /* the child: its rows, copied into C; _exit (no stdio flush) */
            _exit(matmul_block_apart(m, w) == OUTCOME_OK ? 0 : 1);
        children[w] = pid;
    }
    for (unsigned w = 0; w < started; w++)
        if (child_reap(children[w], w) != OUTCOME_OK)
            o = OUTCOME_FAILED;
    phases_from_spans(phases, start, m->span, started);
    matmul_phases_copied(phases, m, started); /* the copies into C: comm */
    free(children);
    return o;
}

int main(int argc, char **argv)
{
    /* ---- parse ---- */
    struct options opt;
    enum outcome o = options_parse(&opt, argc, argv, &matmul_workload, MODEL, MANY_WORKERS);

    /* ---- prepare: A and B from the seed, outside the timed region ---- */
    struct matmul m = {0};
    if (o == OUTCOME_OK)
        o = matmul_prepare(&m, &opt, MEMORY_SHARED, MATMUL_CHILDREN);

    /* ---- run, verify, report: warm-up runs, then one result line per timed run ---- */
    if (o == OUTCOME_OK)
        o = runs_repeat(&opt, &matmul_task, &m, multiply);
    matmul_release(&m);
    return outcome_exit_code(o);
}
