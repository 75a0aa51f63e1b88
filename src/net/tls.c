/* tls.c — a link's TLS facts: the server's certificate as the verify callback sees it, the session once agreed, the verdict. */
#include "net/net_int.h"

#include <arpa/inet.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A distinguished name in RFC 2253 form (OpenSSL escapes every byte outside printable ASCII). */
static void name_2253(const X509_NAME *nm, char *out, size_t len)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p = NULL;
	out[0] = '\0';
	if (!b)
		return;
	if (nm && X509_NAME_print_ex(b, nm, 0, XN_FLAG_RFC2253) >= 0) {
		long n = BIO_get_mem_data(b, &p);
		if (n > 0 && (size_t)n < len) {
			memcpy(out, p, (size_t)n);
			out[n] = '\0';
		} else if (n > 0) {
			memcpy(out, p, len - 1);
			out[len - 1] = '\0';
		}
	}
	BIO_free(b);
}

static int64_t unix_time(const ASN1_TIME *t)
{
	struct tm tm;
	if (!t || !ASN1_TIME_to_tm(t, &tm))
		return 0;
	return (int64_t)timegm(&tm);
}

static void fingerprint(X509 *cert, char *out)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned n = 0;
	out[0] = '\0';
	if (!X509_digest(cert, EVP_sha256(), md, &n))
		return;
	for (unsigned i = 0; i < n && i < 32; i++)
		sprintf(out + 3 * i - (i ? 1 : 0), i ? ":%02X" : "%02X", md[i]);
}

/* One subject alternative name as "DNS:name" or "IP:address"; 0, or -1 for another kind. */
static int san_text(const GENERAL_NAME *g, char *out, size_t len)
{
	char ip[INET6_ADDRSTRLEN];
	if (g->type == GEN_DNS) {
		const unsigned char *s = ASN1_STRING_get0_data(g->d.dNSName);
		int n = ASN1_STRING_length(g->d.dNSName);
		size_t o = (size_t)snprintf(out, len, "DNS:");
		for (int i = 0; i < n && o + 1 < len; i++)
			out[o++] = s[i] >= 0x20 && s[i] < 0x7f ? (char)s[i] : '?';
		out[o] = '\0';
		return 0;
	}
	if (g->type == GEN_IPADD) {
		int n = ASN1_STRING_length(g->d.iPAddress);
		const unsigned char *a = ASN1_STRING_get0_data(g->d.iPAddress);
		if ((n == 4 || n == 16) && inet_ntop(n == 4 ? AF_INET : AF_INET6, a, ip, sizeof(ip))) {
			snprintf(out, len, "IP:%s", ip);
			return 0;
		}
	}
	return -1;
}

static void read_sans(struct net_tls_facts *f, X509 *cert)
{
	GENERAL_NAMES *gens = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
	for (int i = 0; gens && i < sk_GENERAL_NAME_num(gens); i++) {
		char *slot = f->n_sans < NET_TLS_SANS_MAX ? f->sans[f->n_sans] : NULL;
		char spare[NET_TLS_NAME_MAX];
		if (san_text(sk_GENERAL_NAME_value(gens, i), slot ? slot : spare, NET_TLS_NAME_MAX) < 0 || !slot)
			f->sans_omitted++;
		else
			f->n_sans++;
	}
	GENERAL_NAMES_free(gens);
}

static void read_session(struct net_tls_facts *f, const SSL *ssl)
{
	const SSL_CIPHER *c = ssl ? SSL_get_current_cipher(ssl) : NULL;
	if (ssl)
		snprintf(f->version, sizeof(f->version), "%s", SSL_get_version(ssl));
	if (c)
		snprintf(f->cipher, sizeof(f->cipher), "%s", SSL_CIPHER_get_name(c));
}

/* The certificate's own facts (not the verdict). */
static void read_cert(struct net_tls_facts *f, X509 *cert)
{
	name_2253(X509_get_subject_name(cert), f->subject, sizeof(f->subject));
	name_2253(X509_get_issuer_name(cert), f->issuer, sizeof(f->issuer));
	f->not_before = unix_time(X509_get0_notBefore(cert));
	f->not_after = unix_time(X509_get0_notAfter(cert));
	fingerprint(cert, f->sha256);
	read_sans(f, cert);
}

/* Allocates the facts of this attempt from cert. 0, or -1 (no certificate, out of memory). */
static int capture(struct link *l, X509 *cert)
{
	if (l->tls)
		return 0;
	if (!cert || !(l->tls = calloc(1, sizeof(*l->tls))))
		return -1; /* the attempt goes on without facts */
	read_cert(l->tls, cert);
	return 0;
}

static void keep_error(struct net_tls_facts *f, int err, int depth)
{
	if (!f->verify_error[0])
		snprintf(f->verify_error, sizeof(f->verify_error), "%s (depth %d)", X509_verify_cert_error_string(err),
			 depth);
}

void link_tls_verify(struct link *l, X509_STORE_CTX *x, const SSL *ssl, int preverify_ok)
{
	if (capture(l, X509_STORE_CTX_get0_cert(x)) < 0) /* the leaf, at every depth */
		return;
	read_session(l->tls, ssl);
	if (!preverify_ok)
		keep_error(l->tls, X509_STORE_CTX_get_error(x), X509_STORE_CTX_get_error_depth(x));
}

/*
 * With allow_insecure, lws accepts a self-signed, expired or unknown-issuer certificate before
 * our callback sees the failure (and skips the name check): the verdict is then found again
 * here, against the same trust store and the relay's name, so the facts say what a verifying
 * client would have seen.
 */
static void verify_again(struct link *l, SSL *ssl)
{
	X509_STORE_CTX *x = X509_STORE_CTX_new();
	X509 *leaf = SSL_get0_peer_certificate(ssl);
	if (!x || !leaf || !X509_STORE_CTX_init(x, SSL_CTX_get_cert_store(SSL_get_SSL_CTX(ssl)), leaf,
						 SSL_get_peer_cert_chain(ssl)))
		goto out;
	X509_STORE_CTX_set_default(x, "ssl_server");
	X509_VERIFY_PARAM *vp = X509_STORE_CTX_get0_param(x);
	if (l->u.host[0] && !X509_VERIFY_PARAM_set1_ip_asc(vp, l->u.host))
		X509_VERIFY_PARAM_set1_host(vp, l->u.host, 0);
	if (X509_verify_cert(x) != 1)
		keep_error(l->tls, X509_STORE_CTX_get_error(x), X509_STORE_CTX_get_error_depth(x));
out:
	X509_STORE_CTX_free(x);
}

void link_tls_done(struct link *l, struct lws *wsi)
{
	SSL *ssl = lws_get_ssl(wsi);
	if (l->tls_done || !ssl)
		return;
	l->tls_done = 1;
	if (capture(l, SSL_get0_peer_certificate(ssl)) < 0) /* a resumed session calls no verify callback */
		return;
	read_session(l->tls, ssl);
	if (link_limits(l)->allow_insecure)
		verify_again(l, ssl);
}

const struct net_tls_facts *link_tls_facts(struct link *l)
{
	struct net_tls_facts *f = l->tls;
	if (!f)
		return NULL;
	f->verified = l->tls_done && !f->verify_error[0];
	if (!f->verified && !f->verify_error[0])
		snprintf(f->verify_error, sizeof(f->verify_error), "the TLS handshake did not complete");
	return f;
}

void link_tls_reset(struct link *l)
{
	free(l->tls);
	l->tls = NULL;
	l->tls_done = 0;
}
