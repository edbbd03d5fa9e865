/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The little HTTP the --metrics server speaks: parse a request head, pick
 * the answer, format a response head. Pure functions of their buffers (no
 * I/O), so a fuzzer can drive them (fuzz/fuzz_http.c).
 */
#ifndef MCTUN_HTTP_H
#define MCTUN_HTTP_H

#include <stddef.h>

#define HTTP_METRICS_PATH  "/metrics"
#define HTTP_METRICS_TYPE  "text/plain; version=0.0.4; charset=utf-8"

struct http_request {
	char method[16];
	char path[256];            /* the target without its query string */
	int minor;                 /* HTTP/1.minor */
};

/*
 * Looks for a whole request head (request line, header lines, blank line;
 * CRLF or bare LF) at the start of buf. Returns its length (> 0) with *r
 * filled, 0 when more bytes are needed, or a status code to answer with
 * as a negative number: -400 malformed, -414 target too long, -501 method
 * too long, -505 not HTTP/1.x.
 */
int http_parse(const char *buf, size_t len, struct http_request *r);

/* The status for a parsed request: 200 for GET or HEAD of /metrics,
 * 405 for another method there, 404 for any other path. */
int http_route(const struct http_request *r);

/* "Not Found" for 404, ...; "Error" for a code it does not know. */
const char *http_reason(int code);

/* A response head with Content-Type, Content-Length and Connection: close
 * (and Allow for a 405). Returns its length, as snprintf does. */
int http_head(char *buf, size_t len, int code, const char *type, size_t body_len);

#endif
