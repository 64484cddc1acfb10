/* common/child.c — waiting for a fork()ed worker and saying how it ended (see child.h). */
#include "child.h"

#include <errno.h>
#include <string.h>
#include <sys/wait.h>

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
