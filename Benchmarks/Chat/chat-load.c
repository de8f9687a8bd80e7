/*
 * chat-load: a fan-out load generator for the chat's web protocol, on one thread and epoll.
 *
 *   chat-load --port P [--port P2 ...] [--host 127.0.0.1] [--path /ws] [--clients 1000]
 *             [--rooms 10] [--senders 10] [--depth 1] [--size 64] [--idle S] [--warmup S]
 *             [--duration S]
 *
 * Opens --clients WebSocket connections (RFC 6455 opening handshake with a fixed key, checked
 * against the 101 and its Sec-WebSocket-Accept), spread over the given ports (client k on port
 * k % ports), each in one room: client k joins room `r<(k / ports) % rooms>` with
 * {"type":"join","room":…} and waits for the server's {"type":"joined"…}. So every room has
 * members on every port (instance). Once all joined, it prints `joined` and stays silent for
 * --idle seconds (the driver reads the servers' memory: the idle cost of a client).
 *
 * Then --senders percent of each room's clients on each port (at least one per room) send
 * {"type":"message","room":…,"text":"<client> <seq> <sent-at-ns> xxx…"} (the text padded to
 * --size bytes), each keeping --depth messages in flight: a sender sends its next message when one
 * of its own comes back through the room. Every client reads everything; each message event
 * received is a delivery, and its latency is the time from its sender's write to its arrival
 * (one clock: same machine). Other frames (join notices, replies) are read and ignored; a ping
 * is answered with a pong.
 *
 * Output, one line each, flushed at once: `joined`, `window-start`, `window-end`, then one JSON
 * object: deliveries, deliveries_per_s, sent, p50_us, p90_us, p99_us, p999_us, max_us,
 * clients, joined, senders, failed_connects, closed_by_peer, open_at_end, client_cpu. Exit status
 * 0 when every client connected, joined, and stayed open, and messages were delivered. Bounded: an
 * alarm ends the process 60 s after its window should have closed; joining gives up after 60 s.
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

#define KEY "dGhlIHNhbXBsZSBub25jZQ=="
#define ACCEPT "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
#define MAX_PORTS 8
#define MAX_FRAME (4 << 20)

struct conn {
    int fd, open, joined, sender, room;
    uint64_t seq;       /* messages sent */
    int in_flight;      /* own messages not yet seen back */
    uint8_t *buf;       /* bytes received, not yet parsed */
    size_t have, cap;
};

static struct {
    const char *host, *path;
    int ports[MAX_PORTS], nports, clients, rooms, senders_percent, depth;
    size_t size;
    double idle, warmup, duration;
} opt = {"127.0.0.1", "/ws", {0}, 0, 1000, 10, 10, 1, 64, 1.0, 1.0, 5.0};

static int epfd;
static struct conn *conns;
static uint64_t window_start, window_end, deliveries, sent, failed_connects, closed_by_peer;
static int joined_count, sending;
static uint32_t *latencies; /* in 100 ns units, of deliveries inside the window */
static size_t latency_count, latency_capacity;
static uint32_t rng = 0x9E3779B9u;

static uint64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* Writes a masked text (or pong) frame carrying `payload` (blocking in practice: small frames). */
static void send_frame(int k, uint8_t opcode, const char *payload, size_t n) {
    struct conn *c = &conns[k];
    uint8_t frame[14 + 4096];
    if (n > 4096) n = 4096;
    size_t h = 0;
    frame[0] = (uint8_t)(0x80 | opcode);
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
    const uint8_t *mask = frame + h;
    h += 4;
    for (size_t i = 0; i < n; i++) frame[h + i] = (uint8_t)payload[i] ^ mask[i & 3];
    size_t total = h + n, done = 0;
    while (done < total) {
        ssize_t w = write(c->fd, frame + done, total - done);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0 && errno == EAGAIN) { /* the server is not reading: wait for room */
            struct timespec pause = {0, 50000};
            nanosleep(&pause, NULL);
            continue;
        }
        if (w <= 0) {
            if (c->open) closed_by_peer++;
            c->open = 0;
            return;
        }
        done += (size_t)w;
    }
}

static void send_message(int k) {
    char text[4096], json[4200];
    struct conn *c = &conns[k];
    int n = snprintf(text, sizeof text, "%d %llu %llu ", k, (unsigned long long)c->seq,
                     (unsigned long long)now_ns());
    while ((size_t)n < opt.size && n < (int)sizeof text - 1) text[n++] = 'x';
    text[n] = 0;
    int m = snprintf(json, sizeof json, "{\"type\":\"message\",\"room\":\"r%d\",\"text\":\"%s\"}", c->room, text);
    c->seq++;
    c->in_flight++;
    sent++;
    send_frame(k, 0x1, json, (size_t)m);
}

static void record_latency(uint64_t latency_ns) {
    if (latency_count == latency_capacity) {
        latency_capacity = latency_capacity ? latency_capacity * 2 : 1 << 20;
        latencies = realloc(latencies, latency_capacity * sizeof *latencies);
    }
    uint64_t l = latency_ns / 100;
    latencies[latency_count++] = l > UINT32_MAX ? UINT32_MAX : (uint32_t)l;
}

/* One text message from the server to client k. */
static void on_text(int k, const char *p, size_t n) {
    struct conn *c = &conns[k];
    /* Every server writes compact JSON, its keys in any order; the type decides. A `joined`
       reply holds the room's history (message events), so it is looked for first. */
    if (memmem(p, n, "\"type\":\"joined\"", 15)) {
        if (!c->joined) {
            c->joined = 1;
            joined_count++;
        }
        return;
    }
    if (!memmem(p, n, "\"type\":\"message\"", 16)) return;
    const char *text = memmem(p, n, "\"text\":\"", 8);
    if (!text) return;
    text += 8;
    char *end;
    long from = strtol(text, &end, 10);
    strtoull(end, &end, 10); /* seq */
    uint64_t at = strtoull(end, &end, 10);
    uint64_t t = now_ns();
    if (t >= window_start && t < window_end && at > 0) {
        deliveries++;
        record_latency(t - at);
    }
    if (from == k && sending) {
        c->in_flight--;
        if (t < window_end) send_message(k);
    }
}

/* Parses the frames buffered for client k. */
static void parse(int k) {
    struct conn *c = &conns[k];
    size_t at = 0;
    for (;;) {
        if (c->have - at < 2) break;
        const uint8_t *f = c->buf + at;
        uint8_t opcode = f[0] & 0x0f;
        size_t h = 2;
        uint64_t n = f[1] & 0x7f;
        if (n == 126) {
            if (c->have - at < 4) break;
            n = (uint64_t)f[2] << 8 | f[3];
            h = 4;
        } else if (n == 127) {
            if (c->have - at < 10) break;
            n = 0;
            for (int i = 0; i < 8; i++) n = n << 8 | f[2 + i];
            h = 10;
        }
        if (n > MAX_FRAME) {
            fprintf(stderr, "client %d: a frame of %llu bytes\n", k, (unsigned long long)n);
            c->open = 0;
            closed_by_peer++;
            close(c->fd);
            return;
        }
        if (c->have - at < h + n) {
            if (h + n > c->cap) {
                c->cap = h + n;
                c->buf = realloc(c->buf, c->cap);
            }
            break;
        }
        const char *payload = (const char *)c->buf + at + h;
        if (opcode == 0x1) on_text(k, payload, (size_t)n);
        else if (opcode == 0x9) send_frame(k, 0xA, payload, (size_t)n);
        else if (opcode == 0x8) {
            if (c->open) closed_by_peer++;
            c->open = 0;
            close(c->fd);
            return;
        }
        at += h + (size_t)n;
    }
    memmove(c->buf, c->buf + at, c->have - at);
    c->have -= at;
}

static void receive(int k) {
    struct conn *c = &conns[k];
    for (;;) {
        if (c->have == c->cap) {
            c->cap *= 2;
            c->buf = realloc(c->buf, c->cap);
        }
        ssize_t r = read(c->fd, c->buf + c->have, c->cap - c->have);
        if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
            if (c->open) closed_by_peer++;
            c->open = 0;
            close(c->fd);
            return;
        }
        if (r < 0) return;
        c->have += (size_t)r;
        parse(k);
        if (!c->open || (size_t)r < 16384) return;
    }
}

/* Connect (blocking, 10 s timeout) and upgrade. Returns the fd or -1. */
static int open_one(const struct sockaddr_in *to, int port) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct timeval tv = {10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (const struct sockaddr *)to, sizeof *to) < 0) goto fail;
    char request[512], response[4096];
    int n = snprintf(request, sizeof request,
                     "GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Key: " KEY "\r\nSec-WebSocket-Version: 13\r\n\r\n",
                     opt.path, opt.host, port);
    if (write(fd, request, (size_t)n) != n) goto fail;
    size_t have = 0;
    /* Read the response head byte by byte, so no frame byte is consumed with it. */
    while (have < sizeof response - 1) {
        if (read(fd, response + have, 1) != 1) goto fail;
        have++;
        if (have >= 4 && !memcmp(response + have - 4, "\r\n\r\n", 4)) break;
    }
    response[have] = 0;
    if (strncmp(response, "HTTP/1.1 101", 12) || !strcasestr(response, ACCEPT)) goto fail;
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
fail:
    close(fd);
    return -1;
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

/* Runs the loop until `until` (ns), or until every open client joined when `until_joined`. */
static void pump(uint64_t until, int until_joined) {
    struct epoll_event evs[1024];
    for (;;) {
        uint64_t t = now_ns();
        if (t >= until) return;
        if (until_joined) {
            int open = 0;
            for (int k = 0; k < opt.clients; k++) open += conns[k].open;
            if (joined_count >= open) return;
        }
        int n = epoll_wait(epfd, evs, 1024, (int)((until - t) / 1000000u) + 1);
        for (int i = 0; i < n; i++) {
            int k = (int)evs[i].data.u32;
            if (conns[k].open) receive(k);
        }
    }
}

static void usage(void) {
    fprintf(stderr, "usage: chat-load --port P [--port P2 ...] [--host H] [--path /ws] [--clients N] [--rooms R]\n"
                    "                 [--senders PERCENT] [--depth D] [--size B] [--idle S] [--warmup S]\n"
                    "                 [--duration S]\n");
    exit(2);
}

int main(int argc, char **argv) {
    for (int i = 1; i < argc; i += 2) {
        const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) usage();
        if (!strcmp(k, "--host")) opt.host = v;
        else if (!strcmp(k, "--port") && opt.nports < MAX_PORTS) opt.ports[opt.nports++] = atoi(v);
        else if (!strcmp(k, "--path")) opt.path = v;
        else if (!strcmp(k, "--clients")) opt.clients = atoi(v);
        else if (!strcmp(k, "--rooms")) opt.rooms = atoi(v);
        else if (!strcmp(k, "--senders")) opt.senders_percent = atoi(v);
        else if (!strcmp(k, "--depth")) opt.depth = atoi(v);
        else if (!strcmp(k, "--size")) opt.size = strtoul(v, NULL, 10);
        else if (!strcmp(k, "--idle")) opt.idle = atof(v);
        else if (!strcmp(k, "--warmup")) opt.warmup = atof(v);
        else if (!strcmp(k, "--duration")) opt.duration = atof(v);
        else usage();
    }
    if (!opt.nports || opt.clients < 1 || opt.rooms < 1 || opt.senders_percent < 1 || opt.depth < 1 ||
        opt.size < 40 || opt.size > 4000 || opt.duration <= 0)
        usage();
    signal(SIGPIPE, SIG_IGN);
    alarm((unsigned)(opt.idle + opt.warmup + opt.duration + 120));
    struct rlimit r;
    if (getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
        r.rlim_cur = r.rlim_max;
        setrlimit(RLIMIT_NOFILE, &r);
    }
    if ((epfd = epoll_create1(EPOLL_CLOEXEC)) < 0) return 2;
    conns = calloc((size_t)opt.clients, sizeof *conns);
    /* Client k: port k % ports, room (k / ports) % rooms, rank k / (ports * rooms) in its room on
       its port; ranks 0, step, 2 * step … send, so senders are spread evenly over rooms and ports. */
    int step = 100 / opt.senders_percent, senders = 0, opened = 0;
    for (int k = 0; k < opt.clients; k++) {
        int port = opt.ports[k % opt.nports];
        struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
        if (inet_pton(AF_INET, opt.host, &to.sin_addr) != 1) usage();
        struct conn *c = &conns[k];
        c->room = (k / opt.nports) % opt.rooms;
        c->sender = (k / (opt.nports * opt.rooms)) % step == 0;
        c->fd = open_one(&to, port);
        if (c->fd < 0) {
            failed_connects++;
            continue;
        }
        c->open = 1;
        c->cap = 65536;
        c->buf = malloc(c->cap);
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)k};
        epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev);
        opened++;
        senders += c->sender;
        char join[64];
        int n = snprintf(join, sizeof join, "{\"type\":\"join\",\"room\":\"r%d\"}", c->room);
        send_frame(k, 0x1, join, (size_t)n);
        pump(now_ns(), 0); /* read what is there already: the join notices pile up otherwise */
    }
    pump(now_ns() + 60000000000ull, 1);
    puts("joined");
    fflush(stdout);
    pump(now_ns() + (uint64_t)(opt.idle * 1e9), 0);

    uint64_t t0 = now_ns();
    window_start = t0 + (uint64_t)(opt.warmup * 1e9);
    window_end = window_start + (uint64_t)(opt.duration * 1e9);
    sending = 1;
    for (int d = 0; d < opt.depth; d++)
        for (int k = 0; k < opt.clients; k++)
            if (conns[k].open && conns[k].sender) send_message(k);
    pump(window_start, 0);
    double cpu_at_start = cpu_seconds();
    puts("window-start");
    fflush(stdout);
    pump(window_end, 0);
    double cpu = (cpu_seconds() - cpu_at_start) / opt.duration;
    puts("window-end");
    fflush(stdout);
    int still_open = 0;
    for (int k = 0; k < opt.clients; k++) still_open += conns[k].open;
    qsort(latencies, latency_count, sizeof *latencies, compare);
    printf("{\"clients\": %d, \"rooms\": %d, \"senders\": %d, \"depth\": %d, \"size\": %zu, \"duration_s\": %g, "
           "\"deliveries\": %llu, \"deliveries_per_s\": %.1f, \"sent\": %llu, \"p50_us\": %.1f, \"p90_us\": %.1f, "
           "\"p99_us\": %.1f, \"p999_us\": %.1f, \"max_us\": %.1f, \"joined\": %d, \"failed_connects\": %llu, "
           "\"closed_by_peer\": %llu, \"open_at_end\": %d, \"client_cpu\": %.3f}\n",
           opt.clients, opt.rooms, senders, opt.depth, opt.size, opt.duration, (unsigned long long)deliveries,
           (double)deliveries / opt.duration, (unsigned long long)sent, percentile_us(0.5), percentile_us(0.9),
           percentile_us(0.99), percentile_us(0.999), latency_count ? latencies[latency_count - 1] / 10.0 : 0,
           joined_count, (unsigned long long)failed_connects, (unsigned long long)closed_by_peer, still_open, cpu);
    fflush(stdout);
    return opened == opt.clients && still_open == opt.clients && joined_count == opt.clients && deliveries > 0 ? 0
                                                                                                                : 1;
}
