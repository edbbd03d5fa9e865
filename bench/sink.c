// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * bench/sink: N lightweight mctun tunnel peers in one process, for the
 * fan-out benchmark of `make bench`.
 *
 *   sink HOST PORT N [--duration SECS] [--ready-file PATH]
 *
 * Opens N TCP connections to an mctun gateway's --listen address, sends each
 * a HELLO (docs/PROTOCOL.md: version 1, a random node id per connection, no
 * capabilities, no authentication), a KEEPALIVE every second so the gateway
 * keeps them, and reads and counts the gateway's frames with one bounded
 * buffer. Once every connection has received the gateway's HELLO (or 5 s
 * have passed) it creates the ready file, holding the number of connections
 * that are up. It stops after --duration (default 60 s) or on SIGINT or
 * SIGTERM and prints one JSON object: connections, up (hello received),
 * closed (by the gateway or for a protocol error), errors, and per
 * connection the DATA frames and bytes received, with min, avg and max.
 *
 * Payloads are not checked: delivery to a real island is verified by the
 * benchmark with a real mctun peer and `mctun recv` behind it.
 */
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
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS   4096
#define RBUF        (256 * 1024)
#define T_HELLO     1
#define T_DATA      2
#define T_KEEPALIVE 3
#define HELLO_LEN   24
#define DATA_MIN    56
#define DATA_MAX    (56 + 65527)

struct conn {
	int fd;
	int up;             /* gateway's HELLO received */
	int closed;
	uint8_t hdr[8];
	unsigned hdr_got;
	uint32_t body_left;
	uint64_t frames;    /* DATA frames */
	uint64_t bytes;     /* DATA frame bodies */
	uint64_t other;     /* HELLO and KEEPALIVE frames */
};

static volatile sig_atomic_t stop;
static void on_signal(int sig) { (void)sig; stop = 1; }

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void put32(uint8_t *p, uint32_t v) { p[0] = v >> 24; p[1] = v >> 16; p[2] = v >> 8; p[3] = v; }
static uint32_t get32(const uint8_t *p) { return (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3]; }

static void usage(void)
{
	fprintf(stderr, "usage: sink HOST PORT N [--duration SECS] [--ready-file PATH]\n");
	exit(2);
}

/* Frame parsing over a byte stream: a header, then a body that is skipped. */
static int feed(struct conn *c, const uint8_t *p, size_t n)
{
	while (n) {
		if (c->body_left) {
			size_t k = n < c->body_left ? n : c->body_left;
			c->body_left -= k;
			p += k;
			n -= k;
			continue;
		}
		size_t k = sizeof(c->hdr) - c->hdr_got;
		if (k > n)
			k = n;
		memcpy(c->hdr + c->hdr_got, p, k);
		c->hdr_got += k;
		p += k;
		n -= k;
		if (c->hdr_got < sizeof(c->hdr))
			break;
		c->hdr_got = 0;
		uint32_t len = get32(c->hdr + 4);
		if (c->hdr[1] || c->hdr[2] || c->hdr[3])
			return -1;
		switch (c->hdr[0]) {
		case T_HELLO:
			if (c->up || len < HELLO_LEN || len > HELLO_LEN + 1024)
				return -1;
			c->up = 1;
			c->other++;
			break;
		case T_DATA:
			if (!c->up || len < DATA_MIN || len > DATA_MAX)
				return -1;
			c->frames++;
			c->bytes += len;
			break;
		case T_KEEPALIVE:
			if (len)
				return -1;
			c->other++;
			break;
		default:
			return -1;
		}
		c->body_left = len;
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *ready = NULL;
	double duration = 60;
	struct sockaddr_in sa = { .sin_family = AF_INET };
	static struct conn conns[MAX_CONNS];
	static uint8_t buf[RBUF];
	int n, i, ep, ready_done = 0, errors = 0;

	if (argc < 4)
		usage();
	if (inet_pton(AF_INET, argv[1], &sa.sin_addr) != 1)
		usage();
	sa.sin_port = htons(atoi(argv[2]));
	n = atoi(argv[3]);
	if (n < 1 || n > MAX_CONNS)
		usage();
	for (i = 4; i < argc; i++) {
		if (!strcmp(argv[i], "--duration") && i + 1 < argc)
			duration = atof(argv[++i]);
		else if (!strcmp(argv[i], "--ready-file") && i + 1 < argc)
			ready = argv[++i];
		else
			usage();
	}

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0) {
		perror("sink: epoll");
		return 1;
	}

	for (i = 0; i < n; i++) {
		struct conn *c = &conns[i];
		uint8_t hello[8 + HELLO_LEN] = { T_HELLO, 0, 0, 0 };
		int one = 1;

		c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
			fprintf(stderr, "sink: connection %d: %s\n", i, strerror(errno));
			c->closed = 1;
			errors++;
			continue;
		}
		setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		put32(hello + 4, HELLO_LEN);
		memcpy(hello + 8, "MCTN", 4);
		hello[12] = 1;  /* version; flags, auth_type, reserved 0 */
		if (getrandom(hello + 16, 8, 0) != 8) {
			perror("sink: getrandom");
			return 1;
		}
		/* caps, auth_len, reserved: 0 */
		if (write(c->fd, hello, sizeof(hello)) != (ssize_t)sizeof(hello)) {
			fprintf(stderr, "sink: connection %d: hello: %s\n", i, strerror(errno));
			close(c->fd);
			c->closed = 1;
			errors++;
			continue;
		}
		fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
		struct epoll_event ev = { .events = EPOLLIN, .data.u32 = i };
		epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
	}

	double t0 = now(), next_ka = t0 + 1;
	while (!stop && now() - t0 < duration) {
		struct epoll_event evs[64];
		int k = epoll_wait(ep, evs, 64, 100);

		if (k < 0 && errno != EINTR) {
			perror("sink: epoll_wait");
			break;
		}
		for (int e = 0; e < k; e++) {
			struct conn *c = &conns[evs[e].data.u32];
			/* bounded: a few reads per event, then the others get a turn */
			for (int r = 0; r < 4 && !c->closed; r++) {
				ssize_t got = read(c->fd, buf, sizeof(buf));
				if (got < 0 && (errno == EAGAIN || errno == EINTR))
					break;
				if (got <= 0 || feed(c, buf, got) < 0) {
					if (got != 0)
						errors++;
					close(c->fd);
					c->closed = 1;
					break;
				}
				if ((size_t)got < sizeof(buf))
					break;
			}
		}
		double t = now();
		if (t >= next_ka) {
			static const uint8_t ka[8] = { T_KEEPALIVE };
			for (i = 0; i < n; i++)
				if (!conns[i].closed && write(conns[i].fd, ka, sizeof(ka)) != sizeof(ka))
					errors++;
			next_ka = t + 1;
		}
		if (!ready_done) {
			int up = 0, open = 0;
			for (i = 0; i < n; i++) {
				up += conns[i].up && !conns[i].closed;
				open += !conns[i].closed;
			}
			if ((up == open || t - t0 > 5) && ready) {
				FILE *f = fopen(ready, "w");
				if (f) {
					fprintf(f, "%d\n", up);
					fclose(f);
				}
			}
			ready_done = up == open || t - t0 > 5;
		}
	}

	uint64_t min = UINT64_MAX, max = 0, sum = 0, bytes = 0;
	int up = 0, closed = 0;
	for (i = 0; i < n; i++) {
		struct conn *c = &conns[i];
		min = c->frames < min ? c->frames : min;
		max = c->frames > max ? c->frames : max;
		sum += c->frames;
		bytes += c->bytes;
		up += c->up;
		closed += c->closed;
	}
	printf("{\"connections\":%d,\"up\":%d,\"closed\":%d,\"errors\":%d,\"duration_s\":%.3f,"
	       "\"frames_min\":%llu,\"frames_avg\":%.1f,\"frames_max\":%llu,\"frames_total\":%llu,"
	       "\"bytes_total\":%llu,\"frames\":[",
	       n, up, closed, errors, now() - t0, (unsigned long long)min, (double)sum / n,
	       (unsigned long long)max, (unsigned long long)sum, (unsigned long long)bytes);
	for (i = 0; i < n; i++)
		printf("%s%llu", i ? "," : "", (unsigned long long)conns[i].frames);
	printf("]}\n");
	return 0;
}
