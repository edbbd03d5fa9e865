/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Authenticated tunnel connections: TLS 1.3 (OpenSSL 3) over the daemon's
 * non-blocking sockets, in one of two modes:
 *   - certificates: both sides present one and verify the other's against
 *     the CA file (--tls-cert, --tls-key, --tls-ca);
 *   - pre-shared key: a TLS 1.3 external PSK (--psk-file), with an
 *     ephemeral (EC)DHE exchange, so the traffic is encrypted and
 *     authenticated just the same.
 * The daemon calls these from its peer paths only when TLS is on; the plain
 * path does not go through here at all.
 *
 * Functions return 0 or -errno like the rest of the daemon. A connection's
 * failure sets a one-line reason that tls_why() returns, and the code says
 * what kind of failure it was:
 *   -EPROTO           authentication failed (certificate, CA, key, PSK),
 *                     or the TLS exchange itself broke;
 *   -EPROTONOSUPPORT  the other side speaks plain text, not TLS;
 *   -ECONNRESET       the connection closed during the handshake;
 *   other -errno      the socket failed.
 */
#ifndef MCTUN_TLS_H
#define MCTUN_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "obuf.h"

/* The --psk-file format, which `mctun genpsk` writes: one line
 * "IDENTITY HEXKEY" (blank lines and lines starting with '#' aside), the
 * identity 1 to PSK_ID_MAX printable ASCII characters without blanks, the
 * key PSK_MIN to PSK_MAX bytes as hex digits. */
#define PSK_MIN          16       /* key bytes: 128 bits */
#define PSK_MAX          64
#define PSK_ID_MAX       128

struct tls_opts {
	const char *cert;       /* --tls-cert: PEM certificate (chain) */
	const char *key;        /* --tls-key: PEM private key, unencrypted, mode 0600 */
	const char *ca;         /* --tls-ca: PEM CA certificates peers must chain to */
	const char *psk_file;   /* --psk-file: "IDENTITY HEXKEY", mode 0600 */
};

struct tls_ctx;
struct tls_conn;

/* True when the options ask for TLS at all. */
bool tls_opts_on(const struct tls_opts *o);
/* Checks the options' files (present, regular, secrets not open to group or
 * others, certificate valid now, key matching it) and builds the context.
 * Prints one line naming the option, the file and the cause on error:
 * -EINVAL for a bad combination of options, else -errno. */
int tls_ctx_new(const struct tls_opts *o, struct tls_ctx **out);
void tls_ctx_free(struct tls_ctx *t);
/* What is in force, for the start-up line: "TLS 1.3 certificates (this
 * gateway CN=gw1, valid until ...; peers verified against ca.pem)". */
const char *tls_ctx_describe(const struct tls_ctx *t);

/* A connection over the connected socket fd (not owned). */
int tls_conn_new(struct tls_ctx *t, int fd, bool server, struct tls_conn **out);
/* Sends close_notify if the connection is healthy, then frees it. */
void tls_conn_free(struct tls_conn *c);

/* Advances the handshake: 0 once done (the peer is authenticated), -EAGAIN
 * to be called again when the socket is ready (readable, and writable if
 * tls_want_write()), or a failure as above. */
int tls_handshake(struct tls_conn *c);
/* Decrypted bytes into buf: > 0, 0 when the peer closed, -EAGAIN, or a
 * failure as above. */
ssize_t tls_read(struct tls_conn *c, void *buf, size_t len);
/* Encrypts and sends what the socket takes from the queue, like
 * obuf_flush(): bytes taken (>= 0) or a failure as above. */
long tls_flush(struct tls_conn *c, struct obuf *o);
/* The last call waits for the socket to become writable. */
bool tls_want_write(const struct tls_conn *c);
/* A read stopped early would find more in OpenSSL's buffers, which epoll
 * does not see. */
bool tls_has_pending(const struct tls_conn *c);
/* Why the connection failed (valid until it is freed). */
const char *tls_why(const struct tls_conn *c);
/* After the handshake: "TLS_AES_128_GCM_SHA256, certificate CN=gw1". */
const char *tls_peer_desc(struct tls_conn *c);

#endif
