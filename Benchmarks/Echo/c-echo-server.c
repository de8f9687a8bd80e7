/*
 * c-echo-server: the reference echo server, about what a server costs when
 * it does nothing but move bytes. One thread, epoll, level-triggered.
 *
 *   c-echo-server PORT        (listens on 127.0.0.1; PORT 0 picks one)
 *
 * Each readable connection is read once into a shared 64 KiB buffer and the
 * bytes are written straight back. What the kernel does not take is copied
 * to the connection's own buffer, and the connection stops reading until
 * that is written (so a client that does not read cannot grow the server).
 * Prints "listening on 127.0.0.1:PORT" once ready; SIGTERM or SIGINT end it
 * with status 0.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

struct conn {
    int fd;
    char *backlog; /* bytes the kernel did not take yet */
    size_t backlog_len, backlog_off;
};

static int epfd;
static char buf[65536];
static volatile sig_atomic_t stopping;

static void on_signal(int sig) {
    (void)sig;
    stopping = 1;
}

static void watch(struct conn *c, uint32_t events, int op) {
    struct epoll_event ev = {.events = events, .data.ptr = c};
    epoll_ctl(epfd, op, c->fd, &ev);
}

static void drop(struct conn *c) {
    close(c->fd);
    free(c->backlog);
    free(c);
}

/* Write p[0..n); keep what the kernel refuses and wait for EPOLLOUT. */
static int send_or_keep(struct conn *c, const char *p, size_t n) {
    size_t off = 0;
    while (off < n) {
        ssize_t w = write(c->fd, p + off, n - off);
        if (w >= 0) {
            off += (size_t)w;
        } else if (errno == EAGAIN) {
            break;
        } else if (errno != EINTR) {
            return -1;
        }
    }
    if (off == n) return 0;
    c->backlog = malloc(n - off);
    if (!c->backlog) return -1;
    memcpy(c->backlog, p + off, n - off);
    c->backlog_len = n - off;
    c->backlog_off = 0;
    watch(c, EPOLLOUT, EPOLL_CTL_MOD);
    return 0;
}

static void readable(struct conn *c) {
    ssize_t n = read(c->fd, buf, sizeof buf);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
        drop(c);
        return;
    }
    if (n > 0 && send_or_keep(c, buf, (size_t)n) < 0) drop(c);
}

static void writable(struct conn *c) {
    while (c->backlog_off < c->backlog_len) {
        ssize_t w = write(c->fd, c->backlog + c->backlog_off, c->backlog_len - c->backlog_off);
        if (w >= 0) {
            c->backlog_off += (size_t)w;
        } else if (errno == EAGAIN) {
            return;
        } else if (errno != EINTR) {
            drop(c);
            return;
        }
    }
    free(c->backlog);
    c->backlog = NULL;
    watch(c, EPOLLIN, EPOLL_CTL_MOD);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: c-echo-server PORT\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa = {.sa_handler = on_signal}; /* no SA_RESTART: epoll_wait returns EINTR */
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[1]))};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (bind(lfd, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(lfd, 1024) < 0 ||
        getsockname(lfd, (struct sockaddr *)&addr, &len) < 0) {
        perror("listen");
        return 1;
    }
    epfd = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event lev = {.events = EPOLLIN, .data.ptr = NULL}; /* NULL marks the listener */
    epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &lev);
    printf("listening on 127.0.0.1:%d\n", ntohs(addr.sin_port));
    fflush(stdout);

    struct epoll_event evs[512];
    while (!stopping) {
        int k = epoll_wait(epfd, evs, 512, -1);
        for (int i = 0; i < k; i++) {
            struct conn *c = evs[i].data.ptr;
            if (c == NULL) { /* accept everything that is waiting */
                int fd;
                while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
                    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    struct conn *nc = calloc(1, sizeof *nc);
                    nc->fd = fd;
                    watch(nc, EPOLLIN, EPOLL_CTL_ADD);
                }
            } else if (c->backlog) {
                if (evs[i].events & (EPOLLERR | EPOLLHUP)) drop(c);
                else writable(c);
            } else {
                readable(c);
            }
        }
    }
    return 0;
}
