/*
 * echo-load: a TCP echo load generator on one thread and epoll.
 *
 *   echo-load --port P [--host 127.0.0.1] [--mode pingpong|stream|idle] [--conns N]
 *             [--size BYTES] [--depth D] [--warmup S] [--duration S]
 *
 * Each of N connections sends messages of --size bytes. In pingpong mode a
 * connection waits for a message's echo before it sends the next one (depth
 * 1); in stream mode it keeps --depth messages (default 8) in flight. Every
 * byte that comes back is compared with the byte sent at the same offset of
 * the connection's stream: a connection's stream is a fixed pseudo-random
 * pattern read from a per-connection starting point, so a server that
 * reorders, drops, duplicates or mixes up connections is caught.
 *
 * Only messages whose echo completes inside the measured window (after the
 * warm-up, for --duration seconds) count. A message's latency runs from the
 * moment it is queued for writing to the arrival of its last byte.
 *
 * In idle mode each connection sends one byte and waits for its echo (so the
 * server really holds every connection), then all of them stay open and
 * silent for --duration seconds: the driver reads the server's memory then.
 *
 * Output on stdout, one line each, flushed at once so a driver can sample the
 * server's CPU time at the window's edges:
 *   window-start
 *   window-end
 *   {"msgs": ..., "msgs_per_s": ..., "p50_us": ..., ...}      (one JSON object)
 * With --tls, every connection does a TLS 1.3 handshake (TLS_AES_128_GCM_SHA256
 * unless --ciphersuites says otherwise; the certificate is not checked) before
 * the run, and the same bytes go through OpenSSL: build with -lssl -lcrypto.
 *
 * Exit status 0 when every connection was made, stayed open and echoed
 * every byte correctly; 1 otherwise (the JSON says what went wrong). The run
 * is bounded: connecting may take at most 30 s, and an alarm ends the
 * process if it is still running 30 s after its window should have closed.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

/* ---- the byte pattern ---------------------------------------------------
 * PATTERN_PERIOD is prime, so message boundaries drift through it. The table
 * holds the period followed by enough of its own start that any window of up
 * to READ_MAX bytes starting inside the period is contiguous: checking and
 * writing are plain memcmp/write calls. */
#define PATTERN_PERIOD 4093u
#define READ_MAX 65536u
static uint8_t pattern[PATTERN_PERIOD + READ_MAX];

static void pattern_fill(void) {
    uint32_t x = 0x9E3779B9u; /* xorshift32 */
    for (uint32_t i = 0; i < PATTERN_PERIOD; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        pattern[i] = (uint8_t)(x >> 24);
    }
    for (uint32_t i = PATTERN_PERIOD; i < sizeof pattern; i++) pattern[i] = pattern[i - PATTERN_PERIOD];
}

/* ---- latency histogram --------------------------------------------------
 * Log-linear over nanoseconds: values below 2*SUB are exact; above, each
 * power of two is split into SUB buckets (relative error below 1/SUB). */
#define SUB 128
#define HIST_BUCKETS (SUB * 2 * 64)
static uint64_t hist[HIST_BUCKETS];
static uint64_t hist_count, hist_max;

static int hist_index(uint64_t v) {
    if (v < 2 * SUB) return (int)v;
    int top = 63 - __builtin_clzll(v);  /* position of the highest set bit, >= 8 */
    int shift = top - 7;                /* keep the 8 highest bits: SUB..2*SUB-1 */
    return (shift + 1) * SUB + (int)(v >> shift) - SUB;
}

static uint64_t hist_value(int index) { /* the middle of the bucket */
    if (index < 2 * SUB) return (uint64_t)index;
    int shift = index / SUB - 1;
    uint64_t low = (uint64_t)(index % SUB + SUB) << shift;
    return low + (((uint64_t)1 << shift) >> 1);
}

static void hist_add(uint64_t v) {
    hist[hist_index(v)]++;
    hist_count++;
    if (v > hist_max) hist_max = v;
}

static double hist_percentile_us(double q) {
    if (hist_count == 0) return 0;
    uint64_t rank = (uint64_t)(q * (double)(hist_count - 1)), seen = 0;
    for (int i = 0; i < HIST_BUCKETS; i++) {
        seen += hist[i];
        if (seen > rank) return (double)hist_value(i) / 1e3;
    }
    return (double)hist_max / 1e3;
}

/* ---- connections ------------------------------------------------------- */
enum state { CONNECTING, OPEN, CLOSED };

struct conn {
    int fd;
    enum state state;
    uint32_t start;      /* where this connection's stream starts in the pattern */
    uint64_t queued;     /* bytes the generator wants written so far */
    uint64_t written;    /* bytes the kernel took */
    uint64_t received;   /* bytes echoed back and checked */
    uint64_t *sent_at;   /* queue time of each message in flight, a ring of `depth` */
    int corrupt;         /* the message being received had a wrong byte */
    int wants_out;       /* EPOLLOUT is armed */
    SSL *ssl;            /* --tls: the connection's TLS state */
};

static struct {
    const char *host;
    int port, conns, depth, stream, idle, tls;
    const char *ciphersuites;
    uint64_t size;
    double warmup, duration;
} opt = {"127.0.0.1", 0, 100, 0, 0, 0, 0, "TLS_AES_128_GCM_SHA256", 64, 1.0, 5.0};

static int epfd;
static struct conn *conns;
static uint64_t window_start, window_end;
static int generating = 1; /* queue a new message for each echoed one; count closes */
static int idle_ready;       /* idle mode: connections whose byte came back */
static uint64_t msgs, corrupt_msgs, unexpected_bytes, failed_connects, closed_by_peer;
static uint8_t rbuf[READ_MAX];

static uint64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static void fail(const char *what) {
    perror(what);
    exit(2);
}

static void arm(struct conn *c, int out) {
    struct epoll_event ev = {.events = EPOLLIN | (out ? EPOLLOUT : 0), .data.ptr = c};
    if (epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev) < 0) fail("epoll_ctl");
    c->wants_out = out;
}

static void conn_close(struct conn *c) {
    if (c->state == CLOSED) return;
    if (c->state == CONNECTING) failed_connects++;
    else if (generating) closed_by_peer++;
    if (c->ssl) SSL_free(c->ssl);
    c->ssl = NULL;
    close(c->fd); /* also removes it from the epoll set */
    c->state = CLOSED;
}

/* Queue one more message: its bytes are the next `size` bytes of the stream. */
static void queue_message(struct conn *c, uint64_t t) {
    c->sent_at[(c->queued / opt.size) % (uint64_t)opt.depth] = t;
    c->queued += opt.size;
}

/* write/read, or their TLS forms: -1 with errno EAGAIN when OpenSSL wants the
 * socket again, 0 for the end of the stream, -1 with another errno on failure. */
static ssize_t conn_write(struct conn *c, const void *p, size_t n) {
    if (!c->ssl) return write(c->fd, p, n);
    size_t done = 0;
    if (SSL_write_ex(c->ssl, p, n, &done) == 1) return (ssize_t)done;
    int e = SSL_get_error(c->ssl, 0);
    errno = (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) ? EAGAIN : EPIPE;
    return -1;
}

static ssize_t conn_read(struct conn *c, void *p, size_t n) {
    if (!c->ssl) return read(c->fd, p, n);
    size_t done = 0;
    if (SSL_read_ex(c->ssl, p, n, &done) == 1) return (ssize_t)done;
    int e = SSL_get_error(c->ssl, 0);
    if (e == SSL_ERROR_ZERO_RETURN) return 0;
    errno = (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) ? EAGAIN : ECONNRESET;
    return -1;
}

/* Write what is queued; arm EPOLLOUT only while the kernel pushes back. */
static void flush(struct conn *c) {
    while (c->written < c->queued) {
        uint64_t n = c->queued - c->written;
        if (n > READ_MAX) n = READ_MAX;
        const uint8_t *p = pattern + (c->start + c->written) % PATTERN_PERIOD;
        ssize_t w = conn_write(c, p, (size_t)n);
        if (w < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN) {
                if (!c->wants_out) arm(c, 1);
                return;
            }
            conn_close(c);
            return;
        }
        c->written += (uint64_t)w;
    }
    if (c->wants_out) arm(c, 0);
}

/* Read what arrived, check it against the stream, complete messages. */
static void receive(struct conn *c) {
    for (;;) {
        ssize_t n = conn_read(c, rbuf, sizeof rbuf);
        if (n == 0) {
            conn_close(c);
            return;
        }
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno != EAGAIN) conn_close(c);
            break;
        }
        uint64_t t = now_ns();
        if (c->received + (uint64_t)n > c->written) { /* bytes we never sent */
            unexpected_bytes += c->received + (uint64_t)n - c->written;
            conn_close(c);
            return;
        }
        uint64_t done = 0;
        while (done < (uint64_t)n) {
            /* Check up to the end of the current message, then complete it. */
            uint64_t message_end = (c->received / opt.size + 1) * opt.size;
            uint64_t take = message_end - c->received;
            if (take > (uint64_t)n - done) take = (uint64_t)n - done;
            const uint8_t *want = pattern + (c->start + c->received) % PATTERN_PERIOD;
            if (memcmp(rbuf + done, want, (size_t)take) != 0) c->corrupt = 1;
            c->received += take;
            done += take;
            if (c->received == message_end) {
                uint64_t queued_at = c->sent_at[(message_end / opt.size - 1) % (uint64_t)opt.depth];
                if (t >= window_start && t < window_end) {
                    msgs++;
                    corrupt_msgs += (uint64_t)c->corrupt;
                    hist_add(t - queued_at);
                }
                c->corrupt = 0;
                if (opt.idle) idle_ready++;
                else if (generating) queue_message(c, t);
            }
        }
        if ((size_t)n < sizeof rbuf) break;
    }
    if (c->state == OPEN) flush(c);
}

static double cpu_seconds(void) {
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return (double)u.ru_utime.tv_sec + (double)u.ru_utime.tv_usec / 1e6 + (double)u.ru_stime.tv_sec +
           (double)u.ru_stime.tv_usec / 1e6;
}

/* Open every connection, at most 128 handshakes in flight, within 30 s. */
static int connect_all(const struct sockaddr_in *to) {
    int next = 0, pending = 0, open_count = 0;
    uint64_t deadline = now_ns() + 30ull * 1000000000u;
    struct epoll_event evs[256];
    while (next < opt.conns || pending > 0) {
        while (next < opt.conns && pending < 128) {
            struct conn *c = &conns[next++];
            c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
            if (c->fd < 0) fail("socket");
            int one = 1;
            setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            c->state = CONNECTING;
            if (connect(c->fd, (const struct sockaddr *)to, sizeof *to) < 0 && errno != EINPROGRESS) {
                conn_close(c);
                continue;
            }
            struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = c};
            if (epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev) < 0) fail("epoll_ctl");
            pending++;
        }
        if (now_ns() > deadline) break;
        int k = epoll_wait(epfd, evs, 256, 100);
        for (int i = 0; i < k; i++) {
            struct conn *c = evs[i].data.ptr;
            if (c->state != CONNECTING) continue;
            int err = 0;
            socklen_t len = sizeof err;
            pending--;
            if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err != 0) {
                conn_close(c);
                continue;
            }
            c->state = OPEN;
            arm(c, 0);
            open_count++;
        }
    }
    for (int i = 0; i < opt.conns; i++)
        if (conns[i].state == CONNECTING) conn_close(&conns[i]);
    return open_count;
}

/* --tls: a blocking handshake on each open connection, one after the other
 * (before any load, so it is not measured). */
static int handshake_all(void) {
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx) fail("SSL_CTX_new");
    SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
    if (SSL_CTX_set_ciphersuites(ctx, opt.ciphersuites) != 1) fail("SSL_CTX_set_ciphersuites");
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    int failed = 0;
    for (int i = 0; i < opt.conns; i++) {
        struct conn *c = &conns[i];
        if (c->state != OPEN) continue;
        c->ssl = SSL_new(ctx);
        SSL_set_fd(c->ssl, c->fd);
        SSL_set_tlsext_host_name(c->ssl, "localhost");
        int flags = fcntl(c->fd, F_GETFL);
        fcntl(c->fd, F_SETFL, flags & ~O_NONBLOCK);
        struct timeval limit = {.tv_sec = 10};
        setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
        int ok = SSL_connect(c->ssl) == 1;
        struct timeval none = {0};
        setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &none, sizeof none);
        fcntl(c->fd, F_SETFL, flags);
        if (!ok) {
            ERR_print_errors_fp(stderr);
            c->state = CONNECTING; /* counts as a failed connect */
            conn_close(c);
            failed++;
        }
    }
    SSL_CTX_free(ctx); /* each SSL keeps a reference */
    return failed;
}

/* Idle mode: one echoed byte per connection, then --duration seconds of
 * silence. A connection the server closes meanwhile counts as closed_by_peer. */
static int run_idle(int opened) {
    struct epoll_event evs[1024];
    for (int i = 0; i < opt.conns; i++) {
        if (conns[i].state != OPEN) continue;
        queue_message(&conns[i], now_ns());
        flush(&conns[i]);
    }
    uint64_t deadline = now_ns() + 30ull * 1000000000u;
    while (idle_ready < opened && now_ns() < deadline) {
        int k = epoll_wait(epfd, evs, 1024, 100);
        for (int i = 0; i < k; i++) {
            struct conn *c = evs[i].data.ptr;
            if (c->state == OPEN && (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP))) receive(c);
            if (c->state == OPEN && (evs[i].events & EPOLLOUT)) flush(c);
        }
    }
    puts("window-start");
    fflush(stdout);
    uint64_t end = now_ns() + (uint64_t)(opt.duration * 1e9);
    for (uint64_t t = now_ns(); t < end; t = now_ns()) {
        int k = epoll_wait(epfd, evs, 1024, (int)((end - t) / 1000000u) + 1);
        for (int i = 0; i < k; i++) {
            struct conn *c = evs[i].data.ptr;
            if (c->state == OPEN) receive(c); /* only an EOF or an error can arrive */
        }
    }
    puts("window-end");
    fflush(stdout);
    int still_open = 0;
    generating = 0;
    for (int i = 0; i < opt.conns; i++) {
        if (conns[i].state == OPEN) still_open++;
        conn_close(&conns[i]);
    }
    printf("{\"mode\": \"idle\", \"conns\": %d, \"connected\": %d, \"echoed\": %d, \"duration_s\": %g, "
           "\"corrupt_msgs\": %llu, \"failed_connects\": %llu, \"closed_by_peer\": %llu, \"open_at_end\": %d}\n",
           opt.conns, opened, idle_ready, opt.duration, (unsigned long long)corrupt_msgs,
           (unsigned long long)failed_connects, (unsigned long long)closed_by_peer, still_open);
    return opened == opt.conns && idle_ready == opened && still_open == opened && corrupt_msgs == 0 ? 0 : 1;
}

static void usage(void) {
    fprintf(stderr, "usage: echo-load --port P [--host H] [--mode pingpong|stream|idle] [--conns N]\n"
                    "                 [--size BYTES] [--depth D] [--warmup S] [--duration S]\n"
                    "                 [--tls 1] [--ciphersuites TLS13-SUITES]\n");
    exit(2);
}

static void parse(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) usage();
        i++;
        if (!strcmp(k, "--host")) opt.host = v;
        else if (!strcmp(k, "--port")) opt.port = atoi(v);
        else if (!strcmp(k, "--conns")) opt.conns = atoi(v);
        else if (!strcmp(k, "--size")) opt.size = strtoull(v, NULL, 10);
        else if (!strcmp(k, "--depth")) opt.depth = atoi(v);
        else if (!strcmp(k, "--warmup")) opt.warmup = atof(v);
        else if (!strcmp(k, "--duration")) opt.duration = atof(v);
        else if (!strcmp(k, "--tls")) opt.tls = atoi(v);
        else if (!strcmp(k, "--ciphersuites")) opt.ciphersuites = v;
        else if (!strcmp(k, "--mode")) {
            if (!strcmp(v, "stream")) opt.stream = 1;
            else if (!strcmp(v, "idle")) opt.idle = 1;
            else if (strcmp(v, "pingpong")) usage();
        } else usage();
    }
    if (opt.idle) opt.size = 1;
    if (opt.depth == 0) opt.depth = opt.stream ? 8 : 1;
    if (!opt.stream && opt.depth != 1) usage();
    if (opt.port <= 0 || opt.conns < 1 || opt.size < 1 || opt.depth < 1 || opt.duration <= 0 || opt.warmup < 0)
        usage();
}

int main(int argc, char **argv) {
    parse(argc, argv);
    signal(SIGPIPE, SIG_IGN);
    alarm((unsigned)(30 + opt.warmup + opt.duration + 30)); /* the last resort of "bounded" */
    struct rlimit r;
    if (getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
        r.rlim_cur = r.rlim_max;
        setrlimit(RLIMIT_NOFILE, &r);
    }
    pattern_fill();
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)opt.port)};
    if (inet_pton(AF_INET, opt.host, &to.sin_addr) != 1) usage();
    if ((epfd = epoll_create1(EPOLL_CLOEXEC)) < 0) fail("epoll_create1");
    conns = calloc((size_t)opt.conns, sizeof *conns);
    for (int i = 0; i < opt.conns; i++) {
        conns[i].sent_at = calloc((size_t)opt.depth, sizeof(uint64_t));
        conns[i].start = (uint32_t)(((uint64_t)i * 2654435761u) % PATTERN_PERIOD);
    }
    int opened = connect_all(&to);
    if (opt.tls) opened -= handshake_all();
    if (opt.idle) return run_idle(opened);

    /* Start every open connection with `depth` messages, then run the loop
     * until the window closes. */
    uint64_t t0 = now_ns();
    window_start = t0 + (uint64_t)(opt.warmup * 1e9);
    window_end = window_start + (uint64_t)(opt.duration * 1e9);
    for (int i = 0; i < opt.conns; i++) {
        if (conns[i].state != OPEN) continue;
        for (int d = 0; d < opt.depth; d++) queue_message(&conns[i], t0);
        flush(&conns[i]);
    }
    struct epoll_event evs[1024];
    int in_window = 0;
    double cpu_at_start = 0, cpu_at_end = 0;
    for (;;) {
        uint64_t t = now_ns();
        if (!in_window && t >= window_start) {
            in_window = 1;
            cpu_at_start = cpu_seconds();
            puts("window-start");
            fflush(stdout);
        }
        if (t >= window_end) break;
        uint64_t next_edge = in_window ? window_end : window_start;
        int timeout_ms = (int)((next_edge - t) / 1000000u) + 1;
        int k = epoll_wait(epfd, evs, 1024, timeout_ms);
        if (k < 0 && errno != EINTR) fail("epoll_wait");
        for (int i = 0; i < k; i++) {
            struct conn *c = evs[i].data.ptr;
            if (c->state != OPEN) continue;
            if (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) receive(c);
            if (c->state == OPEN && (evs[i].events & EPOLLOUT)) flush(c);
        }
    }
    cpu_at_end = cpu_seconds();
    puts("window-end");
    fflush(stdout);
    generating = 0;
    int still_open = 0;
    for (int i = 0; i < opt.conns; i++) {
        if (conns[i].state == OPEN) still_open++;
        conn_close(&conns[i]);
    }
    double mps = (double)msgs / opt.duration;
    printf("{\"mode\": \"%s\", \"conns\": %d, \"size\": %llu, \"depth\": %d, \"warmup_s\": %g, "
           "\"duration_s\": %g, \"msgs\": %llu, \"msgs_per_s\": %.1f, \"mb_per_s\": %.3f, "
           "\"p50_us\": %.1f, \"p90_us\": %.1f, \"p99_us\": %.1f, \"p999_us\": %.1f, \"max_us\": %.1f, "
           "\"corrupt_msgs\": %llu, \"unexpected_bytes\": %llu, \"failed_connects\": %llu, "
           "\"closed_by_peer\": %llu, \"open_at_end\": %d, \"client_cpu\": %.3f}\n",
           opt.stream ? "stream" : "pingpong", opt.conns, (unsigned long long)opt.size, opt.depth,
           opt.warmup, opt.duration, (unsigned long long)msgs, mps, mps * (double)opt.size / 1e6,
           hist_percentile_us(0.50), hist_percentile_us(0.90), hist_percentile_us(0.99),
           hist_percentile_us(0.999), (double)hist_max / 1e3, (unsigned long long)corrupt_msgs,
           (unsigned long long)unexpected_bytes, (unsigned long long)failed_connects,
           (unsigned long long)closed_by_peer, still_open, (cpu_at_end - cpu_at_start) / opt.duration);
    int ok = opened == opt.conns && still_open == opt.conns && corrupt_msgs == 0 && unexpected_bytes == 0 &&
             msgs > 0;
    return ok ? 0 : 1;
}
