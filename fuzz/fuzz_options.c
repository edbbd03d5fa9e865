// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The option parsers on arbitrary strings (the input, NUL-terminated):
 * hostport_parse() (not resolve), parse_u64, parse_u32, parse_size and
 * parse_seconds, each held to what its header promises.
 *
 * - hostport_parse: an accepted HOST:PORT has a non-empty host that fits
 *   the buffer and a port in 1..65535; printed back ("[h]:p" when h has a
 *   colon) it parses to the same host and port.
 * - parse_u64 / parse_u32: "decimal or 0x hex, nothing trailing": accepted
 *   exactly when the text is digits, or 0x and hex digits, and the value
 *   fits the range; the value is that of the text.
 * - parse_size: decimal digits with an optional K/M/G (KiB/MiB/GiB) suffix,
 *   any case; the value is digits x 1024^n, refused when it overflows.
 * - parse_seconds: an accepted value is finite and inside [min, max]; plain
 *   digits with an optional unit mean what they say.
 * Refusals are -EINVAL or -ERANGE.
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "addr.h"
#include "fuzz.h"
#include "log.h"
#include "util.h"

static void check_err(int err, const char *what)
{
	CHECK(err == 0 || err == -EINVAL || err == -ERANGE, "%s returned %d", what, err);
}

static void fuzz_hostport(const char *s)
{
	char host[256], host2[256], text[300];
	uint16_t port = 0, port2 = 0;
	int err;

	memset(host, 0x5a, sizeof(host));
	err = hostport_parse("--peer", s, host, sizeof(host), &port);
	check_err(err, "hostport_parse");
	if (err)
		return;
	CHECK(memchr(host, '\0', sizeof(host)), "host not terminated");
	CHECK(host[0], "empty host accepted from '%s'", s);
	CHECK(port >= 1, "port 0 accepted from '%s'", s);
	snprintf(text, sizeof(text), strchr(host, ':') ? "[%s]:%u" : "%s:%u", host, port);
	err = hostport_parse("--peer", text, host2, sizeof(host2), &port2);
	CHECK(!err, "'%s' (from '%s') does not parse back: %d", text, s, err);
	CHECK(!strcmp(host, host2) && port == port2, "'%s' parses back to '%s' port %u", text,
	      host2, port2);

	/* A host that does not fit is refused, never cut. */
	err = hostport_parse("--peer", s, host2, strlen(host), &port2);
	CHECK(err == -EINVAL, "a %zu-byte host fit a %zu-byte buffer", strlen(host),
	      strlen(host));
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* What the header promises: digits, or 0x and hex digits; 0 or -EINVAL,
 * and -ERANGE for a value past 64 bits. */
static int ref_u64(const char *s, uint64_t *out)
{
	unsigned int base = 10;
	uint64_t v = 0;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	if (!*s)
		return -EINVAL;
	for (; *s; s++) {
		int d = hexval(*s);

		if (d < 0 || (unsigned int)d >= base)
			return -EINVAL;
		if (v > (UINT64_MAX - d) / base)
			return -ERANGE;
		v = v * base + d;
	}
	*out = v;
	return 0;
}

static void fuzz_numbers(const char *s)
{
	uint64_t v = 0, ref = 0, v2 = 0;
	uint32_t u = 0;
	int err, rerr;

	rerr = ref_u64(s, &ref);

	err = parse_u64("--count", s, 0, UINT64_MAX, &v);
	check_err(err, "parse_u64");
	CHECK(!err == !rerr, "parse_u64('%s') = %d, its contract says %d", s, err, rerr);
	if (!err)
		CHECK(v == ref, "parse_u64('%s') = %llu, the text says %llu", s,
		      (unsigned long long)v, (unsigned long long)ref);

	err = parse_u64("--count", s, 100, 1000, &v2);
	check_err(err, "parse_u64");
	CHECK(!err == (!rerr && ref >= 100 && ref <= 1000), "parse_u64('%s', 100..1000) = %d", s,
	      err);
	if (!err)
		CHECK(v2 == ref, "parse_u64('%s', 100..1000) value", s);

	err = parse_u32("--ttl", s, 1, 255, &u);
	check_err(err, "parse_u32");
	CHECK(!err == (!rerr && ref >= 1 && ref <= 255), "parse_u32('%s', 1..255) = %d", s, err);
	if (!err)
		CHECK(u == ref, "parse_u32('%s') = %u, the text says %llu", s, u,
		      (unsigned long long)ref);
}

/* Digits, then nothing or one of the units; 0, -EINVAL or -ERANGE. */
static int ref_size(const char *s, uint64_t *out)
{
	static const char *const units[] = { "", "k", "m", "g", "kib", "mib", "gib" };
	static const unsigned int shift[] = { 0, 10, 20, 30, 10, 20, 30 };
	const char *p = s;
	uint64_t v = 0;
	unsigned int i;
	bool big = false;

	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > (UINT64_MAX - (*p - '0')) / 10)
			big = true;
		v = v * 10 + (*p - '0');
	}
	if (p == s)
		return -EINVAL;
	for (i = 0; i < ARRAY_SIZE(units); i++) {
		if (strcasecmp(p, units[i]))
			continue;
		if (big || v > UINT64_MAX >> shift[i])
			return -ERANGE;
		*out = v << shift[i];
		return 0;
	}
	return -EINVAL;
}

static void fuzz_size(const char *s)
{
	uint64_t v = 0, ref = 0;
	int err, rerr;

	rerr = ref_size(s, &ref);
	err = parse_size("--ring-size", s, 0, UINT64_MAX, &v);
	check_err(err, "parse_size");
	CHECK(!err == !rerr, "parse_size('%s') = %d, its contract says %d", s, err, rerr);
	if (!err)
		CHECK(v == ref, "parse_size('%s') = %llu, the text says %llu", s,
		      (unsigned long long)v, (unsigned long long)ref);

	err = parse_size("--ring-size", s, 1 << 16, 1ULL << 30, &v);
	check_err(err, "parse_size");
	CHECK(!err == (!rerr && ref >= 1 << 16 && ref <= 1ULL << 30),
	      "parse_size('%s', 64K..1G) = %d", s, err);
	if (!err)
		CHECK(v == ref, "parse_size('%s', 64K..1G) value", s);
}

static void fuzz_seconds(const char *s)
{
	double v = -1;
	int err;

	err = parse_seconds("--keepalive", s, 0.05, 3600, &v);
	check_err(err, "parse_seconds");
	if (!err)
		CHECK(isfinite(v) && v >= 0.05 && v <= 3600, "parse_seconds('%s') = %g", s, v);

	err = parse_seconds("--duration", s, 0, 1e9, &v);
	check_err(err, "parse_seconds");
	if (!err)
		CHECK(isfinite(v) && v >= 0 && v <= 1e9, "parse_seconds('%s') = %g", s, v);

	/* Plain digits and a unit mean what they say. */
	{
		uint64_t n = 0;
		size_t i = 0;

		while (s[i] >= '0' && s[i] <= '9' && i < 9)
			n = n * 10 + (s[i++] - '0');
		if (i && (!s[i] || !strcmp(s + i, "s") || !strcmp(s + i, "ms") ||
			  !strcmp(s + i, "m"))) {
			double want = !strcmp(s + i, "ms") ? n * 1e-3 :
				      !strcmp(s + i, "m") ? n * 60.0 : (double)n;

			if (want <= 1e9)
				CHECK(!err && fabs(v - want) <= want * 1e-12,
				      "parse_seconds('%s') = %g", s, v);
		}
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_level = -1;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	memcpy(s, data, size);
	s[size] = '\0';
	fuzz_hostport(s);
	fuzz_numbers(s);
	fuzz_size(s);
	fuzz_seconds(s);
	free(s);
	return 0;
}
