// Thin wrappers over Linux system calls that Swift's Glibc module does not expose.
// No logic lives here: each function is one system call (model: SwiftNIO's CNIOLinux).
#ifndef C_ASYNCIO_SHIMS_H
#define C_ASYNCIO_SHIMS_H

#ifdef __linux__
#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/uio.h>
#include <time.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/un.h>

int casyncio_epoll_create(void);
int casyncio_epoll_ctl(int epfd, int op, int fd, uint32_t events, uint64_t data);
/// Waits with a nanosecond timeout (`epoll_pwait2`); `timeout_ns < 0` waits forever.
/// Falls back to `epoll_wait` (millisecond precision, rounded up) where the kernel lacks `epoll_pwait2`.
int casyncio_epoll_wait(int epfd, struct epoll_event *events, int maxevents, int64_t timeout_ns);
uint64_t casyncio_epoll_event_data(const struct epoll_event *event);
uint32_t casyncio_epoll_event_events(const struct epoll_event *event);

/// Asks the CPU to start loading the cache line at `address` for writing; never faults, whatever
/// the address.
static inline void casyncio_prefetch(const void *address) { __builtin_prefetch(address, 1, 3); }

/// The Swift runtime's `swift_task_getCurrent` (exported, ABI-stable since Swift 5.5): the running
/// task, not retained; NULL outside a task. Swift's `withUnsafeCurrentTask` wraps this call in a
/// retain and a release (its `UnsafeCurrentTask` is a strong reference); a caller that only
/// compares the address needs neither.
void *swift_task_getCurrent(void) __attribute__((swiftcall));

int casyncio_eventfd(void);
int casyncio_eventfd_write(int fd);
int casyncio_eventfd_drain(int fd);

int casyncio_accept4(int fd, struct sockaddr *addr, socklen_t *len);
int casyncio_signalfd(int fd, const sigset_t *mask);

/// `pipe2(fds, O_NONBLOCK | O_CLOEXEC)`.
int casyncio_pipe(int fds[2]);
/// Installs (sigaction, SA_RESTART) a handler for `signo` that writes the signal number as one byte
/// to `fd` — CPython's `signal.set_wakeup_fd` in one call; the handler does nothing else and is
/// async-signal-safe. `fd` must be non-blocking.
int casyncio_signal_install(int signo, int fd);
/// Restores the default disposition of `signo` (SIG_DFL) and forgets its wake-up fd.
int casyncio_signal_restore(int signo);
/// 1 if `signo` has the default disposition (SIG_DFL), 0 if not, -1 on error.
int casyncio_signal_is_default(int signo);
/// 1 on the process's main thread (gettid() == getpid()).
int casyncio_is_main_thread(void);

/// `pipe2(fds, O_CLOEXEC)`: blocking ends, for a child's standard descriptors.
int casyncio_pipe_cloexec(int fds[2]);
/// `pidfd_open(pid, 0)`: a descriptor that becomes readable when the process `pid` exits.
int casyncio_pidfd_open(pid_t pid);
/// `pidfd_send_signal(pidfd, signo, NULL, 0)`.
int casyncio_pidfd_send_signal(int pidfd, int signo);
/// `posix_spawn_file_actions_addchdir_np` (glibc 2.29).
int casyncio_spawn_addchdir(posix_spawn_file_actions_t *actions, const char *path);
/// `posix_spawn_file_actions_addclosefrom_np` (glibc 2.34).
int casyncio_spawn_addclosefrom(posix_spawn_file_actions_t *actions, int from);
/// `POSIX_SPAWN_SETSID` (glibc 2.26): the child starts a new session.
extern const short CASYNCIO_POSIX_SPAWN_SETSID;

/// The number of CPUs this process may run on (`sched_getaffinity`, `CPU_COUNT`); -1 on error.
int casyncio_cpu_count(void);

/// Monotonic clock in nanoseconds.
int64_t casyncio_monotonic_ns(void);

extern const uint32_t CASYNCIO_EPOLLIN;
extern const uint32_t CASYNCIO_EPOLLOUT;
extern const uint32_t CASYNCIO_EPOLLERR;
extern const uint32_t CASYNCIO_EPOLLHUP;
extern const uint32_t CASYNCIO_EPOLLRDHUP;
extern const uint32_t CASYNCIO_EPOLLET;
extern const int CASYNCIO_EPOLL_CTL_ADD;
extern const int CASYNCIO_EPOLL_CTL_MOD;
extern const int CASYNCIO_EPOLL_CTL_DEL;
#endif

#endif
