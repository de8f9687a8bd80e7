#ifdef __linux__
#define _GNU_SOURCE
#include "CAsyncIOShims.h"
#include <unistd.h>
#include <sys/syscall.h>
#include <fcntl.h>
#include <sched.h>
#include <string.h>

const uint32_t CASYNCIO_EPOLLIN = EPOLLIN;
const uint32_t CASYNCIO_EPOLLOUT = EPOLLOUT;
const uint32_t CASYNCIO_EPOLLERR = EPOLLERR;
const uint32_t CASYNCIO_EPOLLHUP = EPOLLHUP;
const uint32_t CASYNCIO_EPOLLRDHUP = EPOLLRDHUP;
const uint32_t CASYNCIO_EPOLLET = EPOLLET;
const int CASYNCIO_EPOLL_CTL_ADD = EPOLL_CTL_ADD;
const int CASYNCIO_EPOLL_CTL_MOD = EPOLL_CTL_MOD;
const int CASYNCIO_EPOLL_CTL_DEL = EPOLL_CTL_DEL;

int casyncio_epoll_create(void) { return epoll_create1(EPOLL_CLOEXEC); }

int casyncio_epoll_ctl(int epfd, int op, int fd, uint32_t events, uint64_t data) {
    struct epoll_event ev = {.events = events, .data = {.u64 = data}};
    return epoll_ctl(epfd, op, fd, &ev);
}

#ifndef SYS_epoll_pwait2
#define SYS_epoll_pwait2 441
#endif

static int has_pwait2 = 1;

int casyncio_epoll_wait(int epfd, struct epoll_event *events, int maxevents, int64_t timeout_ns) {
    if (timeout_ns < 0) return epoll_wait(epfd, events, maxevents, -1);
    if (timeout_ns == 0) return epoll_wait(epfd, events, maxevents, 0);
    if (has_pwait2) {
        struct timespec ts = {.tv_sec = timeout_ns / 1000000000, .tv_nsec = timeout_ns % 1000000000};
        long r = syscall(SYS_epoll_pwait2, epfd, events, maxevents, &ts, NULL, 0);
        if (r >= 0 || errno != ENOSYS) return (int)r;
        has_pwait2 = 0;
    }
    int64_t ms = (timeout_ns + 999999) / 1000000;
    if (ms > 0x7fffffff) ms = 0x7fffffff;
    return epoll_wait(epfd, events, maxevents, (int)ms);
}

uint64_t casyncio_epoll_event_data(const struct epoll_event *event) { return event->data.u64; }
uint32_t casyncio_epoll_event_events(const struct epoll_event *event) { return event->events; }

int casyncio_eventfd(void) { return eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK); }
int casyncio_eventfd_write(int fd) { return eventfd_write(fd, 1); }
int casyncio_eventfd_drain(int fd) {
    eventfd_t value;
    return eventfd_read(fd, &value);
}

int casyncio_accept4(int fd, struct sockaddr *addr, socklen_t *len) {
    return accept4(fd, addr, len, SOCK_NONBLOCK | SOCK_CLOEXEC);
}

int casyncio_signalfd(int fd, const sigset_t *mask) { return signalfd(fd, mask, SFD_NONBLOCK | SFD_CLOEXEC); }

int casyncio_pipe(int fds[2]) { return pipe2(fds, O_NONBLOCK | O_CLOEXEC); }

int casyncio_pipe_cloexec(int fds[2]) { return pipe2(fds, O_CLOEXEC); }

int casyncio_cpu_count(void) {
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) != 0) return -1;
    return CPU_COUNT(&set);
}

int casyncio_pidfd_open(pid_t pid) { return (int)syscall(SYS_pidfd_open, pid, 0); }

int casyncio_pidfd_send_signal(int pidfd, int signo) {
    return (int)syscall(SYS_pidfd_send_signal, pidfd, signo, NULL, 0);
}

int casyncio_spawn_addchdir(posix_spawn_file_actions_t *actions, const char *path) {
    return posix_spawn_file_actions_addchdir_np(actions, path);
}

int casyncio_spawn_addclosefrom(posix_spawn_file_actions_t *actions, int from) {
    return posix_spawn_file_actions_addclosefrom_np(actions, from);
}

const short CASYNCIO_POSIX_SPAWN_SETSID = POSIX_SPAWN_SETSID;

// The wake-up fd per signal, plus one (0: none). Read by the handler, written by install/restore.
static volatile sig_atomic_t signal_wakeup_fds[NSIG];

static void casyncio_signal_handler(int signo) {
    int saved = errno;
    int fd = (int)signal_wakeup_fds[signo] - 1;
    if (fd >= 0) {
        unsigned char byte = (unsigned char)signo;
        (void)write(fd, &byte, 1);
    }
    errno = saved;
}

int casyncio_signal_install(int signo, int fd) {
    if (signo <= 0 || signo >= NSIG) { errno = EINVAL; return -1; }
    signal_wakeup_fds[signo] = fd + 1;
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = casyncio_signal_handler;
    action.sa_flags = SA_RESTART;
    sigemptyset(&action.sa_mask);
    return sigaction(signo, &action, NULL);
}

int casyncio_signal_restore(int signo) {
    if (signo <= 0 || signo >= NSIG) { errno = EINVAL; return -1; }
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = SIG_DFL;
    sigemptyset(&action.sa_mask);
    int result = sigaction(signo, &action, NULL);
    signal_wakeup_fds[signo] = 0;
    return result;
}

int casyncio_signal_is_default(int signo) {
    struct sigaction current;
    if (sigaction(signo, NULL, &current) != 0) return -1;
    return current.sa_handler == SIG_DFL ? 1 : 0;
}

int casyncio_is_main_thread(void) { return gettid() == getpid(); }

int64_t casyncio_monotonic_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}
#endif
