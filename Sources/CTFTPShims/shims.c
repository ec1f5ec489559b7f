#define _GNU_SOURCE
#include "CTFTPShims.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__linux__)
#include <linux/filter.h>
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

int ctftp_fstat(int fd, struct stat *out) {
#if defined(__linux__) && (defined(__x86_64__) || defined(__aarch64__))
    // On these two the kernel's struct stat is Glibc's.
    return (int)syscall(SYS_fstat, fd, out);
#else
    return fstat(fd, out);
#endif
}

int ctftp_o_path(void) {
#ifdef O_PATH
    return O_PATH;
#else
    return 0;
#endif
}

#if defined(__linux__)
#include <netinet/udp.h>
#include <pthread.h>

#ifndef SOL_UDP
#define SOL_UDP 17
#endif
#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif

enum { CTFTP_MAX_MESSAGES = 64 };

int ctftp_send_frames(int fd, const struct sockaddr *to, socklen_t to_length, const uint8_t *base, size_t frame,
                      size_t count, size_t last, int gso) {
    struct mmsghdr messages[CTFTP_MAX_MESSAGES];
    struct iovec vectors[CTFTP_MAX_MESSAGES];
    union {
        char bytes[CMSG_SPACE(sizeof(uint16_t))];
        struct cmsghdr align;
    } controls[CTFTP_MAX_MESSAGES];
    size_t datagrams_in[CTFTP_MAX_MESSAGES];
    size_t per_message = 1;
    if (gso && count > 1 && frame <= CTFTP_MAX_UDP_PAYLOAD / 2) {
        per_message = CTFTP_MAX_UDP_PAYLOAD / frame;
        if (per_message > CTFTP_GSO_MAX_SEGMENTS) {
            per_message = CTFTP_GSO_MAX_SEGMENTS;
        }
    }
    unsigned used = 0;
    size_t covered = 0;
    while (covered < count && used < CTFTP_MAX_MESSAGES) {
        size_t n = count - covered;
        if (n > per_message) {
            n = per_message;
        }
        size_t bytes = (n - 1) * frame + (covered + n == count ? last : frame);
        struct msghdr *header = &messages[used].msg_hdr;
        memset(header, 0, sizeof(*header));
        header->msg_name = (void *)to;
        header->msg_namelen = to_length;
        vectors[used].iov_base = (void *)(base + covered * frame);
        vectors[used].iov_len = bytes;
        header->msg_iov = &vectors[used];
        header->msg_iovlen = 1;
        if (n > 1) {
            header->msg_control = controls[used].bytes;
            header->msg_controllen = sizeof(controls[used].bytes);
            struct cmsghdr *control = CMSG_FIRSTHDR(header);
            control->cmsg_level = SOL_UDP;
            control->cmsg_type = UDP_SEGMENT;
            control->cmsg_len = CMSG_LEN(sizeof(uint16_t));
            uint16_t size = (uint16_t)frame;
            memcpy(CMSG_DATA(control), &size, sizeof(size));
        }
        datagrams_in[used] = n;
        used++;
        covered += n;
    }
    int sent;
    if (used == 1 && datagrams_in[0] == 1) {
        /* One datagram (lockstep): sendto, which spares the kernel copying a msghdr and
           an iovec from user memory (about 1.5% of a storm's server CPU in its profile;
           docs/performance.md, "Per packet and per transfer"). */
        ssize_t n;
        do {
            n = sendto(fd, vectors[0].iov_base, vectors[0].iov_len, MSG_DONTWAIT, to, to_length);
        } while (n < 0 && errno == EINTR);
        sent = n < 0 ? -1 : 1;
    } else if (used == 1) {
        /* One message (a window that fits one GSO message): plain sendmsg. */
        ssize_t n;
        do {
            n = sendmsg(fd, &messages[0].msg_hdr, MSG_DONTWAIT);
        } while (n < 0 && errno == EINTR);
        sent = n < 0 ? -1 : 1;
    } else {
        do {
            sent = sendmmsg(fd, messages, used, MSG_DONTWAIT);
        } while (sent < 0 && errno == EINTR);
    }
    if (sent < 0) {
        return -1;
    }
    size_t datagrams = 0;
    for (int i = 0; i < sent; i++) {
        datagrams += datagrams_in[i];
    }
    return (int)datagrams;
}

int ctftp_receive_batch(int fd, uint8_t *base, size_t slot_size, unsigned count, size_t *lengths,
                        struct sockaddr_storage *sources, socklen_t *source_lengths) {
    struct mmsghdr messages[CTFTP_MAX_MESSAGES];
    struct iovec vectors[CTFTP_MAX_MESSAGES];
    if (count > CTFTP_MAX_MESSAGES) {
        count = CTFTP_MAX_MESSAGES;
    }
    for (unsigned i = 0; i < count; i++) {
        vectors[i].iov_base = base + i * slot_size;
        vectors[i].iov_len = slot_size;
        memset(&messages[i].msg_hdr, 0, sizeof(messages[i].msg_hdr));
        messages[i].msg_hdr.msg_name = &sources[i];
        messages[i].msg_hdr.msg_namelen = sizeof(sources[i]);
        messages[i].msg_hdr.msg_iov = &vectors[i];
        messages[i].msg_hdr.msg_iovlen = 1;
    }
    int received;
    do {
        received = recvmmsg(fd, messages, count, MSG_DONTWAIT, NULL);
    } while (received < 0 && errno == EINTR);
    for (int i = 0; i < received; i++) {
        lengths[i] = messages[i].msg_len;
        source_lengths[i] = messages[i].msg_hdr.msg_namelen;
    }
    return received;
}

#ifndef RWF_NOWAIT
#define RWF_NOWAIT 0x00000008
#endif

ssize_t ctftp_preadv_nowait(int fd, const struct iovec *vectors, int count, off_t offset) {
    return preadv2(fd, vectors, count, offset, RWF_NOWAIT);
}

void ctftp_name_thread(const char *name) {
    char truncated[16];
    strncpy(truncated, name, sizeof(truncated) - 1);
    truncated[sizeof(truncated) - 1] = 0;
    pthread_setname_np(pthread_self(), truncated);
}

int ctftp_udp_segment_supported(void) {
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return 0;
    }
    int size = 512;
    int ok = setsockopt(fd, SOL_UDP, UDP_SEGMENT, &size, sizeof(size)) == 0;
    close(fd);
    return ok;
}

uint32_t ctftp_epoll_events(const struct epoll_event *event) { return event->events; }

uint64_t ctftp_epoll_data(const struct epoll_event *event) { return event->data.u64; }

int ctftp_epoll_add(int epoll_fd, int fd, uint32_t events, uint64_t data) {
    struct epoll_event event;
    memset(&event, 0, sizeof(event));
    event.events = events;
    event.data.u64 = data;
    return epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &event);
}

int ctftp_epoll_modify(int epoll_fd, int fd, uint32_t events, uint64_t data) {
    struct epoll_event event;
    memset(&event, 0, sizeof(event));
    event.events = events;
    event.data.u64 = data;
    return epoll_ctl(epoll_fd, EPOLL_CTL_MOD, fd, &event);
}
#endif

#if defined(__linux__)
int ctftp_reuseport_steer(int fd, int first_only) {
    struct sock_filter code[1] = {BPF_STMT(BPF_RET | BPF_K, first_only ? 0u : 0xffffffffu)};
    struct sock_fprog program = {.len = 1, .filter = code};
    return setsockopt(fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &program, sizeof(program));
}
#endif
