/* tls.h — what the TLS handshake of a wss connection showed: protocol, cipher, the server's certificate, the verdict. */
#ifndef BROTR_NET_TLS_H
#define BROTR_NET_TLS_H

#include <stdint.h>

#define NET_TLS_SANS_MAX 32  /* subject alternative names kept; the rest are counted in sans_omitted */
#define NET_TLS_NAME_MAX 256 /* longest subject, issuer or name kept (bytes, cut beyond) */

/*
 * Filled from the certificate the server presented (its leaf), whether or not it was accepted,
 * and from the session once the handshake is done. Every string is printable ASCII (other bytes
 * escaped as OpenSSL's RFC 2253 form does, or '?' in names), NUL-terminated.
 */
struct net_tls_facts {
	char version[16];                 /* "TLSv1.3", OpenSSL's name for the protocol agreed */
	char cipher[64];                  /* "TLS_AES_256_GCM_SHA384", OpenSSL's name */
	char subject[NET_TLS_NAME_MAX];   /* RFC 2253, as `openssl x509 -noout -subject -nameopt RFC2253` */
	char issuer[NET_TLS_NAME_MAX];    /* likewise */
	char sans[NET_TLS_SANS_MAX][NET_TLS_NAME_MAX]; /* "DNS:relay.example", "IP:127.0.0.1", "IP:::1" */
	int n_sans;
	int sans_omitted;                 /* names beyond NET_TLS_SANS_MAX, and names of other kinds */
	int64_t not_before, not_after;    /* the validity period, Unix seconds */
	char sha256[96];                  /* SHA-256 of the DER certificate as `openssl x509 -noout -fingerprint
	                                   * -sha256` prints it: 32 uppercase hex pairs joined by ':' */
	int verified;                     /* 1: chain (and, unless allow_insecure, name) verified */
	char verify_error[160];           /* when not verified: OpenSSL's reason and the depth */
};

#endif
