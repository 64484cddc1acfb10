/* common/fdio.c — whole reads and writes on file descriptors (see fdio.h). */
#include "fdio.h"

#include <errno.h>
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
