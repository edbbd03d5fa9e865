// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * A test helper (tests/t_membership.sh, test_learn_churn) that plays many
 * receivers on one host: it joins N consecutive IPv4 groups on one
 * interface, holds them, leaves them, and does it again, so that the
 * host's kernel sends IGMP joins and leaves for all of them at once.
 * `mctun recv` joins one group, and a thousand of them would be a
 * thousand processes.
 *
 *   mjoin -i IF -g FIRST -n N [-c CYCLES] [-d SECS] [-H MS] [-G MS] [-r FILE]
 *
 * Without -c (or with -c 0) it joins once, creates FILE (-r) and holds
 * until SIGTERM or SIGINT; exiting closes the sockets, which leaves every
 * group (a receiver that dies). With -c, each cycle joins all N, holds
 * them -H ms (default 1000), leaves them with IP_DROP_MEMBERSHIP and
 * waits; it stops after CYCLES cycles or, with -d, once SECS have passed
 * at the end of a cycle, so that it always stops with every group left.
 * The waits after a leave alternate between -G ms (default 1000) and a
 * tenth of it: a router sees the groups joined again while it still asks
 * whether anyone wants them, then gone for good. A signal stops it at
 * once. It prints "cycles C joins J leaves L" on stdout at exit.
 *
 * A socket holds at most net.ipv4.igmp_max_memberships groups (20 by
 * default), so the groups are spread over sockets of 20 each.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PER_SOCKET 20
#define MAX_GROUPS 65536

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Sleeps ms, cut short by a signal. */
static void nap(unsigned long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	if (!stop)
		nanosleep(&ts, NULL);
}

static int num(const char *s, unsigned long max, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 10);
	if (errno || end == s || *end || *out > max) {
		fprintf(stderr, "mjoin: bad number '%s' (0 to %lu)\n", s, max);
		return -1;
	}
	return 0;
}

/* Joins (or leaves) every group; 0, or -1 with the group that failed named. */
static int member(const int *fd, struct in_addr first, unsigned long n, int ifindex, int opt)
{
	struct ip_mreqn mr = { .imr_ifindex = ifindex };
	char a[INET_ADDRSTRLEN];
	unsigned long i;

	for (i = 0; i < n; i++) {
		mr.imr_multiaddr.s_addr = htonl(ntohl(first.s_addr) + i);
		if (setsockopt(fd[i / PER_SOCKET], IPPROTO_IP, opt, &mr, sizeof(mr))) {
			inet_ntop(AF_INET, &mr.imr_multiaddr, a, sizeof(a));
			fprintf(stderr, "mjoin: %s %s: %s\n",
				opt == IP_ADD_MEMBERSHIP ? "join" : "leave", a, strerror(errno));
			return -1;
		}
	}
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: mjoin -i IF -g FIRST -n N [-c CYCLES] [-d SECS] [-H MS] [-G MS]"
		" [-r FILE]\n");
}

int main(int argc, char **argv)
{
	unsigned long n = 0, cycles = 0, secs = 0, hold = 1000, gap = 1000, done = 0, v;
	unsigned long joins = 0, leaves = 0, i;
	const char *ifname = NULL, *ready = NULL;
	struct sigaction sa = { .sa_handler = on_signal };
	struct in_addr first = { 0 };
	int *fd = NULL, ifindex, c, rc = 1;
	double start;

	while ((c = getopt(argc, argv, "i:g:n:c:d:H:G:r:")) != -1) {
		switch (c) {
		case 'i': ifname = optarg; break;
		case 'g':
			if (inet_pton(AF_INET, optarg, &first) != 1 || !IN_MULTICAST(ntohl(first.s_addr))) {
				fprintf(stderr, "mjoin: bad group '%s'\n", optarg);
				return 2;
			}
			break;
		case 'n': if (num(optarg, MAX_GROUPS, &n)) return 2; break;
		case 'c': if (num(optarg, 1000000, &cycles)) return 2; break;
		case 'd': if (num(optarg, 86400, &secs)) return 2; break;
		case 'H': if (num(optarg, 3600000, &hold)) return 2; break;
		case 'G': if (num(optarg, 3600000, &gap)) return 2; break;
		case 'r': ready = optarg; break;
		default: usage(); return 2;
		}
	}
	if (!ifname || !first.s_addr || !n || optind != argc || (secs && !cycles)) {
		usage();
		return 2;
	}
	/* the whole block stays in 224.0.0.0/4 */
	if (ntohl(first.s_addr) + (n - 1) > 0xefffffffu) {
		fprintf(stderr, "mjoin: %lu groups from %s run past 239.255.255.255\n", n,
			inet_ntoa(first));
		return 2;
	}
	ifindex = if_nametoindex(ifname);
	if (!ifindex) {
		fprintf(stderr, "mjoin: interface %s: %s\n", ifname, strerror(errno));
		return 2;
	}
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	fd = calloc((n + PER_SOCKET - 1) / PER_SOCKET, sizeof(*fd));
	if (!fd) {
		fprintf(stderr, "mjoin: out of memory\n");
		return 1;
	}
	for (i = 0; i < (n + PER_SOCKET - 1) / PER_SOCKET; i++) {
		fd[i] = socket(AF_INET, SOCK_DGRAM, 0);
		if (fd[i] < 0) {
			fprintf(stderr, "mjoin: socket %lu: %s\n", i, strerror(errno));
			goto cleanup;
		}
	}
	start = now_s();
	if (!cycles) {
		if (member(fd, first, n, ifindex, IP_ADD_MEMBERSHIP))
			goto cleanup;
		joins = n;
		if (ready) {
			FILE *f = fopen(ready, "w");

			if (!f || fclose(f)) {
				fprintf(stderr, "mjoin: %s: %s\n", ready, strerror(errno));
				goto cleanup;
			}
		}
		while (!stop)
			pause();
		rc = 0;
		goto cleanup;
	}
	while (!stop && done < cycles) {
		if (member(fd, first, n, ifindex, IP_ADD_MEMBERSHIP))
			goto cleanup;
		joins += n;
		nap(hold);
		if (member(fd, first, n, ifindex, IP_DROP_MEMBERSHIP))
			goto cleanup;
		leaves += n;
		done++;
		if (secs && now_s() - start >= secs)
			break;
		nap(done % 2 ? gap : gap / 10);
	}
	rc = 0;
cleanup:
	/* closing the sockets leaves what is still joined */
	for (v = 0; fd && v < (n + PER_SOCKET - 1) / PER_SOCKET; v++)
		if (fd[v] > 0)
			close(fd[v]);
	free(fd);
	if (ready)
		unlink(ready);
	printf("cycles %lu joins %lu leaves %lu\n", done, joins, leaves);
	return rc;
}
