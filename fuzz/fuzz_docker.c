// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * docker_parse_inspect() (user/tunnel/docker.c): what a Docker Engine API,
 * or whatever listens on the socket --container is pointed at, answers to
 * GET /containers/NAME/json.
 *
 * Invariants:
 * - the input as a whole answer: a state in range; RUNNING exactly with a
 *   pid > 0, every other state with pid 0; ERROR exactly with a reason;
 *   strings terminated; the same answer from an allocation of exactly its
 *   size (with ASan, a read past it is a crash), parsed twice alike;
 * - the input (after its first byte) as the body of a 200 answer: read to
 *   the end, with a Content-Length, and chunked (chunks of a size the first
 *   byte gives), all three give the same result; a Content-Length one byte
 *   too long is an answer cut short; as the body of a 404, no such
 *   container.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "docker.h"
#include "fuzz.h"

static void check_info(const struct docker_info *d)
{
	CHECK(d->state >= DOCKER_ERROR && d->state <= DOCKER_MISSING, "state %d", d->state);
	CHECK(d->state == DOCKER_RUNNING ? d->pid > 0 : d->pid == 0, "state %d with pid %d",
	      d->state, d->pid);
	CHECK(memchr(d->status, 0, sizeof(d->status)) && memchr(d->err, 0, sizeof(d->err)),
	      "a string not terminated");
	CHECK((d->state == DOCKER_ERROR) == (d->err[0] != 0), "state %d, err '%s'", d->state,
	      d->err);
}

static bool same(const struct docker_info *a, const struct docker_info *b)
{
	return a->state == b->state && a->pid == b->pid && !strcmp(a->status, b->status) &&
	       !strcmp(a->err, b->err);
}

static void parse_exact(const char *buf, size_t len, struct docker_info *d)
{
	char *copy = malloc(len ? len : 1);

	memcpy(copy, buf, len);
	docker_parse_inspect(copy, len, d);
	free(copy);
	check_info(d);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct docker_info a, b, c;
	const char *body;
	size_t blen, k, i, n, hl;
	char *buf;

	parse_exact((const char *)data, size, &a);
	parse_exact((const char *)data, size, &b);
	CHECK(same(&a, &b), "two parses differ");
	if (!size)
		return 0;

	k = (size_t)(data[0] % 64) + 1;
	body = (const char *)data + 1;
	blen = size - 1;
	buf = malloc(blen * 2 + 64 * (blen / k + 2) + 128);

	/* read to the end */
	hl = (size_t)sprintf(buf, "HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n");
	memcpy(buf + hl, body, blen);
	parse_exact(buf, hl + blen, &a);
	/* with its length */
	hl = (size_t)sprintf(buf, "HTTP/1.1 200 OK\r\ncontent-length:  %zu \r\n\r\n", blen);
	memcpy(buf + hl, body, blen);
	parse_exact(buf, hl + blen, &b);
	CHECK(same(&a, &b), "with Content-Length: state %d '%s', without: %d '%s'", b.state,
	      b.err, a.state, a.err);
	/* one byte promised more */
	hl = (size_t)sprintf(buf, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n", blen + 1);
	memcpy(buf + hl, body, blen);
	parse_exact(buf, hl + blen, &c);
	CHECK(c.state == DOCKER_ERROR && strstr(c.err, "cut short"), "a short body: state %d",
	      c.state);
	/* chunked */
	n = (size_t)sprintf(buf, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
	for (i = 0; i < blen; i += k) {
		size_t m = blen - i < k ? blen - i : k;

		n += (size_t)sprintf(buf + n, "%zx\r\n", m);
		memcpy(buf + n, body + i, m);
		n += m;
		memcpy(buf + n, "\r\n", 2);
		n += 2;
	}
	memcpy(buf + n, "0\r\n\r\n", 5);
	parse_exact(buf, n + 5, &b);
	CHECK(same(&a, &b), "chunked by %zu: state %d '%s', whole: %d '%s'", k, b.state, b.err,
	      a.state, a.err);
	/* a 404 says no such container, whatever its body */
	hl = (size_t)sprintf(buf, "HTTP/1.1 404 Not Found\r\n\r\n");
	memcpy(buf + hl, body, blen);
	parse_exact(buf, hl + blen, &c);
	CHECK(c.state == DOCKER_MISSING, "404: state %d", c.state);
	free(buf);
	return 0;
}
