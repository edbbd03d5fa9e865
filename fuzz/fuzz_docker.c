// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * docker_parse_inspect() (user/tunnel/docker.c): what a Docker Engine API,
 * or whatever listens on the socket --container is pointed at, answers to
 * GET /containers/NAME/json.
 *
 * Invariants:
 * - the input as a whole answer: a state in range; RUNNING exactly with a
 *   pid > 0, every other state with pid 0; ERROR exactly with a reason;
 *   strings terminated; at most DOCKER_NETS_MAX networks, none with an
 *   error, each found by its name with its own address by
 *   docker_pick_net(), none named taken with at most one network and
 *   refused naming them with more; the same answer from an allocation of exactly its
 *   size (with ASan, a read past it is a crash), parsed twice alike;
 * - the input (after its first byte) as the body of a 200 answer: read to
 *   the end, with a Content-Length, and chunked (chunks of a size the first
 *   byte gives), all three give the same result; a Content-Length one byte
 *   too long is an answer cut short; as the body of a 404, no such
 *   container;
 * - the input as the events stream (docker_events_feed()): whole, and in
 *   pieces of a size its first byte gives (the head too), the same events
 *   in the same order and the same failure or none (but for a malformed
 *   number, which json-c refuses whole and takes cut in two: see alike());
 *   every event's strings
 *   terminated, with a Type and an Action; nothing read after a failure;
 *   the stream after a 404 head is a failure.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "docker.h"
#include "fuzz.h"

static void check_info(const struct docker_info *d)
{
	unsigned int i;

	CHECK(d->state >= DOCKER_ERROR && d->state <= DOCKER_MISSING, "state %d", d->state);
	CHECK(d->state == DOCKER_RUNNING ? d->pid > 0 : d->pid == 0, "state %d with pid %d",
	      d->state, d->pid);
	CHECK(memchr(d->status, 0, sizeof(d->status)) && memchr(d->err, 0, sizeof(d->err)),
	      "a string not terminated");
	CHECK((d->state == DOCKER_ERROR) == (d->err[0] != 0), "state %d, err '%s'", d->state,
	      d->err);
	CHECK(d->nnets <= DOCKER_NETS_MAX && (!d->nets_more || d->nnets == DOCKER_NETS_MAX),
	      "%u networks, more %d", d->nnets, d->nets_more);
	CHECK(d->state != DOCKER_ERROR || !d->nnets, "an error with networks");
	for (i = 0; i < d->nnets; i++) {
		unsigned char mac[6];
		char why[64];
		bool have;

		CHECK(memchr(d->nets[i].name, 0, sizeof(d->nets[i].name)), "a network's name");
		/* each network named is found, with its own address (but one whose
		 * name was cut, which no one can name) */
		if (d->nets[i].cut)
			continue;
		CHECK(!docker_pick_net(d, d->nets[i].name, mac, &have, why, sizeof(why)),
		      "network %u not found", i);
		CHECK(have == d->nets[i].have_mac && (!have || !memcmp(mac, d->nets[i].mac, 6)),
		      "network %u: another address", i);
	}
	/* none named: taken with at most one network, else refused naming them */
	{
		unsigned char mac[6];
		char why[32];
		bool have;
		int r = docker_pick_net(d, NULL, mac, &have, why, sizeof(why));

		CHECK(d->nnets <= 1 ? !r && !have : r == -EEXIST && why[0] &&
		      memchr(why, 0, sizeof(why)), "%u networks, none named: %d", d->nnets, r);
	}
}

static bool same(const struct docker_info *a, const struct docker_info *b)
{
	return a->state == b->state && a->pid == b->pid && !strcmp(a->status, b->status) &&
	       !strcmp(a->err, b->err) && !strcmp(a->id, b->id) && a->nnets == b->nnets &&
	       a->nets_more == b->nets_more &&
	       !memcmp(a->nets, b->nets, a->nnets * sizeof(a->nets[0]));
}

static void parse_exact(const char *buf, size_t len, struct docker_info *d)
{
	char *copy = malloc(len ? len : 1);

	memcpy(copy, buf, len);
	docker_parse_inspect(copy, len, d);
	free(copy);
	check_info(d);
}

/* The events seen: how many, and a hash of each one's strings, in order. */
#define EVLOG_MAX 256

struct evlog {
	unsigned long n;
	uint64_t h[EVLOG_MAX];     /* of the first EVLOG_MAX events */
};

static void mix(uint64_t *h, const char *s, size_t max)
{
	size_t i;

	CHECK(memchr(s, 0, max), "an event's string not terminated");
	for (i = 0; s[i]; i++)
		*h = (*h ^ (unsigned char)s[i]) * 1099511628211ull;
	*h = (*h ^ 0xff) * 1099511628211ull;
}

static void on_event(const struct docker_event *e, void *ctx)
{
	struct evlog *l = ctx;

	uint64_t h = 14695981039346656037ull;

	CHECK(e->type[0] && e->action[0], "an event without Type or Action");
	mix(&h, e->type, sizeof(e->type));
	mix(&h, e->action, sizeof(e->action));
	mix(&h, e->id, sizeof(e->id));
	mix(&h, e->name, sizeof(e->name));
	mix(&h, e->container, sizeof(e->container));
	if (l->n < EVLOG_MAX)
		l->h[l->n] = h;
	l->n++;
}

/* buf fed in pieces of k bytes (each a copy of exactly its size); the
 * result (0, -EPROTO) and what was seen. */
static int feed(const char *buf, size_t len, size_t k, struct evlog *l)
{
	struct docker_events ev;
	size_t i;
	int rc = 0;

	memset(l, 0, sizeof(*l));
	CHECK(!docker_events_init(&ev), "docker_events_init");
	for (i = 0; i < len; i += k) {
		size_t m = len - i < k ? len - i : k;
		char *piece = malloc(m);
		unsigned long before = l->n;
		int r;

		memcpy(piece, buf + i, m);
		r = docker_events_feed(&ev, piece, m, on_event, l);
		free(piece);
		CHECK(r == 0 || r == -EPROTO, "feed returned %d", r);
		CHECK(!rc || (r && l->n == before), "read on after a failure");
		CHECK(!r || (ev.failed && ev.err[0]), "a failure without a reason");
		if (r)
			rc = r;
	}
	docker_events_free(&ev);
	return rc;
}

/*
 * Both read alike: the same events in the same order, and the same
 * failure or none. But json-c judges a malformed number ("0-", "--") when
 * it comes in one piece, and takes it when it is cut between two: then
 * the one that failed saw the first events of the other.
 */
static bool alike(int ra, const struct evlog *a, int rb, const struct evlog *b)
{
	unsigned long n = a->n < b->n ? a->n : b->n, i;

	if (ra == rb && a->n != b->n)
		return false;
	if (ra != rb && (ra ? a->n > b->n : b->n > a->n))
		return false;
	for (i = 0; i < n && i < EVLOG_MAX; i++)
		if (a->h[i] != b->h[i])
			return false;
	return true;
}

static void check_events(const uint8_t *data, size_t size)
{
	static const char head[] = "HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n";
	static const char nf[] = "HTTP/1.0 404 Not Found\r\n\r\n";
	struct evlog a, b;
	size_t k = (size_t)(data[0] % 64) + 1, hl = sizeof(head) - 1;
	char *buf = malloc(hl + sizeof(nf) + size);
	int ra, rb;

	/* the input as it is, then as the body of a 200 */
	ra = feed((const char *)data, size, size, &a);
	rb = feed((const char *)data, size, k, &b);
	CHECK(alike(ra, &a, rb, &b), "whole: %d, %lu events; by %zu: %d, %lu",
	      ra, a.n, k, rb, b.n);
	memcpy(buf, head, hl);
	memcpy(buf + hl, data + 1, size - 1);
	ra = feed(buf, hl + size - 1, hl + size - 1, &a);
	rb = feed(buf, hl + size - 1, k, &b);
	CHECK(alike(ra, &a, rb, &b), "body whole: %d, %lu events; by %zu: %d, %lu",
	      ra, a.n, k, rb, b.n);
	memcpy(buf, nf, sizeof(nf) - 1);
	memcpy(buf + sizeof(nf) - 1, data + 1, size - 1);
	ra = feed(buf, sizeof(nf) - 1 + size - 1, k, &a);
	CHECK(ra == -EPROTO && a.n == 0, "a 404 stream: %d, %lu events", ra, a.n);
	free(buf);
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

	check_events(data, size);
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
