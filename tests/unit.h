/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The harness of the unit tests written in C (unit_mship, unit_subs,
 * unit_ippkt). A case is a function; the first check that fails in it is
 * the one reported ("not ok - NAME: line N: why"), a case with none prints
 * "ok - NAME", and unit_summary() ends the output with "PROG: N ok, M not
 * ok" and gives the exit status (1 when a case failed).
 */
#ifndef MCTUN_TESTS_UNIT_H
#define MCTUN_TESTS_UNIT_H

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char unit_why[512];
static int unit_failed;                  /* checks failed in the case running */
static unsigned int unit_ok, unit_bad;   /* cases */

static inline void unit_note(int line, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static inline void unit_note(int line, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (unit_failed++)
		return;          /* the first failure is the one to read */
	n = snprintf(unit_why, sizeof(unit_why), "line %d: ", line);
	va_start(ap, fmt);
	vsnprintf(unit_why + n, sizeof(unit_why) - n, fmt, ap);
	va_end(ap);
}

/* In a void function: stop it at the first failed check. */
#define CHECK(cond, ...)						\
	do {								\
		if (!(cond)) {						\
			unit_note(__LINE__, __VA_ARGS__);		\
			return;						\
		}							\
	} while (0)
/* The same in a helper that returns 0 on success, -1 on failure. */
#define CHECK_R(cond, ...)						\
	do {								\
		if (!(cond)) {						\
			unit_note(__LINE__, __VA_ARGS__);		\
			return -1;					\
		}							\
	} while (0)
/* Note a failure and go on. */
#define NOTE(...) unit_note(__LINE__, __VA_ARGS__)

/* Run one case and report it. */
static inline void unit_run(const char *name, void (*fn)(void))
{
	unit_failed = 0;
	fn();
	if (unit_failed) {
		printf("not ok - %s: %s\n", name, unit_why);
		unit_bad++;
	} else {
		printf("ok - %s\n", name);
		unit_ok++;
	}
}

/* The last line; the exit status. */
static inline int unit_summary(const char *prog)
{
	printf("%s: %u ok, %u not ok\n", prog, unit_ok, unit_bad);
	return unit_bad ? 1 : 0;
}

/* A text address into 16 bytes (IPv4 in the first 4); a bad one in a
 * test ends the program. */
static inline void A(const char *s, uint8_t out[16])
{
	memset(out, 0, 16);
	if (inet_pton(strchr(s, ':') ? AF_INET6 : AF_INET, s, out) != 1) {
		fprintf(stderr, "bad address in a test: %s\n", s);
		exit(2);
	}
}

/* The Internet checksum (RFC 1071), written here apart from the project's
 * (user/lib/csum.c) so the tests check it against another: s plus the
 * bytes at p as big-endian 16-bit words, an odd last byte the high half of
 * a word padded with zero ... */
static inline uint32_t ref_add(uint32_t s, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	return s;
}

/* ... folded to 16 bits. */
static inline uint16_t ref_fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

#endif /* MCTUN_TESTS_UNIT_H */
