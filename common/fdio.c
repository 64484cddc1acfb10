/* common/fdio.c — whole reads and writes on file descriptors (see fdio.h). */
#include "fdio.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

int fdio_write_all(int fd, const void *buf, size_t bytes)
{
    const char *p = buf;
    while (bytes > 0) {
        ssize_t n = write(fd, p, bytes);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        p += n;
        bytes -= (size_t)n;
    }
    return 0;
}

int fdio_pwrite_all(int fd, const void *buf, size_t bytes, uint64_t offset)
{
    const char *p = buf;
    while (bytes > 0) {
        ssize_t n = pwrite(fd, p, bytes, (off_t)offset);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n == 0)
                errno = ENOSPC;
            return -1;
        }
        p += n;
        bytes -= (size_t)n;
        offset += (uint64_t)n;
    }
    return 0;
}

ssize_t fdio_read_full(int fd, void *buf, size_t bytes)
{
    char *p = buf;
    size_t got = 0;
    while (got < bytes) {
        ssize_t n = read(fd, p + got, bytes - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0)
            break;
        got += (size_t)n;
    }
    return (ssize_t)got;
}

ssize_t fdio_pread(int fd, void *buf, size_t bytes, uint64_t offset)
{
    ssize_t n;
    do
        n = pread(fd, buf, bytes, (off_t)offset);
    while (n < 0 && errno == EINTR);
    return n;
}

int fdio_keep_standard(void)
{
    for (int fd = STDIN_FILENO; fd <= STDERR_FILENO; fd++) {
        if (fcntl(fd, F_GETFD) != -1 || errno != EBADF)
            continue;
        /* every lower one is open by now, so open() gives back fd itself */
        int got = open("/dev/null", fd == STDERR_FILENO ? O_WRONLY : O_RDONLY);
        if (got < 0)
            return -1;
        if (got != fd) { /* a descriptor taken between the two calls: not by this single thread, but be sure */
            int moved = dup2(got, fd);
            close(got);
            if (moved < 0)
                return -1;
        }
    }
    return 0;
}
