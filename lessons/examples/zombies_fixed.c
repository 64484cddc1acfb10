/* lessons/examples/zombies_fixed.c — the same parent, reaping every worker with waitpid().
 *
 * Run:   bin/lessons/zombies_fixed -p 4
 * Shows: "zombies=0". waitpid() collects the child's exit status (which a real
 *        parent should check) and frees its process-table entry. The bug: zombies.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_CHILDREN 64

/* state: a process's state letter from /proc/PID/stat ('Z' for a zombie), or '?'. */
static char state(pid_t pid)
{
    char path[64], text[512];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return '?';
    size_t got = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[got] = '\0';
    char *after_name = strrchr(text, ')'); /* "PID (name) STATE ..." */
    return after_name && after_name[1] == ' ' ? after_name[2] : '?';
}

int main(int argc, char **argv)
{
    long children = 4;
    char *end = NULL;
    if (argc == 3 && strcmp(argv[1], "-p") == 0)
        children = strtol(argv[2], &end, 10);
    if ((argc != 1 && argc != 3) || (end && *end)) {
        fprintf(stderr, "usage: %s [-p CHILDREN]\n", argv[0]);
        return 2;
    }
    if (children < 1 || children > MAX_CHILDREN) {
        fprintf(stderr, "-p: a whole number from 1 to %d\n", MAX_CHILDREN);
        return 2;
    }
    pid_t child[MAX_CHILDREN];
    for (long c = 0; c < children; c++) {
        child[c] = fork();
        if (child[c] < 0) {
            fprintf(stderr, "fork: %s\n", strerror(errno));
            return 1;
        }
        if (child[c] == 0)
            _exit(0); /* the worker's whole job, for this example */
    }
    for (long c = 0; c < children; c++) { /* reap every child, and check how it ended */
        int status;
        while (waitpid(child[c], &status, 0) < 0)
            if (errno != EINTR) {
                fprintf(stderr, "waitpid: %s\n", strerror(errno));
                return 1;
            }
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            fprintf(stderr, "child %d failed\n", (int)child[c]);
    }
    int zombies = 0;
    for (long c = 0; c < children; c++)
        zombies += state(child[c]) == 'Z'; /* a reaped child has no /proc entry left */
    printf("zombies=%d children=%ld\n", zombies, children);
    return zombies == 0 ? 0 : 1;
}
