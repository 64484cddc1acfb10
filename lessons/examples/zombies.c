/* lessons/examples/zombies.c — a parent forks workers and never reaps them: they linger as zombies.
 *
 * Run:   bin/lessons/zombies -p 4
 * Shows: "zombies=4". A child that has exited keeps its process-table entry
 *        (its pid and exit status) until its parent collects it with wait();
 *        until then it is a zombie (state Z in ps). A long-running parent that
 *        forgets leaks one entry per child until fork() fails. The fix reaps
 *        each child with waitpid(): zombies_fixed.c (diff -u the two).
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

/* wait_for_exit: block until the child has exited, without reaping it
 * (WNOWAIT), so what follows sees exactly what a forgetful parent leaves. */
static void wait_for_exit(pid_t child)
{
    siginfo_t info;
    while (waitid(P_PID, (id_t)child, &info, WEXITED | WNOWAIT) < 0 && errno == EINTR)
        ;
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
    /* ... the parent carries on with other work and never calls wait() ... */
    int zombies = 0;
    for (long c = 0; c < children; c++) {
        wait_for_exit(child[c]);
        zombies += state(child[c]) == 'Z';
    }
    printf("zombies=%d children=%ld\n", zombies, children);
    return zombies == 0 ? 0 : 1;
}
