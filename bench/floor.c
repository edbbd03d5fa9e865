// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * bench/floor: what putting datagrams onto an island costs the process that
 * sends them, and nothing else: the floor under a re-injecting gateway.
 *
 *   floor IFACE GROUP PORT --rate PPS --batch N [--size BYTES] [--secs S]
 *
 * Sleeps to absolute deadlines (clock_nanosleep, never spins) and at each
 * wakes sends N datagrams of BYTES to GROUP:PORT out of IFACE as one UDP GSO
 * send (UDP_SEGMENT), multicast loopback off: the way `mctun run` re-injects
 * a batch from the tunnel for a group nobody on the gateway joined. It reads
 * nothing, frames nothing and looks nothing up. At the end it prints one
 * JSON object: datagrams sent, the seconds it took, and its own CPU time
 * (utime + stime, getrusage) per datagram, which on a veth includes the
 * softirq that delivers into the receivers' sockets, as the kernel charges
 * it to the sender.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif

static double num(const char *what, const char *s, double lo, double hi)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || v < lo || v > hi) {
		fprintf(stderr, "floor: %s '%s': not a number from %g to %g\n", what, s, lo, hi);
		exit(2);
	}
	return v;
}

static double mono(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "rate", required_argument, NULL, 'r' },
		{ "batch", required_argument, NULL, 'b' },
		{ "size", required_argument, NULL, 's' },
		{ "secs", required_argument, NULL, 'd' },
		{ 0 },
	};
	double rate = 100000, secs = 3, t0, el, us;
	int batch = 20, size = 200, ttl = 4, off = 0, s, c;
	struct sockaddr_in to = { .sin_family = AF_INET };
	struct ip_mreqn m = { 0 };
	struct timespec next;
	struct rusage ru;
	long n, i, step;
	char *buf;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'r': rate = num("--rate", optarg, 1, 10e6); break;
		case 'b': batch = (int)num("--batch", optarg, 1, 64); break;
		case 's': size = (int)num("--size", optarg, 1, 1472); break;
		case 'd': secs = num("--secs", optarg, 0.1, 600); break;
		default: return 2;
		}
	}
	if (argc - optind != 3) {
		fprintf(stderr, "usage: floor IFACE GROUP PORT --rate PPS --batch N "
				"[--size BYTES] [--secs S]\n");
		return 2;
	}
	if ((long)batch * size > 65000) {
		fprintf(stderr, "floor: --batch %d of --size %d: over the 65,000 bytes of one send\n",
			batch, size);
		return 2;
	}
	m.imr_ifindex = (int)if_nametoindex(argv[optind]);
	if (!m.imr_ifindex) {
		fprintf(stderr, "floor: interface '%s': %s\n", argv[optind], strerror(errno));
		return 1;
	}
	if (inet_pton(AF_INET, argv[optind + 1], &to.sin_addr) != 1 ||
	    !IN_MULTICAST(ntohl(to.sin_addr.s_addr))) {
		fprintf(stderr, "floor: group '%s': not an IPv4 multicast address\n", argv[optind + 1]);
		return 2;
	}
	to.sin_port = htons((uint16_t)num("port", argv[optind + 2], 1, 65535));
	s = socket(AF_INET, SOCK_DGRAM, 0);
	if (s < 0 || setsockopt(s, IPPROTO_IP, IP_MULTICAST_IF, &m, sizeof(m)) ||
	    setsockopt(s, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof(ttl)) ||
	    setsockopt(s, IPPROTO_IP, IP_MULTICAST_LOOP, &off, sizeof(off)) ||
	    (batch > 1 && setsockopt(s, SOL_UDP, UDP_SEGMENT, &size, sizeof(size)))) {
		fprintf(stderr, "floor: socket: %s\n", strerror(errno));
		return 1;
	}
	buf = calloc(batch, size);
	if (!buf)
		return 1;
	n = (long)(rate * secs / batch);
	step = (long)(batch / rate * 1e9);
	clock_gettime(CLOCK_MONOTONIC, &next);
	t0 = mono();
	for (i = 0; i < n; i++) {
		next.tv_nsec += step;
		while (next.tv_nsec >= 1000000000) {
			next.tv_nsec -= 1000000000;
			next.tv_sec++;
		}
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
		if (sendto(s, buf, (size_t)batch * size, 0, (struct sockaddr *)&to, sizeof(to)) < 0) {
			fprintf(stderr, "floor: send: %s\n", strerror(errno));
			return 1;
		}
	}
	el = mono() - t0;
	getrusage(RUSAGE_SELF, &ru);
	us = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 + ru.ru_utime.tv_usec +
	     ru.ru_stime.tv_usec;
	printf("{\"batch\":%d,\"size\":%d,\"rate_pps\":%.0f,\"sent\":%ld,\"secs\":%.3f,"
	       "\"cpu_us_per_datagram\":%.3f}\n",
	       batch, size, rate, n * batch, el, us / (double)(n * batch));
	free(buf);
	close(s);
	return 0;
}
