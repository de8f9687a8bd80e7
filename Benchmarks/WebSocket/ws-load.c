/*
 * ws-load: a WebSocket pingpong load generator on one thread and epoll.
 *
 *   ws-load --port P [--host 127.0.0.1] [--mode pingpong|raw|idle] [--conns N]
 *           [--size BYTES] [--warmup S] [--duration S] [--path /]
 *
 * Each of N connections performs the opening handshake (RFC 6455 §4.1: GET with a fixed
 * Sec-WebSocket-Key, checked against the server's 101 and Sec-WebSocket-Accept), then sends a
 * masked text message of --size bytes (lowercase letters that depend on the connection and the
 * message number), waits for the server's unmasked echo, checks every byte, and sends the next
 * (depth 1). The mask key changes per frame (xorshift), as a browser's would.
 *
 * --mode raw sends the same payloads over plain TCP with no handshake and no framing: the same
 * generator against a raw echo server (EchoBench), for the "WebSocket vs raw TCP" ratio.
 * --mode idle opens and upgrades every connection, then holds them silent for --duration
 * seconds (the driver reads the server's memory meanwhile).
 *
 * Output, one line each, flushed at once: `window-start`, `window-end`, then one JSON object
 * with the fields of ../Echo/echo-load.c's (msgs, msgs_per_s, p50_us ... client_cpu,
 * corrupt_msgs, failed_connects, closed_by_peer; msgs_total counts the warm-up's too, for a
 * profiler's instructions per message). Exit status 0 when every connection was
 * made and upgraded, stayed open and echoed every byte. Bounded: an alarm ends the process 60 s
 * after its window should have closed.
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

#define MAX_SIZE 65535
#define KEY "dGhlIHNhbXBsZSBub25jZQ=="
#define ACCEPT "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="

struct conn {
    int fd, open;
    uint64_t seq;          /* messages completed */
    uint64_t sent_at;      /* when the message in flight was written */
    size_t have, want;     /* bytes of the echo received / expected */
    uint8_t *in;           /* the echo being received */
};

static struct {
    const char *host, *path;
    int port, conns, raw, idle;
    size_t size;
    double warmup, duration;
} opt = {"127.0.0.1", "/", 0, 100, 0, 0, 64, 1.0, 5.0};

static int epfd;
static struct conn *conns;
static uint64_t window_start, window_end, msgs, msgs_total, corrupt_msgs, failed_connects, closed_by_peer;
static uint32_t *latencies; /* in 100 ns units, of messages inside the window */
static size_t latency_count, latency_capacity;
static uint32_t rng = 0x9E3779B9u;
static uint8_t frame[14 + MAX_SIZE];

static uint64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* Message `seq` of connection `conn` is the alphabet repeated, starting at letter
 * (conn * 7 + seq * 13) % 26: a slice of `letters`, which holds the alphabet repeated over
 * 26 + MAX_SIZE bytes. So making and checking a payload is a memcpy and a memcmp, not a
 * division per byte (which made the generator the limit of the 16 KiB run). */
static uint8_t letters[26 + MAX_SIZE];

static const uint8_t *payload(int conn, uint64_t seq) {
    return letters + ((uint64_t)conn * 7 + seq * 13) % 26;
}

/* XOR with the four-byte mask, eight bytes at a time. */
static void mask_bytes(uint8_t *p, size_t n, const uint8_t key[4]) {
    uint64_t wide;
    uint8_t k8[8] = {key[0], key[1], key[2], key[3], key[0], key[1], key[2], key[3]};
    memcpy(&wide, k8, 8);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        w ^= wide;
        memcpy(p + i, &w, 8);
    }
    for (; i < n; i++) p[i] ^= key[i & 3];
}

static size_t header_size(size_t n, int masked) { return (n < 126 ? 2 : 4) + (masked ? 4 : 0); }

/* Write the next message of connection `k` (blocking in practice: 64 B into an empty socket). */
static void send_message(int k) {
    struct conn *c = &conns[k];
    size_t n = opt.size, h = 0;
    if (!opt.raw) {
        frame[0] = 0x81;
        if (n < 126) {
            frame[1] = (uint8_t)(0x80 | n);
            h = 2;
        } else {
            frame[1] = 0x80 | 126;
            frame[2] = (uint8_t)(n >> 8);
            frame[3] = (uint8_t)n;
            h = 4;
        }
        rng ^= rng << 13, rng ^= rng >> 17, rng ^= rng << 5;
        memcpy(frame + h, &rng, 4);
        h += 4;
    }
    memcpy(frame + h, payload(k, c->seq), n);
    if (!opt.raw) mask_bytes(frame + h, n, frame + h - 4);
    size_t total = h + n, done = 0;
    c->sent_at = now_ns();
    while (done < total) {
        ssize_t w = write(c->fd, frame + done, total - done);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0 && errno == EAGAIN) { /* the server is not reading: wait for room */
            struct timespec pause = {0, 50000};
            nanosleep(&pause, NULL);
            continue;
        }
        if (w <= 0) {
            c->open = 0;
            closed_by_peer++;
            return;
        }
        done += (size_t)w;
    }
    c->have = 0;
    c->want = opt.raw ? n : header_size(n, 0) + n;
}

static void receive(int k) {
    struct conn *c = &conns[k];
    for (;;) {
        ssize_t r = read(c->fd, c->in + c->have, c->want - c->have);
        if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
            c->open = 0;
            closed_by_peer++;
            close(c->fd);
            return;
        }
        if (r < 0) return;
        c->have += (size_t)r;
        if (c->have < c->want) continue;
        uint64_t t = now_ns();
        size_t h = opt.raw ? 0 : header_size(opt.size, 0);
        int bad = 0;
        if (!opt.raw) {
            bad = c->in[0] != 0x81 || (opt.size < 126 ? c->in[1] != opt.size
                                                      : c->in[1] != 126 || (size_t)(c->in[2] << 8 | c->in[3]) != opt.size);
        }
        bad = bad || memcmp(c->in + h, payload(k, c->seq), opt.size) != 0;
        if (t >= window_start && t < window_end) {
            msgs++;
            corrupt_msgs += (uint64_t)bad;
            if (latency_count == latency_capacity) {
                latency_capacity = latency_capacity ? latency_capacity * 2 : 1 << 16;
                latencies = realloc(latencies, latency_capacity * sizeof *latencies);
            }
            uint64_t l = (t - c->sent_at) / 100;
            latencies[latency_count++] = l > UINT32_MAX ? UINT32_MAX : (uint32_t)l;
        }
        c->seq++;
        msgs_total++;
        if (t < window_end) send_message(k);
        return;
    }
}

/* Connect (blocking, 10 s timeout) and, unless raw, upgrade. Returns the fd or -1. */
static int open_one(const struct sockaddr_in *to) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct timeval tv = {10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (const struct sockaddr *)to, sizeof *to) < 0) {
        close(fd);
        return -1;
    }
    if (!opt.raw) {
        char request[512], response[4096];
        int n = snprintf(request, sizeof request,
                         "GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                         "Sec-WebSocket-Key: " KEY "\r\nSec-WebSocket-Version: 13\r\n\r\n",
                         opt.path, opt.host, opt.port);
        if (write(fd, request, (size_t)n) != n) goto fail;
        /* Peek until the whole response head is there, then consume exactly the head, so no
         * frame byte is taken with it (byte-by-byte reads cost ~150 syscalls a connection,
         * which made opening 10 000 connections slow). */
        ssize_t peeked = 0;
        char *end = NULL;
        for (int tries = 0; !end; tries++) {
            peeked = recv(fd, response, sizeof response - 1, MSG_PEEK);
            if (peeked <= 0 || tries > 1000) goto fail;
            response[peeked] = 0;
            end = strstr(response, "\r\n\r\n");
            if (!end) {
                if ((size_t)peeked == sizeof response - 1) goto fail;
                struct timespec pause = {0, 100000};
                nanosleep(&pause, NULL);
            }
        }
        size_t head = (size_t)(end + 4 - response);
        if (read(fd, response, head) != (ssize_t)head) goto fail;
        response[head] = 0;
        if (strncmp(response, "HTTP/1.1 101", 12) || !strcasestr(response, ACCEPT)) goto fail;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
fail:
    close(fd);
    return -1;
}

/* After the window: a masked close frame (1000) on every open WebSocket, best effort, so the
 * servers see a closing handshake rather than a reset and log nothing. Not measured. */
static void say_goodbye(void) {
    if (opt.raw) return;
    static const uint8_t close_frame[] = {0x88, 0x82, 0, 0, 0, 0, 0x03, 0xE8}; /* mask 0: code 1000 */
    for (int k = 0; k < opt.conns; k++)
        if (conns[k].open) {
            ssize_t w = write(conns[k].fd, close_frame, sizeof close_frame);
            (void)w;
        }
}

static double cpu_seconds(void) {
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return (double)u.ru_utime.tv_sec + (double)u.ru_utime.tv_usec / 1e6 + (double)u.ru_stime.tv_sec +
           (double)u.ru_stime.tv_usec / 1e6;
}

static int compare(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static double percentile_us(double q) {
    if (!latency_count) return 0;
    size_t i = (size_t)(q * (double)(latency_count - 1));
    return latencies[i] / 10.0;
}

static void usage(void) {
    fprintf(stderr, "usage: ws-load --port P [--host H] [--mode pingpong|raw|idle] [--conns N] [--size B]\n"
                    "               [--warmup S] [--duration S] [--path /]\n");
    exit(2);
}

int main(int argc, char **argv) {
    for (int i = 1; i < argc; i += 2) {
        const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) usage();
        if (!strcmp(k, "--host")) opt.host = v;
        else if (!strcmp(k, "--port")) opt.port = atoi(v);
        else if (!strcmp(k, "--conns")) opt.conns = atoi(v);
        else if (!strcmp(k, "--size")) opt.size = strtoul(v, NULL, 10);
        else if (!strcmp(k, "--warmup")) opt.warmup = atof(v);
        else if (!strcmp(k, "--duration")) opt.duration = atof(v);
        else if (!strcmp(k, "--path")) opt.path = v;
        else if (!strcmp(k, "--mode")) {
            if (!strcmp(v, "raw")) opt.raw = 1;
            else if (!strcmp(v, "idle")) opt.idle = 1;
            else if (strcmp(v, "pingpong")) usage();
        } else usage();
    }
    if (opt.port <= 0 || opt.conns < 1 || opt.size < 1 || opt.size > MAX_SIZE || opt.duration <= 0) usage();
    for (size_t i = 0; i < sizeof letters; i++) letters[i] = (uint8_t)('a' + i % 26);
    signal(SIGPIPE, SIG_IGN);
    alarm((unsigned)(opt.warmup + opt.duration + 120));
    struct rlimit r;
    if (getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
        r.rlim_cur = r.rlim_max;
        setrlimit(RLIMIT_NOFILE, &r);
    }
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)opt.port)};
    if (inet_pton(AF_INET, opt.host, &to.sin_addr) != 1) usage();
    if ((epfd = epoll_create1(EPOLL_CLOEXEC)) < 0) return 2;
    conns = calloc((size_t)opt.conns, sizeof *conns);
    int opened = 0;
    for (int k = 0; k < opt.conns; k++) {
        conns[k].fd = open_one(&to);
        if (conns[k].fd < 0) {
            failed_connects++;
            continue;
        }
        conns[k].open = 1;
        conns[k].in = malloc(header_size(MAX_SIZE, 0) + opt.size);
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)k};
        epoll_ctl(epfd, EPOLL_CTL_ADD, conns[k].fd, &ev);
        opened++;
    }
    if (opt.idle) {
        puts("window-start");
        fflush(stdout);
        struct timespec hold = {(time_t)opt.duration, (long)((opt.duration - (double)(time_t)opt.duration) * 1e9)};
        nanosleep(&hold, NULL);
        int still = 0;
        struct epoll_event evs[1024];
        int n = epoll_wait(epfd, evs, 1024, 0); /* anything readable now is a close or a stray frame */
        for (int k = 0; k < opt.conns; k++) still += conns[k].open;
        puts("window-end");
        say_goodbye();
        printf("{\"mode\": \"idle\", \"conns\": %d, \"connected\": %d, \"readable\": %d, "
               "\"failed_connects\": %llu}\n", opt.conns, opened, n, (unsigned long long)failed_connects);
        fflush(stdout);
        return opened == opt.conns && n == 0 ? 0 : 1;
    }
    uint64_t t0 = now_ns();
    window_start = t0 + (uint64_t)(opt.warmup * 1e9);
    window_end = window_start + (uint64_t)(opt.duration * 1e9);
    for (int k = 0; k < opt.conns; k++)
        if (conns[k].open) send_message(k);
    struct epoll_event evs[1024];
    int in_window = 0;
    double cpu_at_start = 0;
    for (;;) {
        uint64_t t = now_ns();
        if (!in_window && t >= window_start) {
            in_window = 1;
            cpu_at_start = cpu_seconds();
            puts("window-start");
            fflush(stdout);
        }
        if (t >= window_end) break;
        int timeout_ms = (int)(((in_window ? window_end : window_start) - t) / 1000000u) + 1;
        int n = epoll_wait(epfd, evs, 1024, timeout_ms);
        for (int i = 0; i < n; i++) {
            int k = (int)evs[i].data.u32;
            if (conns[k].open) receive(k);
        }
    }
    double cpu = (cpu_seconds() - cpu_at_start) / opt.duration;
    puts("window-end");
    fflush(stdout);
    int still_open = 0;
    for (int k = 0; k < opt.conns; k++) still_open += conns[k].open;
    say_goodbye();
    qsort(latencies, latency_count, sizeof *latencies, compare);
    double mps = (double)msgs / opt.duration;
    printf("{\"mode\": \"%s\", \"conns\": %d, \"size\": %zu, \"duration_s\": %g, \"msgs\": %llu, "
           "\"msgs_per_s\": %.1f, \"mb_per_s\": %.3f, \"p50_us\": %.1f, \"p90_us\": %.1f, \"p99_us\": %.1f, "
           "\"p999_us\": %.1f, \"max_us\": %.1f, \"corrupt_msgs\": %llu, \"failed_connects\": %llu, "
           "\"closed_by_peer\": %llu, \"open_at_end\": %d, \"client_cpu\": %.3f, \"msgs_total\": %llu}\n",
           opt.raw ? "raw" : "pingpong", opt.conns, opt.size, opt.duration, (unsigned long long)msgs, mps,
           mps * (double)opt.size / 1e6, percentile_us(0.5), percentile_us(0.9), percentile_us(0.99),
           percentile_us(0.999), latency_count ? latencies[latency_count - 1] / 10.0 : 0,
           (unsigned long long)corrupt_msgs, (unsigned long long)failed_connects,
           (unsigned long long)closed_by_peer, still_open, cpu, (unsigned long long)msgs_total);
    fflush(stdout);
    return opened == opt.conns && still_open == opt.conns && corrupt_msgs == 0 && msgs > 0 ? 0 : 1;
}
