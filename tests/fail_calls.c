/* tests/fail_calls.c — make one C library call fail, to prove that a program checks it (LD_PRELOAD).
 *
 * Run:    LD_PRELOAD=build/fail_calls.so FAIL_CALL=munmap bin/matmul-processes -n 8 -p 2
 * FAIL_CALL names the call that fails, every time, with EINVAL and without
 * doing anything: munmap, prctl, pwrite or memfd_create; or pthread_create,
 * with EAGAIN (no more threads), after the first FAIL_AFTER calls (default 0)
 * have gone through. Every other call reaches the C library.
 * Calls the C library makes inside itself are not affected, only a
 * program's own (tests/test_checked_calls.py). Not for the sanitizer builds:
 * their runtime must come first.
 */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/types.h>

/* failing: whether FAIL_CALL names this call. */
static int failing(const char *call)
{
    const char *chosen = getenv("FAIL_CALL");
    return chosen && strcmp(chosen, call) == 0;
}

/* next: the C library's own function of that name. */
static void *next(const char *call)
{
    void *real = dlsym(RTLD_NEXT, call);
    if (!real)
        abort(); /* no such call below us: nothing sensible to do */
    return real;
}

int munmap(void *addr, size_t length)
{
    if (failing("munmap")) {
        errno = EINVAL;
        return -1;
    }
    int (*real)(void *, size_t) = (int (*)(void *, size_t))next("munmap");
    return real(addr, length);
}

int prctl(int option, ...)
{
    va_list args;
    va_start(args, option);
    unsigned long arg2 = va_arg(args, unsigned long), arg3 = va_arg(args, unsigned long);
    unsigned long arg4 = va_arg(args, unsigned long), arg5 = va_arg(args, unsigned long);
    va_end(args);
    if (failing("prctl")) {
        errno = EINVAL;
        return -1;
    }
    int (*real)(int, ...) = (int (*)(int, ...))next("prctl");
    return real(option, arg2, arg3, arg4, arg5);
}

ssize_t pwrite(int fd, const void *buf, size_t count, off_t offset)
{
    if (failing("pwrite")) {
        errno = EINVAL;
        return -1;
    }
    ssize_t (*real)(int, const void *, size_t, off_t) =
        (ssize_t(*)(int, const void *, size_t, off_t))next("pwrite");
    return real(fd, buf, count, offset);
}

int memfd_create(const char *name, unsigned int flags)
{
    if (failing("memfd_create")) {
        errno = EINVAL;
        return -1;
    }
    int (*real)(const char *, unsigned int) = (int (*)(const char *, unsigned int))next("memfd_create");
    return real(name, flags);
}

int pthread_create(pthread_t *thread, const pthread_attr_t *attr, void *(*start)(void *), void *arg)
{
    static atomic_ulong calls;
    const char *after = getenv("FAIL_AFTER");
    if (failing("pthread_create") && atomic_fetch_add(&calls, 1) >= (after ? strtoul(after, NULL, 10) : 0))
        return EAGAIN;
    int (*real)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *) =
        (int (*)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *))next("pthread_create");
    return real(thread, attr, start, arg);
}
