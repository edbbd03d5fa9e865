// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Writes the seed corpus of the harnesses (make fuzz-corpus):
 * real frames from the project's encoders, real lab datagrams from
 * lab_encode(), the group and option forms the manual shows, sessions of
 * IGMP/MLD messages, and a few near misses of each. Run from the top folder: gen_corpus fuzz/corpus
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lab.h"
#include "mctun.h"
#include "mship_wire.h"
#include "proto.h"
#include "utframe.h"

static const char *root;

static void put(const char *harness, const char *name, const void *buf, size_t len)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, harness);
	if (mkdir(path, 0755) < 0 && errno != EEXIST) {
		perror(path);
		exit(1);
	}
	snprintf(path, sizeof(path), "%s/%s/%s", root, harness, name);
	f = fopen(path, "wb");
	if (!f || fwrite(buf, 1, len, f) != len || fclose(f)) {
		perror(path);
		exit(1);
	}
}

static void put_str(const char *harness, const char *name, const char *s)
{
	put(harness, name, s, strlen(s));
}

/* A DATA frame with a payload of plen bytes (a pattern). */
static size_t data_frame(uint8_t *b, uint8_t family, uint32_t plen, uint64_t seq)
{
	struct data_hdr h = {
		.family = family, .hops = 1, .ttl = 4, .tos = 0xb8, .dport = 5000,
		.sport = 40000, .origin = 0x1122334455667788ull, .seq = seq,
	};
	size_t n, i;

	if (family == MCTUN_FAM_INET) {
		memcpy(h.group, (uint8_t[]){ 239, 1, 2, 3 }, 4);
		memcpy(h.src, (uint8_t[]){ 198, 18, 1, 2 }, 4);
	} else {
		h.group[0] = 0xff;
		h.group[1] = 0x15;
		h.group[15] = 1;
		memcpy(h.src, (uint8_t[]){ 0x20, 0x01, 0x0d, 0xb8, 0, 1 }, 6);
		h.src[15] = 2;
	}
	n = frame_put_data_hdr(b, &h, plen);
	for (i = 0; i < plen; i++)
		b[n + i] = (uint8_t)(i * 7 + 1);
	return n + plen;
}

/*
 * An ANNOUNCE chunk of origin 0x1122334455667788: IPv4 239.1.2.3:5000 from
 * two sources, [ff15::/16]:* from any, and 239.192.0.0/16:* except one
 * source; with `all`, a WANT_ALL entry instead.
 */
static size_t announce_frame(uint8_t *b, uint64_t serial, uint8_t hops, uint16_t chunk,
			     bool last, bool all)
{
	static const uint8_t s4[2][16] = { { 198, 18, 1, 2 }, { 198, 18, 1, 3 } };
	struct announce_hdr h = {
		.origin = 0x1122334455667788ull, .serial = serial, .hops = hops,
		.flags = last ? ANNOUNCE_LAST : 0, .chunk = chunk, .lifetime = 90,
	};
	struct want w[3] = {
		{ .family = MCTUN_FAM_INET, .kind = WANT_INCLUDE, .plen = 32, .port = 5000,
		  .nsrc = 2, .group = { 239, 1, 2, 3 }, .src = s4[0] },
		{ .family = MCTUN_FAM_INET6, .kind = WANT_EXCLUDE, .plen = 16,
		  .group = { 0xff, 0x15 } },
		{ .family = MCTUN_FAM_INET, .kind = WANT_EXCLUDE, .plen = 16, .nsrc = 1,
		  .group = { 239, 192 }, .src = s4[1] },
	};
	uint8_t *e = b + FRAME_HDR_LEN + ANNOUNCE_HDR_LEN;
	uint32_t elen = 0;
	unsigned int i;

	if (all) {
		w[0] = (struct want){ .kind = WANT_ALL };
		h.count = 1;
	} else {
		h.count = 3;
	}
	for (i = 0; i < h.count; i++)
		elen += announce_entry_put(e + elen, &w[i]);
	return frame_put_announce_hdr(b, &h, elen) + elen;
}

static void frames(void)
{
	static uint8_t b[4096];
	size_t n;

	n = frame_put_hello(b, 0x0102030405060708ull, 0);
	put("frame", "hello", b, n);
	/* a hello with 4 bytes of authentication data */
	b[7] = HELLO_LEN + 4;
	b[FRAME_HDR_LEN + 6] = 1;
	b[FRAME_HDR_LEN + 21] = 4;
	memcpy(b + n, "abcd", 4);
	put("frame", "hello_auth", b, n + 4);
	n = frame_put_hello(b, 0x0102030405060708ull, 0);
	b[FRAME_HDR_LEN + 4] = 2;
	put("frame", "hello_v2", b, n);
	n = frame_put_keepalive(b);
	put("frame", "keepalive", b, n);
	n = data_frame(b, MCTUN_FAM_INET, 32, 1);
	put("frame", "data4", b, n);
	n = data_frame(b, MCTUN_FAM_INET6, 0, 2);
	put("frame", "data6_empty", b, n);
	n = data_frame(b, MCTUN_FAM_INET6, 1400, 3);
	put("frame", "data6_1400", b, n);
	n = data_frame(b, MCTUN_FAM_INET, 16, 4);
	put("frame", "data4_short", b, n - 4);
	put_str("frame", "http", "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
	n = announce_frame(b, 7, 0, 0, true, false);
	put("frame", "announce", b, n);
	n = announce_frame(b, 7, 2, 1, false, false);
	put("frame", "announce_chunk", b, n);
	n = announce_frame(b, 8, 1, 0, true, true);
	put("frame", "announce_all", b, n);
	/* 239.192.0.0/16 with a host bit: refused */
	n = announce_frame(b, 7, 0, 0, true, false);
	b[n - 16 - 16 + 2] = 1;
	put("frame", "announce_host_bits", b, n);
	n = frame_put_seq(b, FT_RESUME, 12);
	put("frame", "resume", b, n);
	n = frame_put_seq(b, FT_REPLAY, 1u << 20);
	put("frame", "replay", b, n);
	n = frame_put_seq(b, FT_ACK, 256);
	put("frame", "ack", b, n);
	put("frame", "ack_short", b, n - 1);
}

static void streams(void)
{
	static uint8_t b[8192];
	size_t n;

	/* 4 bytes of chunking seed, then the stream */
	memcpy(b, "\x00\x00\x00\x07", 4);
	n = 4 + frame_put_hello(b + 4, 42, 0);
	n += data_frame(b + n, MCTUN_FAM_INET, 100, 1);
	n += frame_put_keepalive(b + n);
	n += data_frame(b + n, MCTUN_FAM_INET6, 0, 2);
	n += data_frame(b + n, MCTUN_FAM_INET, 1000, 3);
	put("stream", "session", b, n);
	memcpy(b, "\x12\x34\x56\x0b", 4);
	put("stream", "session_chunks", b, n);
	/* cut in the middle of a frame */
	put("stream", "session_cut", b, n - 500);
	/* a second hello: an error after two good frames */
	n = 4 + frame_put_hello(b + 4, 42, 0);
	n += frame_put_keepalive(b + n);
	n += frame_put_hello(b + n, 43, 0);
	put("stream", "second_hello", b, n);
	/* the first frame is not a hello */
	n = 4 + data_frame(b + 4, MCTUN_FAM_INET, 8, 1);
	put("stream", "no_hello", b, n);
	/* subscriptions: a hello with the capability, announcements among data */
	memcpy(b, "\x00\x00\x00\x05", 4);
	n = 4 + frame_put_hello(b + 4, 42, PROTO_CAP_SUBSCRIBE);
	n += announce_frame(b + n, 1, 0, 0, false, false);
	n += data_frame(b + n, MCTUN_FAM_INET, 100, 1);
	n += announce_frame(b + n, 1, 0, 1, true, true);
	n += frame_put_keepalive(b + n);
	put("stream", "announce", b, n);
}

/* A udptunnel frame with a payload of plen bytes (a pattern). */
static size_t ut_frame(uint8_t *b, uint32_t plen)
{
	size_t i;

	b[0] = plen >> 8;     /* ut_frame_put_hdr refuses 0: the parser does not */
	b[1] = plen;
	for (i = 0; i < plen; i++)
		b[UT_HDR_LEN + i] = (uint8_t)(i * 13 + 5);
	return UT_HDR_LEN + plen;
}

static void ut(void)
{
	static uint8_t b[8192];
	size_t n;

	/* 1 byte picks the limit (0: IPv4, 1: IPv6, 2: 65535), 4 bytes of
	 * chunking seed, then the stream */
	memcpy(b, "\x00\x00\x00\x00\x07", 5);
	n = 5 + ut_frame(b + 5, 5);
	n += ut_frame(b + n, 1400);
	n += ut_frame(b + n, 1);
	n += ut_frame(b + n, 0);
	n += ut_frame(b + n, 200);
	put("ut", "session", b, n);
	memcpy(b, "\x01\x12\x34\x56\x0b", 5);
	put("ut", "session_chunks", b, n);
	put("ut", "session_cut", b, n - 100);
	/* one frame, then a length over the IPv4 limit: an error after it */
	memcpy(b, "\x00\x00\x00\x00\x03", 5);
	n = 5 + ut_frame(b + 5, 64);
	b[n++] = DATA_MAX_PAYLOAD4 >> 8;
	b[n++] = (DATA_MAX_PAYLOAD4 + 1) & 0xff;
	memset(b + n, 0x11, 100);
	put("ut", "over_ipv4", b, n + 100);
	/* the same length is waited for under the IPv6 limit */
	b[0] = 1;
	put("ut", "under_ipv6", b, n + 100);
	/* the field's maximum, under the field's own limit */
	memcpy(b, "\x02\x00\x00\x00\x05\xff\xff", 7);
	put("ut", "field_max", b, 7 + 300);
	/* an mctun hello sent to a udptunnel-framed port */
	memcpy(b, "\x00\x00\x00\x00\x09", 5);
	n = 5 + frame_put_hello(b + 5, 0x0102030405060708ull, 0);
	put("ut", "mctun_hello", b, n);
}

static void lab(void)
{
	static const uint16_t sizes[] = { LAB_HDR_LEN, LAB_HDR_LEN + 1, 200, 1400 };
	static uint8_t b[2048];
	char name[32];
	unsigned int i;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct lab_dgram d = {
			.sender_id = 0xfeedface00000000ull + i, .seq = i * 1000,
			.send_ns = 1700000000000000000ull, .size = sizes[i], .ttl = 4,
			.dscp = 46,
		};

		lab_encode(b, &d);
		snprintf(name, sizeof(name), "dgram_%u", sizes[i]);
		put("lab", name, b, sizes[i]);
		if (sizes[i] == 200) {
			b[120] ^= 0x10;
			put("lab", "corrupt_200", b, sizes[i]);
			put("lab", "cut_199", b, sizes[i] - 1);
			b[12] ^= 1;
			put("lab", "bad_header_200", b, sizes[i]);
		}
	}
	put_str("lab", "foreign", "MCLX this is not a lab datagram at all, not at all");
}

static void strings(void)
{
	static const char *const groups[] = {
		"239.1.2.3:5000", "[ff15::1]:5000", "232.1.1.1:5000@198.18.1.1",
		"[ff35::1]:5000@2001:db8::1", "[ff35::1]:5000@[2001:db8::1]",
		"239.255.255.250:0x76c", "224.0.0.1:65535", "[ff02::1%eth0]:5000",
		"[::ffff:239.1.2.3]:5000", "239.1.2.3:5000@239.1.2.4",
		"239.192.0.0/16:5000", "239.192.0.0/16:*", "[ff15::/16]:*", "239.1.2.3:*",
		"232.0.0.0/8:*@198.18.1.1", "239.1.2.3/16:5000",
	};
	static const char *const options[] = {
		"198.18.0.1:7000", "[2001:db8::1]:7000", "gw.example.net:7000",
		"[fe80::1%eth0]:7000", "0.0.0.0:0", "7000", "0x1388", "65535", "4M", "8MiB",
		"1g", "64K", "1.5", "250ms", "2m", "3s", "100us", "18446744073709551615",
	};
	char name[32];
	unsigned int i;

	for (i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
		snprintf(name, sizeof(name), "group_%u", i);
		put_str("group", name, groups[i]);
	}
	for (i = 0; i < sizeof(options) / sizeof(options[0]); i++) {
		snprintf(name, sizeof(name), "option_%u", i);
		put_str("options", name, options[i]);
	}
}

/* Config files (fuzz_config.c): the example's forms, and near misses. */
static void configs(void)
{
	static const char *const files[] = {
		"iface eth1\ngroup 239.1.2.3:5000\n",
		"# c\niface eth1   # trailing\r\ngroup [ff15::1]:5000\n\n  ttl 3\nverbose\n",
		"iface eth1\ngroup 239.1.2.3:5000 direction in rewrite 239.9.9.9:6000\n"
		"group 239.1.2.4:5000 direction out\ngroup 232.1.1.1:6000@198.18.1.1\n",
		"iface eth1\ngroup 239.1.2.3:5000 rewrite [ff15::9]:6000\n",
		"iface eth1\ngroup 239.1.2.3:5000\ngroup 239.1.2.3:5000 direction in\n",
		"iface eth1\ngroup 239.1.2.3:5000\nmode xdp\nxdp-mode generic\nring-size 1M\n"
		"queue-size 64K\nmax-peers 2\nmax-hops 3\nkeepalive 250ms\ndead-after 1\n",
		"iface eth1\ngroup 239.1.2.3:5000\ntls-cert a.pem\ntls-key a.key\ntls-ca ca.pem\n"
		"allow 198.51.100.0/24\nallow 2001:db8::/32\nauth-timeout 2\nmax-pending 8\n",
		"iface eth1\ngroup 239.1.2.3:5000\npsk-file k\nframing udptunnel\nmetrics 127.0.0.1:9\n",
		"ttl 1\nttl 2\n", "bogus 1\n", "config x\n", "iface\n",
	};
	char name[32];
	unsigned int i;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(name, sizeof(name), "config_%u", i);
		put_str("config", name, files[i]);
	}
}

/* (operation, d16) for fuzz_replay.c: frames put and sent, an ack, more
 * put, a resume behind the sent ones; an ack ahead of them (refused); the
 * window pushed out by bytes and by age, freed and back. */
static void replay(void)
{
	static const uint8_t session[] = {
		0, 0, 100,  1, 0, 40,  0, 0, 200,  2, 0, 8,  3, 0, 17,  0, 0, 60,
		1, 0, 250,  4, 0, 17,  2, 0, 15,  3, 0, 60,
	};
	static const uint8_t pushed[] = {
		0x80, 0x03, 0x20,  0x80, 0x03, 0x20,  0x80, 0x03, 0x20,  0x80, 0x03, 0x20,
		2, 0, 3,  5, 0, 0,  4, 0, 16,  7, 0, 1,  0, 0, 50,  7, 0, 0,  0, 0, 50,
		4, 0, 16,  6, 0x03, 0x21,
	};

	put("replay", "session", session, sizeof(session));
	put("replay", "pushed_out", pushed, sizeof(pushed));
}

static void seen(void)
{
	/* (origin, mode, d16) operations, see fuzz_seen.c */
	static const uint8_t inorder[] = {
		1, 2, 0, 0,  1, 0, 0x80, 1,  1, 0, 0x80, 2,  1, 0, 0x80, 1,  2, 2, 0, 9,
		1, 0, 0x60, 0,  1, 0, 0x60, 0,  1, 1, 0, 3,  1, 0, 0x80, 0,
	};
	static const uint8_t top[] = {
		7, 3, 0, 10,  7, 3, 0, 5,  7, 3, 0, 5,  7, 0, 0x80, 1,
	};
	/* a forged 2^64 - 1 held while the real stream goes on; two far ones
	 * in a row move the window, and two far below move it back */
	static const uint8_t jump[] = {
		5, 2, 0, 100,  5, 0, 0x80, 1,  5, 3, 0, 0,  5, 0, 0x80, 1,  5, 3, 0, 1,
		5, 3, 0, 0,  5, 2, 0, 200,  5, 2, 0, 201,  5, 0, 0x80, 1,
	};

	put("seen", "window", inorder, sizeof(inorder));
	put("seen", "top_of_range", top, sizeof(top));
	put("seen", "far_jump", jump, sizeof(jump));
}

/*
 * Operations for fuzz_subs.c: 2 bytes of settings, then one byte per
 * operation and its arguments (see op() there). A triangle whose wants
 * change while links drop and sends fail; a stranger's announcements,
 * chunked, relayed and malformed; the same with small bounds.
 */
static void subs(void)
{
	static const uint8_t triangle[] = {
		7, 0,                         /* max_hops 8, default bounds */
		2, 3,  2, 7,  2, 2,           /* links 0-1, 1-2, 2-0 up */
		0, 2, 2,  0x22, 3, 2,  0x25, 1, 1,   /* 2 wants two entries */
		6, 0,                         /* deliver */
		8, 1,  0x22, 3, 2,            /* 1 selects */
		4, 0, 0x88, 0xb8,             /* 35 s on */
		9, 0,                         /* 0's capture set */
		1, 3,                         /* link 0-1 down */
		3, 2, 2,                      /* 2 fails its next 2 sends */
		0, 2, 1,  0x12,               /* 2 wants 239.1.0.0/16 */
		4, 0, 0, 200,  6, 0,          /* 200 ms on, deliver */
		2, 3,  6, 0,  8, 0,  0x12,    /* 0-1 up, deliver, 0 selects */
	};
	static uint8_t b[4096];
	size_t n = 0, k;
	unsigned int i;

	static const uint8_t big[] = {
		7, 0,
		2, 7,                         /* link 1-2 up */
		3, 2, 5,                      /* 2: one send passes, one fails */
		0, 2, 250,                    /* 2 wants 1,700 groups: two chunks */
		6, 0,  2, 3,  2, 2,           /* deliver, links 0-1 and 2-0 up */
		4, 0, 0, 150,                 /* 150 ms on: the resend */
		8, 0, 0x22, 3, 2,
	};

	put("subs", "triangle", triangle, sizeof(triangle));
	put("subs", "big", big, sizeof(big));

	/* the stranger: an announcement in two chunks, one of WANT_ALL, then
	 * one with a host bit (its connection closes), then a link flap */
	b[n++] = 7;
	b[n++] = 0;
	b[n++] = 2;
	b[n++] = 3;
	for (i = 0; i < 4; i++) {
		uint8_t f[512];

		k = i == 0 ? announce_frame(f, 5, 1, 0, false, false) :
		    i == 1 ? announce_frame(f, 5, 1, 1, true, false) :
		    i == 2 ? announce_frame(f, 6, 2, 0, true, true) :
			     announce_frame(f, 7, 1, 0, true, false);
		if (i == 3)
			f[k - 30] = 1;
		b[n++] = 7;
		b[n++] = 0;
		b[n++] = k >> 8;
		b[n++] = k;
		memcpy(b + n, f, k);
		n += k;
		b[n++] = 6;
		b[n++] = 0;
	}
	memcpy(b + n, "\x01\x03\x02\x03\x06\x00\x08\x02\x3f", 9);
	n += 9;
	put("subs", "stranger", b, n);
	b[1] = 0x0b;                      /* small bounds */
	put("subs", "stranger_small", b, n);
}

/* Request heads for the --metrics server: what scrapers and curl send,
 * and a few that must be refused. */
static void http(void)
{
	static const char *const heads[] = {
		"GET /metrics HTTP/1.1\r\nHost: 198.18.0.1:9100\r\nUser-Agent: Prometheus/2.42.0\r\n"
		"Accept: application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5\r\n"
		"Accept-Encoding: gzip\r\nX-Prometheus-Scrape-Timeout-Seconds: 10\r\n\r\n",
		"GET /metrics HTTP/1.0\n\n",
		"HEAD /metrics?x=1 HTTP/1.1\r\nHost: [::1]:9100\r\n\r\n",
		"\r\nGET /metrics HTTP/1.1\r\n\r\n",
		"POST /metrics HTTP/1.1\r\nContent-Length: 1\r\n\r\nx",
		"GET /other HTTP/1.1\r\n\r\n",
		"GET /metrics HTTP/2.0\r\n\r\n",
		"GET /metrics\r\n\r\n",
		"GET  /metrics HTTP/1.1\r\n\r\n",
		"GET /metrics HTTP/1.1\r\n folded: line\r\n\r\n",
		"GET /metrics HTTP/1.1\r\nHost : x\r\n\r\n",
		"GET /metrics HTTP/1.1\r\nHost: x\r\n",
	};
	char name[32];
	unsigned int i;

	for (i = 0; i < sizeof(heads) / sizeof(heads[0]); i++) {
		snprintf(name, sizeof(name), "head_%u", i);
		put_str("http", name, heads[i]);
	}
}

/* Answers of the Docker Engine API to GET /containers/NAME/json, as
 * Docker 20.10 gives them (shortened), and bodies after a byte that sets
 * the harness's chunk size: running, exited, no such container, an error,
 * chunked, and near misses. */
static void docker(void)
{
	static const char *const answers[] = {
		"HTTP/1.0 200 OK\r\nApi-Version: 1.41\r\nContent-Type: application/json\r\n"
		"Docker-Experimental: false\r\nOstype: linux\r\nServer: Docker/20.10.24+dfsg1 (linux)\r\n"
		"Date: Mon, 07 Dec 2026 03:00:00 GMT\r\n\r\n"
		"{\"Id\":\"4f1c0e5a9b7d\",\"Created\":\"2026-12-07T03:00:00Z\",\"Path\":\"/usr/sbin/mctun\","
		"\"Args\":[\"recv\",\"239.1.2.3:5000\"],\"State\":{\"Status\":\"running\",\"Running\":true,"
		"\"Paused\":false,\"Restarting\":false,\"OOMKilled\":false,\"Dead\":false,\"Pid\":4242,"
		"\"ExitCode\":0,\"Error\":\"\",\"StartedAt\":\"2026-12-07T03:00:01Z\"},\"Name\":\"/cam1\","
		"\"NetworkSettings\":{\"Networks\":{\"cams\":{\"IPAddress\":\"198.18.200.2\"}}}}\n",
		"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 84\r\n\r\n"
		"{\"State\":{\"Status\":\"exited\",\"Running\":false,\"Pid\":0,\"ExitCode\":143},"
		"\"Name\":\"/cam1\"}\n",
		"HTTP/1.0 404 Not Found\r\nContent-Type: application/json\r\n\r\n"
		"{\"message\":\"No such container: cam2\"}\n",
		"HTTP/1.0 500 Internal Server Error\r\n\r\n{\"message\":\"something broke\"}\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
		"19\r\n{\"State\":{\"Running\":true,\r\n11;ext=1\r\n\"Pid\":7,\"Status\":\r\n"
		"b\r\n\"running\"}}\r\n0\r\n\r\n",
		"HTTP/1.0 200 OK\n\n{\"State\":{\"Running\":true,\"Pid\":0}}",
		"HTTP/1.0 200 OK\r\n\r\n{\"State\":{\"Running\":\"yes\",\"Pid\":1}}",
		"HTTP/1.0 200 OK\r\nContent-Length: 9999\r\n\r\n{}",
		"HTTP/1.0 200 OK\r\n\r\n{\"State\":",
		"SSH-2.0-OpenSSH_9.2p1\r\n",
	};
	static const char *const bodies[] = {
		"\x07{\"State\":{\"Status\":\"running\",\"Running\":true,\"Pid\":31337}}\n",
		"\x00{\"State\":{\"Status\":\"created\",\"Running\":false,\"Pid\":0}}",
		"\x3f{\"State\":{\"Running\":true,\"Pid\":4294967296}}",
		"\x02[1,2,3]",
		/* events streams, as Docker 20.10 writes them: an object a line */
		"\x05{\"status\":\"start\",\"id\":\"4f1c0e5a9b7d\",\"from\":\"mctun:0.1.0\","
		"\"Type\":\"container\",\"Action\":\"start\",\"Actor\":{\"ID\":\"4f1c0e5a9b7d\","
		"\"Attributes\":{\"image\":\"mctun:0.1.0\",\"name\":\"cam1\"}},\"scope\":\"local\","
		"\"time\":1796619640,\"timeNano\":1796619640255414067}\n"
		"{\"Type\":\"network\",\"Action\":\"connect\",\"Actor\":{\"ID\":\"9e0a\","
		"\"Attributes\":{\"container\":\"4f1c0e5a9b7d\",\"name\":\"cams\",\"type\":\"bridge\"}}}\n",
		"\x01{\"Type\":\"container\",\"Action\":\"die\",\"Actor\":{\"ID\":\"4f1c\","
		"\"Attributes\":{\"exitCode\":\"143\",\"name\":\"cam1\"}}}\n{\"Type\":\"container\","
		"\"Action\":\"rename\",\"Actor\":{\"ID\":\"4f1c\",\"Attributes\":{\"name\":\"cam2\","
		"\"oldName\":\"/cam1\"}}}\n{\"Type\":",
		"\x09{\"Type\":\"container\"}\n[]\n{\"Action\":\"x\"}\n}",
	};
	char name[32];
	unsigned int i;

	for (i = 0; i < sizeof(answers) / sizeof(answers[0]); i++) {
		snprintf(name, sizeof(name), "answer_%u", i);
		put_str("docker", name, answers[i]);
	}
	for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		snprintf(name, sizeof(name), "body_%u", i);
		/* (the first byte may be 0) */
		put("docker", name, bodies[i], 1 + strlen(bodies[i] + 1));
	}
}

/* Names as interfaces, files and peers may give them: plain, needing
 * escapes, well-formed UTF-8, and ill-formed in each way a decoder meets. */
static void json(void)
{
	static const char *const strs[][2] = {
		{ "ascii", "eth0" },
		{ "escapes", "a\"b\\c\n\t\001\037\177" },
		{ "utf8", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xef\xbf\xbd" },
		{ "stray", "\x80x\xbf\xc0\xc1\xf5\xff" },
		{ "overlong", "\xc0\xaf \xe0\x80\xaf \xf0\x80\x80\xaf" },
		{ "surrogate", "\xed\xa0\x80 \xed\xbf\xbf" },
		{ "too_big", "\xf4\x90\x80\x80" },
		{ "cut", "\xe2\x82 \xf0\x9f\x98 x\xc3" },
	};
	unsigned int i;

	for (i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
		put_str("json", strs[i][0], strs[i][1]);
}

/* ---- IGMP/MLD sessions for fuzz_mship (its header says the format) ----- */

#define MS_FAM6   0x01
#define MS_CSUM   0x02            /* the harness fixes the checksum */
#define MS_RAWSRC 0x04
#define MS_DT_MS  (1 << 3)
#define MS_DT_S   (2 << 3)
#define MS_DT_10S (3 << 3)
#define MS_RECV   0x20
#define MS_ADDR   0x40
#define MS_POLICY 0x80

struct session {
	uint8_t b[16384];
	size_t n;
};

static void ms_start(struct session *s, uint8_t p0, uint8_t p1)
{
	s->b[0] = p0;
	s->b[1] = p1;
	s->n = 2;
}

static void ms_msg(struct session *s, uint8_t ctl, uint8_t src, uint8_t dt, const uint8_t *msg,
		   size_t len)
{
	uint8_t *c = s->b + s->n;

	c[0] = ctl;
	c[1] = len >> 8;
	c[2] = len;
	c[3] = src;
	c[4] = dt;
	memcpy(c + 5, msg, len);
	s->n += 5 + len;
}

/* IGMPv1/v2 (type) or MLDv1 (family 6: type + 119, 0x16 -> 131) for a/b/c/d
 * or ff05::d. */
static void ms_old(struct session *s, uint8_t ctl, uint8_t src, uint8_t dt, uint8_t type,
		   uint8_t d)
{
	uint8_t m[24] = { 0 };

	if (ctl & MS_FAM6) {
		m[0] = type == 0x17 ? 132 : 131;
		m[8] = 0xff;
		m[9] = 0x05;
		m[23] = d;
		ms_msg(s, ctl | MS_CSUM, src, dt, m, 24);
	} else {
		m[0] = type;
		m[4] = 239;
		m[5] = 1;
		m[6] = 2;
		m[7] = d;
		ms_msg(s, ctl | MS_CSUM, src, dt, m, 8);
	}
}

/* A v3/MLDv2 report of one record for group d with nsrc sources from
 * 192.0.2.first / 2001:db8::first on. */
static void ms_rec(struct session *s, uint8_t ctl, uint8_t src, uint8_t dt, uint8_t type,
		   uint8_t d, unsigned int first, unsigned int nsrc)
{
	uint8_t m[2048] = { 0 }, *r = m + 8;
	unsigned int alen = ctl & MS_FAM6 ? 16 : 4, i;

	m[0] = ctl & MS_FAM6 ? 143 : 0x22;
	m[7] = 1;
	r[0] = type;
	r[2] = nsrc >> 8;
	r[3] = nsrc;
	if (alen == 4) {
		memcpy(r + 4, (uint8_t[]){ 239, 1, 2, d }, 4);
	} else {
		r[4] = 0xff;
		r[5] = 0x05;
		r[19] = d;
	}
	for (i = 0; i < nsrc; i++) {
		uint8_t *a = r + 4 + alen + i * alen;

		if (alen == 4) {
			memcpy(a, (uint8_t[]){ 192, 0, 2, first + i }, 4);
		} else {
			a[0] = 0x20;
			a[1] = 0x01;
			a[2] = 0x0d;
			a[3] = 0xb8;
			a[15] = first + i;
		}
	}
	ms_msg(s, ctl | MS_CSUM, src, dt, m, 8 + 4 + alen + nsrc * alen);
}

/* A v3/MLDv2 query from the builder, checksum and all: over the one IP
 * destination the harness gives every message (ff02::16). Its sources are
 * those of ms_rec(), from 192.0.2.first / 2001:db8::first on. */
static void ms_query(struct session *s, uint8_t ctl, uint8_t src, uint8_t dt, int d,
		     unsigned int first, unsigned int nsrc, bool s_flag, uint8_t qrv, uint32_t qqi)
{
	uint8_t m[1024], g[16] = { 0 }, srcs[8 * 16] = { 0 }, ip_src[16] = { 0 };
	uint8_t ip_dst[16] = { 0xff, 0x02, [15] = 0x16 };
	unsigned int alen = ctl & MS_FAM6 ? 16 : 4, i;
	uint8_t family = ctl & MS_FAM6 ? 6 : 4;
	size_t n;

	if (family == 4) {
		memcpy(g, (uint8_t[]){ 239, 1, 2, d }, 4);
		memcpy(ip_src, (uint8_t[]){ 10, 0, 0, src }, 4);
	} else {
		g[0] = 0xff;
		g[1] = 0x05;
		g[15] = d;
		ip_src[0] = 0xfe;
		ip_src[1] = 0x80;
		ip_src[15] = src;
	}
	for (i = 0; i < nsrc; i++) {
		uint8_t *a = srcs + i * alen;

		if (alen == 4) {
			memcpy(a, (uint8_t[]){ 192, 0, 2, first + i }, 4);
		} else {
			memcpy(a, (uint8_t[]){ 0x20, 0x01, 0x0d, 0xb8 }, 4);
			a[15] = first + i;
		}
	}
	n = mship_build_query(family, m, sizeof(m), d < 0 ? NULL : g, srcs, nsrc,
			      d < 0 ? 10000 : 500, s_flag, qrv, qqi, ip_src, ip_dst);
	ms_msg(s, ctl, src, dt, m, n);
}

static void mship(void)
{
	static struct session s;
	uint8_t bad[8] = { 0x16, 0, 0x12, 0x34, 239, 1, 2, 3 };
	const uint8_t v2q[8] = { 0x11, 100, 0, 0, 0, 0, 0, 0 };

	/* IGMPv2: join, leave, the group-specific queries, a join again */
	ms_start(&s, 0x05, 0x0f);
	ms_old(&s, MS_ADDR, 1, 0, 0x16, 3);
	ms_old(&s, MS_DT_MS, 5, 200, 0x16, 3);
	ms_old(&s, MS_DT_MS, 5, 100, 0x17, 3);
	ms_old(&s, MS_DT_S, 6, 2, 0x16, 4);
	ms_old(&s, MS_DT_10S, 6, 30, 0x16, 4);
	put("mship", "igmp_v2_leave", s.b, s.n);

	/* IGMPv3 source filtering */
	ms_start(&s, 0x05, 0x0f);
	ms_rec(&s, MS_ADDR, 1, 0, MSHIP_IS_IN, 7, 1, 2);
	ms_rec(&s, MS_DT_MS, 5, 10, MSHIP_BLOCK, 7, 1, 1);
	ms_rec(&s, MS_DT_MS, 6, 10, MSHIP_ALLOW, 7, 3, 2);
	ms_rec(&s, MS_DT_MS, 6, 250, MSHIP_TO_EX, 7, 2, 3);
	ms_rec(&s, MS_DT_S, 5, 1, MSHIP_IS_EX, 8, 9, 1);
	ms_rec(&s, MS_DT_S, 7, 1, MSHIP_TO_IN, 8, 0, 0);
	ms_rec(&s, MS_DT_S | MS_RECV, 7, 3, MSHIP_IS_IN, 8, 9, 1);
	put("mship", "igmp_v3_sources", s.b, s.n);

	/* the election: a lower querier, its group-specific query, then
	 * silence; an IGMPv2 querier */
	ms_start(&s, 0x04, 0x0f);
	ms_old(&s, MS_ADDR, 1, 0, 0x16, 9);
	ms_query(&s, MS_DT_S, 2, 1, -1, 0, 0, false, 3, 60);
	ms_query(&s, MS_DT_S, 2, 1, 9, 0, 0, false, 3, 60);
	ms_query(&s, MS_DT_S, 9, 1, 9, 1, 2, true, 2, 125);
	ms_rec(&s, MS_DT_S, 5, 1, MSHIP_IS_IN, 10, 1, 3);
	ms_query(&s, MS_DT_MS, 2, 100, 10, 2, 2, false, 3, 60);
	ms_msg(&s, MS_CSUM | MS_DT_10S, 3, 25, v2q, 8);
	ms_old(&s, MS_DT_10S, 5, 25, 0x16, 9);
	put("mship", "igmp_querier", s.b, s.n);

	/* IGMPv1 hosts: the leave is ignored */
	ms_start(&s, 0x01, 0x0f);
	ms_old(&s, MS_ADDR, 1, 0, 0x12, 5);
	ms_old(&s, MS_DT_MS, 6, 10, 0x17, 5);
	ms_rec(&s, MS_DT_MS, 6, 10, MSHIP_BLOCK, 5, 1, 1);
	put("mship", "igmp_v1", s.b, s.n);

	/* MLD: v1 report and done, v2 records and queries */
	ms_start(&s, 0x05, 0x1f);
	ms_old(&s, MS_FAM6 | MS_ADDR, 1, 0, 0x16, 3);
	ms_old(&s, MS_FAM6 | MS_DT_MS, 5, 100, 0x17, 3);
	ms_rec(&s, MS_FAM6 | MS_DT_MS, 5, 10, MSHIP_IS_IN, 4, 1, 3);
	ms_rec(&s, MS_FAM6 | MS_DT_MS, 5, 10, MSHIP_BLOCK, 4, 2, 1);
	ms_rec(&s, MS_FAM6 | MS_DT_MS, 6, 10, MSHIP_TO_EX, 5, 1, 1);
	ms_query(&s, MS_FAM6 | MS_DT_S, 2, 2, 5, 1, 1, false, 2, 125);
	ms_query(&s, MS_FAM6 | MS_DT_MS, 2, 2, 4, 1, 2, false, 2, 125);
	ms_query(&s, MS_FAM6 | MS_DT_10S, 3, 2, -1, 0, 0, false, 2, 200);
	put("mship", "mld", s.b, s.n);

	/* too many sources, too many groups, a policy change */
	ms_start(&s, 0x85, 0x02);
	ms_rec(&s, MS_ADDR, 1, 0, MSHIP_ALLOW, 1, 1, 50);
	ms_rec(&s, 0, 1, 0, MSHIP_ALLOW, 1, 60, 20);
	ms_rec(&s, 0, 1, 0, MSHIP_IS_EX, 2, 0, 0);
	ms_rec(&s, 0, 1, 0, MSHIP_IS_EX, 3, 0, 0);
	ms_old(&s, MS_POLICY, 5, 0, 0x16, 1);
	put("mship", "bounds", s.b, s.n);

	/* refused: a bad checksum, a cut report, an unknown type, MLD from a
	 * global address */
	ms_start(&s, 0x05, 0x0f);
	ms_msg(&s, 0, 5, 0, bad, 8);
	ms_msg(&s, MS_CSUM, 5, 0, bad, 6);
	bad[0] = 0x13;
	ms_msg(&s, MS_CSUM, 5, 0, bad, 8);
	ms_old(&s, MS_FAM6 | MS_RAWSRC, 255, 0, 0x16, 3);
	put("mship", "refused", s.b, s.n);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: gen_corpus DIR\n");
		return 2;
	}
	root = argv[1];
	if (mkdir(root, 0755) < 0 && errno != EEXIST) {
		perror(root);
		return 1;
	}
	frames();
	streams();
	ut();
	lab();
	strings();
	configs();
	seen();
	replay();
	subs();
	http();
	json();
	mship();
	docker();
	return 0;
}
