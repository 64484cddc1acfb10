/* common/child.c — starting a fork()ed worker bound to its parent, and reaping it (see child.h). */
#include "child.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

pid_t child_fork(unsigned index)
{
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        report_error("fork for worker %u failed: %s", index, strerror(errno));
        return -1;
    }
    if (pid == 0) {
        /* From here on the kernel sends this child SIGKILL when its parent dies. */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) {
            report_error("prctl(PR_SET_PDEATHSIG) for worker %u failed: %s", index, strerror(errno));
            _exit(outcome_exit_code(OUTCOME_FAILED));
        }
        /* The parent may have died between fork and prctl: then nobody would
         * send the signal, and this child has nobody left to work for. */
        if (getppid() != parent)
            _exit(outcome_exit_code(OUTCOME_FAILED));
    }
    return pid;
}

enum outcome child_reap(pid_t child, unsigned index)
{
    int status;
    while (waitpid(child, &status, 0) < 0)
        if (errno != EINTR) {
            report_error("waitpid for worker %u (pid %d) failed: %s", index, (int)child, strerror(errno));
            return OUTCOME_FAILED;
        }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return OUTCOME_OK;
    if (WIFSIGNALED(status))
        report_error("worker %u (pid %d) was killed by signal %d", index, (int)child, WTERMSIG(status));
    else
        report_error("worker %u (pid %d) exited with status %d", index, (int)child, WEXITSTATUS(status));
    return OUTCOME_FAILED;
}
