/* common/child.h — the life of a fork()ed worker, for the processes/ programs: started, then reaped. */
#ifndef CHILD_H
#define CHILD_H

#include <sys/types.h>

#include "report.h"

/* child_fork: fork() for worker `index`, the child bound to die with this
 * process: when the parent dies, even by SIGKILL (the OOM killer, a batch
 * system, an impatient user), the kernel kills the child too, instead of
 * leaving it running on as an orphan. Returns as fork() does: the child's
 * pid in the parent, 0 in the child; -1 after saying why fork failed.
 * Call it from the thread that reaps the child: the signal comes when that
 * thread ends (prctl(2), PR_SET_PDEATHSIG). */
pid_t child_fork(unsigned index);

/* child_reap: wait for worker `index` (process `child`) to end, retrying
 * waitpid after a signal; OUTCOME_OK if it exited 0, otherwise say how it
 * ended (its status, or the signal that killed it) and OUTCOME_FAILED.
 * Every child must be reaped once, or it stays a zombie until we exit. */
enum outcome child_reap(pid_t child, unsigned index);

#endif
