#ifndef CTFTPSHIMS_H
#define CTFTPSHIMS_H

#include <stddef.h>
#include <stdint.h>

#if defined(__linux__)
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <netinet/in.h>
#endif

/// Opens `path` beneath the directory `dirfd` with openat2(2) and
/// RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS (plus RESOLVE_NO_SYMLINKS when
/// `no_symlinks` is non-zero). Returns the descriptor, or -1 with errno set:
/// EXDEV for a name or symlink that escapes, ENOSYS where the kernel lacks openat2.
int ctftp_open_beneath(int dirfd, const char *path, int flags, int no_symlinks);

/// O_PATH, which Glibc's Swift overlay does not export without _GNU_SOURCE.
int ctftp_o_path(void);

/// fstat(2) as the system call itself. Glibc 2.36's fstat() is fstatat(fd, "", AT_EMPTY_PATH),
/// which the kernel serves through a path lookup of the empty name: in a profile of 1 KB
/// transfers it cost four times the plain call (docs/performance.md, "Per packet and per
/// transfer").
/// Returns 0, or -1 with errno set.
int ctftp_fstat(int fd, struct stat *out);

#if defined(__linux__)

/// Steers a SO_REUSEPORT group's datagrams (`fd` is one of its sockets): with `first_only`
/// non-zero every one goes to the group's first socket (a classic BPF program `ret #0`),
/// otherwise the kernel spreads them by its hash again (`ret #0xffffffff`, no such socket).
/// Returns 0, or -1 with errno set (EINVAL: `fd` is in no group).
int ctftp_reuseport_steer(int fd, int first_only);

/// The most datagrams one UDP_SEGMENT (GSO) message may carry on every kernel that has it.
#define CTFTP_GSO_MAX_SEGMENTS 64
/// The most UDP payload bytes in one message (IPv4's limit, the smaller of the two).
#define CTFTP_MAX_UDP_PAYLOAD 65507

/// Sends `count` datagrams laid out back to back from `base` to the address `to`: each is
/// `frame` bytes except the last, which is `last` bytes. With `gso` non-zero, runs of
/// datagrams go out as single UDP_SEGMENT messages (the kernel cuts them apart); all the
/// messages of one call go out with one sendmmsg(2), at most 64 messages per call.
///
/// Returns how many datagrams the kernel took (possibly fewer than `count`: call again
/// for the rest), or -1 with errno set when it took none (EAGAIN: the send buffer is full).
int ctftp_send_frames(int fd, const struct sockaddr *to, socklen_t to_length, const uint8_t *base, size_t frame,
                      size_t count, size_t last, int gso);

/// Receives up to `count` datagrams with one recvmmsg(2) into slots of `slot_size` bytes
/// from `base`; for each, its length, its source address and the address's length.
/// MSG_DONTWAIT. Returns how many arrived, or -1 with errno set (EAGAIN: none waiting).
int ctftp_receive_batch(int fd, uint8_t *base, size_t slot_size, unsigned count, size_t *lengths,
                        struct sockaddr_storage *sources, socklen_t *source_lengths);

/// preadv2(2) with RWF_NOWAIT: reads only what is in the page cache. Returns the bytes
/// read, or -1 with errno set: EAGAIN when the data must come from the device,
/// EOPNOTSUPP where the file system (or the kernel, before 4.14) cannot say.
ssize_t ctftp_preadv_nowait(int fd, const struct iovec *vectors, int count, off_t offset);

/// Names the calling thread (at most 15 bytes are kept), for top -H, ps and perf.
void ctftp_name_thread(const char *name);

/// Whether this kernel accepts UDP_SEGMENT (UDP GSO, Linux 4.18).
int ctftp_udp_segment_supported(void);

/// epoll_event's fields, which Swift cannot reach reliably in the packed struct of x86-64.
uint32_t ctftp_epoll_events(const struct epoll_event *event);
uint64_t ctftp_epoll_data(const struct epoll_event *event);
int ctftp_epoll_add(int epoll_fd, int fd, uint32_t events, uint64_t data);
int ctftp_epoll_modify(int epoll_fd, int fd, uint32_t events, uint64_t data);

#endif

#endif
