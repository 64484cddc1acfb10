/* tools/cma_probe.c — may one process read another's memory here (Linux cross-memory attach)?
 *
 * Open MPI's shared-memory transport copies large messages with
 * process_vm_readv; containers often forbid it, and then every big message
 * fails. tools/mpirun runs this first and, on exit status 1, tells Open MPI
 * to copy through shared memory instead. Exit 0: allowed.
 */
#include <errno.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

/* The value the child reads out of its parent. */
#define SECRET 0x5eed

int main(void)
{
    static volatile int secret = SECRET;
    pid_t parent = getpid();
    pid_t child = fork();
    if (child < 0)
        return 1;
    if (child == 0) {
        int value = 0;
        struct iovec local = {&value, sizeof value}, remote = {(void *)&secret, sizeof secret};
        ssize_t got = process_vm_readv(parent, &local, 1, &remote, 1, 0);
        _exit(got == (ssize_t)sizeof value && value == SECRET ? 0 : 1);
    }
    int status;
    while (waitpid(child, &status, 0) < 0)
        if (errno != EINTR)
            return 1;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
