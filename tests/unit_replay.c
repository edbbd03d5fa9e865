// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The --resume window (user/lib/replay.c) on its own: frames numbered in
 * order, sent once from it, replayed from where the peer stopped after a
 * reconnect, pushed out by bytes and by age, and what a peer says checked
 * before it is believed (acks and resumes ahead of what was sent, behind
 * what was acknowledged; replays from behind what was received).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "replay.h"
#include "unit.h"

#define FLEN 100       /* a frame: its number in the first 8 bytes, then filler */

static struct replay r;

static void fresh(size_t cap)
{
	replay_free(&r);
	memset(&r, 0, sizeof(r));
	if (replay_init(&r, cap)) {
		fprintf(stderr, "replay_init: out of memory\n");
		exit(2);
	}
}

/* Frame n, sent at time t (its header in one piece, the rest in another,
 * as the forwarder hands it over). */
static void put(uint64_t n, uint64_t t, size_t limit)
{
	uint8_t f[FLEN];

	memset(f, (int)(n & 0xff), sizeof(f));
	memcpy(f, &n, 8);
	replay_put(&r, limit, t, f, 40, f + 40, FLEN - 40);
}

/* Sends up to max frames from the window; checks each is the next number
 * and whole. Returns how many, -1 on a bad one. */
static int send_some(unsigned int max)
{
	const uint8_t *a, *b;
	size_t alen, blen;
	unsigned int i;

	for (i = 0; i < max && replay_peek(&r, &a, &alen, &b, &blen); i++) {
		uint8_t f[FLEN];
		uint64_t n;

		CHECK_R(alen + blen == FLEN, "frame of %zu bytes", alen + blen);
		memcpy(f, a, alen);
		memcpy(f + alen, b, blen);
		memcpy(&n, f, 8);
		CHECK_R(n == r.tx, "sent frame %llu as number %llu", (unsigned long long)n,
			(unsigned long long)r.tx);
		CHECK_R(f[FLEN - 1] == (uint8_t)n, "frame %llu damaged", (unsigned long long)n);
		replay_advance(&r);
	}
	return (int)i;
}

static void t_in_order_and_acked(void)
{
	const char *why;
	uint64_t i;

	fresh(1 << 16);
	for (i = 0; i < 10; i++)
		put(i, 100 + i, SIZE_MAX);
	CHECK(send_some(4) == 4, "sent %llu", (unsigned long long)r.tx);
	CHECK(replay_check_ack(&r, 5, &why) == -EPROTO, "an ack of 5 when 4 were sent taken");
	CHECK(!strcmp(why, "acknowledges more frames than were sent"), "why: %s", why);
	CHECK(!replay_check_ack(&r, 3, &why), "an ack of 3 refused: %s", why);
	replay_ack(&r, 3);
	CHECK(r.base == 3 && r.acked == 3, "base %llu acked %llu", (unsigned long long)r.base,
	      (unsigned long long)r.acked);
	CHECK(replay_check_ack(&r, 2, &why) == -EPROTO, "an ack going back taken");
	CHECK(!strcmp(why, "acknowledges fewer frames than it did before"), "why: %s", why);
	CHECK(send_some(100) == 6 && r.tx == 10, "the rest: tx %llu", (unsigned long long)r.tx);
}

/* A cut: 20 sent, the peer had 7 of them; 5 more came meanwhile. */
static void t_resume_replays_the_rest(void)
{
	uint64_t from, gap, i;
	const char *why;

	fresh(1 << 16);
	for (i = 0; i < 20; i++)
		put(i, 100 + i, SIZE_MAX);
	CHECK(send_some(100) == 20, "sent");
	replay_ack(&r, 5);
	for (i = 20; i < 25; i++)
		put(i, 200 + i, SIZE_MAX);
	CHECK(replay_resume(&r, 26, &from, &gap, &why) == -EPROTO,
	      "a resume after 26 of 25 taken");
	CHECK(replay_resume(&r, 4, &from, &gap, &why) == -EPROTO,
	      "a resume behind the ack of 5 taken");
	CHECK(!strcmp(why, "resumes behind what it acknowledged before"), "why: %s", why);
	CHECK(!replay_resume(&r, 7, &from, &gap, &why), "refused: %s", why);
	CHECK(from == 7 && gap == 0 && replay_pending(&r) == 18, "from %llu gap %llu pending %llu",
	      (unsigned long long)from, (unsigned long long)gap,
	      (unsigned long long)replay_pending(&r));
	CHECK(send_some(100) == 18 && r.tx == 25, "replayed to %llu", (unsigned long long)r.tx);
}

/* Pushed out by bytes: counted; a resume behind them is told its gap. */
static void t_overflow_and_gap(void)
{
	uint64_t from, gap, i;
	const char *why;
	size_t rec = REPLAY_REC_HDR + FLEN;

	fresh(1 << 16);
	for (i = 0; i < 30; i++)
		put(i, 100 + i, 10 * rec);       /* room for 10 */
	CHECK(r.base == 20 && r.overflow == 20, "base %llu overflow %llu",
	      (unsigned long long)r.base, (unsigned long long)r.overflow);
	CHECK(!replay_resume(&r, 12, &from, &gap, &why), "refused: %s", why);
	CHECK(from == 20 && gap == 8, "from %llu gap %llu", (unsigned long long)from,
	      (unsigned long long)gap);
	CHECK(send_some(100) == 10, "sent");
	/* a frame larger than the room: numbered, gone at once, a gap to tell */
	put(30, 200, 10);
	CHECK(r.end == 31 && r.base == 31 && r.skipped == 1 && r.tx == 31,
	      "end %llu base %llu skipped %llu", (unsigned long long)r.end,
	      (unsigned long long)r.base, (unsigned long long)r.skipped);
	CHECK(replay_check_from(31, 30, &why) == -EPROTO, "a replay from behind taken");
	CHECK(!replay_check_from(30, 31, &why), "a replay past what was received refused");
}

/* By age; pushed out before being sent: skipped, and the sending goes on
 * after them. Wrapping around the end of the buffer keeps frames whole. */
static void t_age_and_wrap(void)
{
	uint64_t i;
	size_t rec = REPLAY_REC_HDR + FLEN;

	fresh(4096);
	for (i = 0; i < 10; i++)
		put(i, 100 + i, SIZE_MAX);
	CHECK(send_some(3) == 3, "sent");
	CHECK(replay_expire(&r, 106) == 6, "expired %llu", (unsigned long long)r.base);
	CHECK(r.base == 6 && r.tx == 6 && r.skipped == 3, "base %llu tx %llu skipped %llu",
	      (unsigned long long)r.base, (unsigned long long)r.tx,
	      (unsigned long long)r.skipped);
	for (i = 10; i < 400; i++) {
		put(i, 200 + i, SIZE_MAX);
		replay_ack(&r, r.tx);
		if (send_some(1) != 1)
			return;
		CHECK(r.len <= 4096 && r.len % rec == 0, "len %zu", r.len);
	}
	CHECK(r.overflow == 0, "overflow %llu", (unsigned long long)r.overflow);
}

/* The share shrinks while frames are held (more peers): they go round
 * within what it was until the window empties, then within the new one;
 * every frame comes out whole across the turn. */
static void t_share_changes(void)
{
	size_t rec = REPLAY_REC_HDR + FLEN;
	uint64_t i;

	fresh(1 << 16);
	put(0, 100, 7 * rec + 10);
	CHECK(r.wrap == 7 * rec + 10, "wrap %zu", r.wrap);
	for (i = 1; i < 40; i++) {
		put(i, 100 + i, i < 20 ? SIZE_MAX : 3 * rec);
		if (i % 3 == 0 && send_some(2) < 0)
			return;
	}
	CHECK(r.wrap == 7 * rec + 10 && r.len <= 3 * rec, "wrap %zu len %zu", r.wrap, r.len);
	if (send_some(100) < 0)
		return;
	replay_ack(&r, r.tx);
	put(40, 200, 2 * rec);
	CHECK(r.wrap == 2 * rec && r.len == rec, "emptied: wrap %zu len %zu", r.wrap, r.len);
	CHECK(send_some(1) == 1, "the last one");
}

/* Out of the window for good: numbered, not kept; the numbers stay. */
static void t_freed_keeps_numbers(void)
{
	uint64_t from, gap, i;
	const char *why;

	fresh(1 << 16);
	for (i = 0; i < 5; i++)
		put(i, 100, SIZE_MAX);
	replay_free(&r);
	for (i = 5; i < 9; i++)
		put(i, 100, SIZE_MAX);
	CHECK(r.end == 9 && r.base == 9 && r.overflow == 0, "end %llu base %llu",
	      (unsigned long long)r.end, (unsigned long long)r.base);
	CHECK(!replay_init(&r, 1 << 16), "init");
	CHECK(!replay_resume(&r, 2, &from, &gap, &why), "refused: %s", why);
	CHECK(from == 9 && gap == 7 && !replay_pending(&r), "from %llu gap %llu",
	      (unsigned long long)from, (unsigned long long)gap);
}

int main(void)
{
	unit_run("in_order_and_acked", t_in_order_and_acked);
	unit_run("resume_replays_the_rest", t_resume_replays_the_rest);
	unit_run("overflow_and_gap", t_overflow_and_gap);
	unit_run("age_and_wrap", t_age_and_wrap);
	unit_run("share_changes", t_share_changes);
	unit_run("freed_keeps_numbers", t_freed_keeps_numbers);
	replay_free(&r);
	return unit_summary("unit_replay");
}
