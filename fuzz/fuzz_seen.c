// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * seen_check() against a plain model: per origin the set of every sequence
 * number handled and the highest one; a table of SEEN_ORIGINS origins that
 * forgets the least recently heard.
 *
 * Model verdict for (origin, seq):
 *   origin unknown (never heard, or forgotten)  -> NEW
 *   seq more than SEEN_JUMP from the highest:
 *     a candidate held, and seq above it         -> NEW, the set starts over
 *     else                                       -> JUMP_HELD, seq becomes it
 *   seq above the highest                       -> NEW
 *   highest - seq >= SEEN_WINDOW                -> STALE
 *   seq in the set                              -> DUP, else NEW
 * NEW adds seq to the set. The two must agree on every call.
 *
 * Input: 4-byte operations. Byte 0 and the top bit of byte 1 pick one of
 * 512 origins (more than the table holds, so eviction is exercised); bits
 * 0-1 of byte 1 pick how bytes 2-3 (d) make the sequence number:
 *   0: highest + d - 32768   (around the window edges)
 *   1: highest + d * 4096    (jumps, past the window)
 *   2: d                     (small absolute values)
 *   3: UINT64_MAX - d        (the top of the range)
 */
#include <string.h>

#include "fuzz.h"
#include "seen.h"

#define NORIGINS 512
#define SET_CAP  (1u << 14)      /* > the operations of any input */

struct model_origin {
	int present;
	uint32_t epoch;              /* bumped when forgotten */
	uint64_t top;
	uint64_t last_used;
	uint64_t cand;
	int has_cand;
};

struct set_entry {
	uint32_t gen;                /* entry valid when == current gen */
	uint32_t origin;
	uint32_t epoch;
	uint64_t seq;
};

static struct seen table;
static struct model_origin model[NORIGINS];
static struct set_entry set[SET_CAP];
static uint32_t gen;
static unsigned int present;
static uint64_t clock_;

static struct set_entry *set_slot(uint32_t origin, uint32_t epoch, uint64_t seq)
{
	uint64_t h = (seq ^ ((uint64_t)origin << 32 | epoch)) * 0x9e3779b97f4a7c15ull;
	uint32_t i = h >> 50;

	for (;; i = (i + 1) % SET_CAP) {
		struct set_entry *e = &set[i];

		if (e->gen != gen ||
		    (e->origin == origin && e->epoch == epoch && e->seq == seq))
			return e;
	}
}

static enum seen_verdict model_check(uint32_t origin, uint64_t seq)
{
	struct model_origin *m = &model[origin];
	struct set_entry *e;

	if (!m->present) {
		if (present == SEEN_ORIGINS) {
			struct model_origin *lru = NULL;
			unsigned int i;

			for (i = 0; i < NORIGINS; i++)
				if (model[i].present && (!lru || model[i].last_used < lru->last_used))
					lru = &model[i];
			lru->present = 0;
			lru->epoch++;
			present--;
		}
		m->present = 1;
		m->top = seq;
		m->has_cand = 0;
		present++;
	}
	m->last_used = ++clock_;
	if ((seq > m->top ? seq - m->top : m->top - seq) > SEEN_JUMP) {
		if (!m->has_cand || seq <= m->cand) {
			m->cand = seq;
			m->has_cand = 1;
			return SEEN_JUMP_HELD;
		}
		m->has_cand = 0;
		m->epoch++;              /* an empty set */
		m->top = seq;
	}
	if (seq > m->top)
		m->top = seq;
	else if (m->top - seq >= SEEN_WINDOW)
		return SEEN_STALE;
	e = set_slot(origin, m->epoch, seq);
	if (e->gen == gen)
		return SEEN_DUP;
	*e = (struct set_entry){ .gen = gen, .origin = origin, .epoch = m->epoch, .seq = seq };
	return SEEN_NEW;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = { "NEW", "DUP", "STALE", "JUMP_HELD" };
	struct fuzz_in in = { data, size };
	unsigned int n = 0;

	memset(&table, 0, sizeof(table));
	memset(model, 0, sizeof(model));
	gen++;
	present = 0;
	clock_ = 0;

	while (in.len >= 4 && n < SET_CAP / 2) {
		uint32_t b0 = fuzz_take(&in, 1), b1 = fuzz_take(&in, 1), d = fuzz_take(&in, 2);
		uint32_t origin = b0 | (b1 >> 7) << 8;
		uint64_t top = model[origin].present ? model[origin].top : 0, seq;
		enum seen_verdict want, got;

		switch (b1 & 3) {
		case 0: seq = top + d - 32768; break;
		case 1: seq = top + (uint64_t)d * 4096; break;
		case 2: seq = d; break;
		default: seq = UINT64_MAX - d; break;
		}
		/* Origin ids as the daemon sees them: any 64-bit value. */
		got = seen_check(&table, 0x0123456789abcdefull * (origin + 1), seq);
		want = model_check(origin, seq);
		CHECK(got == want, "operation %u: origin %u seq %llu: seen_check says %s, the "
		      "model %s", n, origin, (unsigned long long)seq, names[got % 4],
		      names[want % 4]);
		n++;
	}
	return 0;
}
