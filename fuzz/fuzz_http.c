// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * http_parse() on arbitrary bytes (what any client of --metrics may send),
 * and http_route() / http_head() on what it accepts.
 *
 * Invariants:
 * - a result is a head length within the input, 0 (need more), or one of
 *   the error statuses the header lists;
 * - a head ends with LF, and parses the same from an allocation of exactly
 *   its own size (with ASan, any read past it is a crash) and with bytes
 *   after it;
 * - every strict prefix of a head asks for more;
 * - the method is a non-empty token, the path non-empty, without '?',
 *   white space or control characters; the minor version a digit;
 * - the route is 200, 404 or 405, 200 only for GET or HEAD of /metrics;
 *   the response head is whole, starts with the status line and ends
 *   with an empty line.
 */
#include <string.h>

#include "fuzz.h"
#include "http.h"

static int parse(const char *buf, size_t len, struct http_request *r)
{
	int res;

	memset(r, 0xa5, sizeof(*r));
	res = http_parse(buf, len, r);
	CHECK(res == 0 || res == -400 || res == -414 || res == -501 || res == -505 ||
	      (res > 0 && (size_t)res <= len), "http_parse returned %d for %zu bytes", res, len);
	return res;
}

static void check_request(const struct http_request *r)
{
	size_t i, n = strnlen(r->method, sizeof(r->method));

	CHECK(n > 0 && n < sizeof(r->method), "method length %zu", n);
	for (i = 0; i < n; i++)
		CHECK(r->method[i] > ' ' && r->method[i] < 0x7f && !strchr("()<>@,;:\\\"/[]?={}",
									r->method[i]),
		      "method byte %#x", (unsigned char)r->method[i]);
	n = strnlen(r->path, sizeof(r->path));
	CHECK(n < sizeof(r->path), "path not terminated");
	for (i = 0; i < n; i++)
		CHECK(r->path[i] > ' ' && r->path[i] < 0x7f && r->path[i] != '?',
		      "path byte %#x", (unsigned char)r->path[i]);
	CHECK(r->minor >= 0 && r->minor <= 9, "minor %d", r->minor);
}

static void check_route(const struct http_request *r)
{
	int code = http_route(r);
	char head[512];
	int n;

	CHECK(code == 200 || code == 404 || code == 405, "route %d", code);
	if (code == 200)
		CHECK(!strcmp(r->path, HTTP_METRICS_PATH) &&
		      (!strcmp(r->method, "GET") || !strcmp(r->method, "HEAD")), "200 for %s %s",
		      r->method, r->path);
	n = http_head(head, sizeof(head), code, HTTP_METRICS_TYPE, 12345);
	CHECK(n > 0 && (size_t)n < sizeof(head), "head length %d", n);
	CHECK(!strncmp(head, "HTTP/1.1 ", 9) && !strcmp(head + n - 4, "\r\n\r\n") &&
	      strstr(head, "Content-Length: 12345\r\n") && strstr(head, "Connection: close\r\n"),
	      "response head: %s", head);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_request r, r2;
	char *copy;
	size_t n;
	int res, res2;

	res = parse((const char *)data, size, &r);
	if (res <= 0)
		return 0;
	CHECK(data[res - 1] == '\n', "head does not end with LF");
	check_request(&r);
	check_route(&r);

	/* exactly its own bytes, then with more after it */
	copy = malloc(res + 1);
	memcpy(copy, data, res);
	res2 = parse(copy, res, &r2);
	CHECK(res2 == res && !strcmp(r.method, r2.method) && !strcmp(r.path, r2.path) &&
	      r.minor == r2.minor, "head alone parses differently: %d vs %d", res2, res);
	copy[res] = 'X';
	CHECK(parse(copy, res + 1, &r2) == res, "a byte after the head changes it");
	free(copy);

	/* every strict prefix asks for more */
	for (n = 0; n < (size_t)res; n++) {
		copy = malloc(n ? n : 1);
		memcpy(copy, data, n);
		CHECK(parse(copy, n, &r2) == 0, "prefix of %zu of a %d-byte head", n, res);
		free(copy);
	}
	return 0;
}
