// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>

#include "log.h"
#include "util.h"

int parse_u64(const char *opt, const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	const char *digits = "0123456789", *p = s;
	char *end;
	int base = 10;

	/* Decimal, or hex after 0x; never octal, no sign, no white space.
	 * The digits are checked here because strtoull is looser: it skips
	 * white space, takes a sign, and in base 16 a second "0x". */
	if (p && p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		digits = "0123456789abcdefABCDEF";
		base = 16;
		p += 2;
	}
	if (!p || !*p || p[strspn(p, digits)]) {
		pr_warn("%s: '%s' is not a number\n", opt, s ? s : "");
		return -EINVAL;
	}
	errno = 0;
	v = strtoull(p, &end, base);
	if (errno || *end || v < min || v > max) {
		pr_warn("%s: %s is out of range (%llu to %llu)\n", opt, s,
			(unsigned long long)min, (unsigned long long)max);
		return -ERANGE;
	}
	*out = v;
	return 0;
}

int parse_u32(const char *opt, const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
	uint64_t v;
	int err = parse_u64(opt, s, min, max, &v);

	if (!err)
		*out = (uint32_t)v;
	return err;
}

int parse_seconds(const char *opt, const char *s, double min, double max, double *out)
{
	double v, mul = 1;
	char *end;

	if (!s || !(isdigit((unsigned char)*s) || *s == '.')) {
		pr_warn("%s: '%s' is not a duration\n", opt, s ? s : "");
		return -EINVAL;
	}
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || isnan(v)) {
		pr_warn("%s: '%s' is not a duration\n", opt, s);
		return -EINVAL;
	}
	if (!strcmp(end, "ms"))
		mul = 1e-3;
	else if (!strcmp(end, "us"))
		mul = 1e-6;
	else if (!strcmp(end, "m"))
		mul = 60;
	else if (*end && strcmp(end, "s")) {
		pr_warn("%s: '%s' has an unknown unit (use us, ms, s or m)\n", opt, s);
		return -EINVAL;
	}
	v *= mul;
	if (v < min || v > max) {
		pr_warn("%s: %s is out of range (%g to %g seconds)\n", opt, s, min, max);
		return -ERANGE;
	}
	*out = v;
	return 0;
}

int parse_size(const char *opt, const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	uint64_t mul = 1;
	char *end;

	if (!s || !isdigit((unsigned char)*s)) {
		pr_warn("%s: '%s' is not a size\n", opt, s ? s : "");
		return -EINVAL;
	}
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s) {
		pr_warn("%s: '%s' is not a size\n", opt, s);
		return -EINVAL;
	}
	if (!strcasecmp(end, "k") || !strcasecmp(end, "kib"))
		mul = 1ULL << 10;
	else if (!strcasecmp(end, "m") || !strcasecmp(end, "mib"))
		mul = 1ULL << 20;
	else if (!strcasecmp(end, "g") || !strcasecmp(end, "gib"))
		mul = 1ULL << 30;
	else if (*end) {
		pr_warn("%s: '%s' has an unknown unit (use K, M or G)\n", opt, s);
		return -EINVAL;
	}
	if (v > max / mul || v * mul < min || v * mul > max) {
		pr_warn("%s: %s is out of range (%llu to %llu bytes)\n", opt, s,
			(unsigned long long)min, (unsigned long long)max);
		return -ERANGE;
	}
	*out = v * mul;
	return 0;
}

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

uint64_t now_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

uint64_t realtime_ns(void)
{
	return clock_ns(CLOCK_REALTIME);
}

int iface_index(const char *name, unsigned int *ifindex)
{
	unsigned int idx;

	if (!name || !*name || strlen(name) >= IF_NAMESIZE) {
		pr_warn("interface '%s': invalid name\n", name ? name : "");
		return -EINVAL;
	}
	idx = if_nametoindex(name);
	if (!idx) {
		int err = -errno;

		pr_warn("interface '%s': %s\n", name,
			err == -ENODEV ? "no such interface" : strerror(-err));
		return err ? err : -ENODEV;
	}
	*ifindex = idx;
	return 0;
}

unsigned long long cap_effective(void)
{
	unsigned long long caps = 0;
	char line[256];
	FILE *f;

	f = fopen("/proc/self/status", "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %llx", &caps) == 1)
			break;
	fclose(f);
	return caps;
}

int random_bytes(void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = getrandom((char *)buf + done, len - done, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		done += n;
	}
	return 0;
}

int set_sockopt_int(int fd, int level, int name, int val, const char *who, const char *what)
{
	if (setsockopt(fd, level, name, &val, sizeof(val)) < 0) {
		int err = -errno;

		pr_warn("%s: set %s: %s\n", who, what, strerror(-err));
		return err;
	}
	return 0;
}

int opt_error(const char *cmd, int c, char *const argv[])
{
	if (c == ':')
		pr_warn("%s: option '%s' needs a value\n", cmd, argv[optind - 1]);
	else
		pr_warn("%s: unknown option '%s' (see mctun %s --help)\n", cmd,
			argv[optind - 1], cmd);
	return -EINVAL;
}
