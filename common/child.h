/* common/child.h — waiting for a fork()ed worker, for the processes/ programs. */
#ifndef CHILD_H
#define CHILD_H

#include <sys/types.h>

#include "report.h"

/* child_reap: wait for worker `index` (process `child`) to end, retrying
 * waitpid after a signal; OUTCOME_OK if it exited 0, otherwise say how it
 * ended (its status, or the signal that killed it) and OUTCOME_FAILED.
 * Every child must be reaped once, or it stays a zombie until we exit. */
enum outcome child_reap(pid_t child, unsigned index);

#endif
