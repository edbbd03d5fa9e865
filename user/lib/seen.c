// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <string.h>

#include "seen.h"

/*
 * The slot of origin, or a fresh one in place of the first unused slot or
 * the least recently used. The slot found last is tried first: a batch of
 * frames is mostly one origin's, and a scan touches a cache line 1 KiB
 * apart per slot (it was 9 % of a receiving gateway's time at 100,000 pps).
 */
static struct seen_origin *find(struct seen *s, uint64_t origin)
{
	struct seen_origin *victim = NULL;
	unsigned int i;

	if (s->o[s->hint].used && s->o[s->hint].origin == origin)
		return &s->o[s->hint];
	for (i = 0; i < SEEN_ORIGINS; i++) {
		struct seen_origin *o = &s->o[i];

		if (o->used && o->origin == origin) {
			s->hint = i;
			return o;
		}
		if (!victim || (victim->used && (!o->used || o->last_used < victim->last_used)))
			victim = o;
	}
	memset(victim, 0, sizeof(*victim));
	victim->origin = origin;
	s->hint = (unsigned int)(victim - s->o);
	return victim;
}

static bool test_and_set(struct seen_origin *o, uint64_t seq)
{
	uint64_t bit = seq % SEEN_WINDOW;
	uint64_t mask = 1ull << (bit % 64);
	bool was = o->bits[bit / 64] & mask;

	o->bits[bit / 64] |= mask;
	return was;
}

enum seen_verdict seen_check(struct seen *s, uint64_t origin, uint64_t seq)
{
	struct seen_origin *o = find(s, origin);

	o->last_used = ++s->clock;
	if (o->used && (seq > o->top ? seq - o->top : o->top - seq) > SEEN_JUMP) {
		if (!o->has_cand || seq <= o->cand) {
			o->cand = seq;
			o->has_cand = true;
			return SEEN_JUMP_HELD;
		}
		/* confirmed: start the window over at seq */
		memset(o->bits, 0, sizeof(o->bits));
		o->has_cand = false;
		o->top = seq;
		test_and_set(o, seq);
		return SEEN_NEW;
	}
	if (!o->used) {
		o->used = true;
		o->top = seq;
		test_and_set(o, seq);
		return SEEN_NEW;
	}
	if (seq > o->top) {
		uint64_t gap = seq - o->top, n;

		/* Clear the slots the window slides over; counted, not compared
		 * with seq, so a seq of 2^64 - 1 cannot wrap the loop. */
		if (gap >= SEEN_WINDOW) {
			memset(o->bits, 0, sizeof(o->bits));
		} else {
			for (n = 1; n <= gap; n++) {
				uint64_t i = o->top + n;

				o->bits[(i % SEEN_WINDOW) / 64] &= ~(1ull << (i % 64));
			}
		}
		o->top = seq;
		test_and_set(o, seq);
		return SEEN_NEW;
	}
	if (o->top - seq >= SEEN_WINDOW)
		return SEEN_STALE;
	return test_and_set(o, seq) ? SEEN_DUP : SEEN_NEW;
}
