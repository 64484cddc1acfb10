/* common/fdio.h — whole reads and writes on file descriptors, through short counts and signals.
 *
 * read(), write(), pread() and pwrite() may move fewer bytes than asked (a
 * pipe, a socket, a nearly full disk) and may be cut short by a signal
 * (EINTR). These loops turn that into "all of it, or an error in errno", so
 * no caller writes the loop again.
 */
#ifndef FDIO_H
#define FDIO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* fdio_write_all: write bytes of buf to fd; 0, or -1 with errno set. */
int fdio_write_all(int fd, const void *buf, size_t bytes);

/* fdio_pwrite_all: write bytes of buf at offset of fd; 0, or -1 with errno
 * set (ENOSPC when the file takes no more). */
int fdio_pwrite_all(int fd, const void *buf, size_t bytes, uint64_t offset);

/* fdio_read_full: read up to bytes from fd, stopping early only at end of
 * file; the count read (0 at end of file), or -1 with errno set. */
ssize_t fdio_read_full(int fd, void *buf, size_t bytes);

/* fdio_pread: one pread of up to bytes at offset, retried after a signal;
 * the count read (0 at end of file), or -1 with errno set. */
ssize_t fdio_pread(int fd, void *buf, size_t bytes, uint64_t offset);

/* fdio_keep_standard: open /dev/null on whichever of descriptors 0, 1 and 2
 * the program was started without (`>&-`, `2>&-`): read-only on 0 and 1, so
 * a write to stdout fails with EBADF as on a closed descriptor, write-only on
 * 2, so messages are lost as on a closed stderr. Without it, the next file
 * the program opens (a memory file, a download's output) gets the number,
 * and the result line or a message goes into it. 0, or -1 with errno set. */
int fdio_keep_standard(void);

#endif
