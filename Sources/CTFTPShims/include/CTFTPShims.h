#ifndef CTFTPSHIMS_H
#define CTFTPSHIMS_H

/// Opens `path` beneath the directory `dirfd` with openat2(2) and
/// RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS (plus RESOLVE_NO_SYMLINKS when
/// `no_symlinks` is non-zero). Returns the descriptor, or -1 with errno set:
/// EXDEV for a name or symlink that escapes, ENOSYS where the kernel lacks openat2.
int ctftp_open_beneath(int dirfd, const char *path, int flags, int no_symlinks);

/// O_PATH, which Glibc's Swift overlay does not export without _GNU_SOURCE.
int ctftp_o_path(void);

#endif
