#define _GNU_SOURCE
#include "CTFTPShims.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__linux__)
#include <linux/openat2.h>
#endif

int ctftp_open_beneath(int dirfd, const char *path, int flags, int no_symlinks) {
#if defined(__linux__) && defined(SYS_openat2)
    struct open_how how;
    memset(&how, 0, sizeof(how));
    how.flags = (unsigned long long)flags;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
    if (no_symlinks) {
        how.resolve |= RESOLVE_NO_SYMLINKS;
    }
    /* EAGAIN: a concurrent rename raced the lookup; retry a few times. */
    long fd = -1;
    for (int attempt = 0; attempt < 8; attempt++) {
        fd = syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
        if (fd >= 0 || errno != EAGAIN) {
            break;
        }
    }
    return (int)fd;
#else
    (void)dirfd; (void)path; (void)flags; (void)no_symlinks;
    errno = ENOSYS;
    return -1;
#endif
}

int ctftp_o_path(void) {
#ifdef O_PATH
    return O_PATH;
#else
    return 0;
#endif
}
