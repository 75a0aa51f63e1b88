/* relay_url.h — relay URLs: one canonical spelling, the network (clearnet or tor), a reason for every rejection. */
#ifndef BROTR_NOSTR_RELAY_URL_H
#define BROTR_NOSTR_RELAY_URL_H

#include <stddef.h>
#include <stdint.h>

/* Longest canonical URL (bytes). */
#define RELAY_URL_MAX 255
/* Longest input looked at, after trimming surrounding whitespace. */
#define RELAY_URL_INPUT_MAX 2048

/* Flag: accept loopback, private, link-local and reserved addresses and local names such as
 * localhost, *.local or single-label hosts (pass cfg->network.allow_local here). */
#define RELAY_URL_ALLOW_LOCAL 1u

enum relay_network { RELAY_NET_CLEARNET, RELAY_NET_TOR };

/*
 * A normalised relay URL. Rules:
 *  - scheme ws or wss (any case in, lower-case out); no user@ credentials;
 *  - host lower-cased, one trailing dot dropped; names are ASCII letters, digits and hyphens
 *    (internationalised names must come as punycode); IPv4 strict dotted quad; IPv6 in brackets,
 *    written back in RFC 5952 form; no zone ids;
 *  - port dropped when it is the scheme's default (80 for ws, 443 for wss), else kept as decimal;
 *  - query and fragment dropped;
 *  - path: RFC 3986 characters only, percent-escapes upper-cased, no "." or ".." segments, and
 *    NO trailing slash: "wss://r.example/" and "wss://r.example" are the same relay, written
 *    without the slash, as are "wss://r.example/nostr/" and "wss://r.example/nostr";
 *  - .onion hosts are network tor and must be v3: 56 base32 characters with a valid checksum
 *    and version (v2, 16 characters, is rejected); everything else is clearnet;
 *  - loopback/private/reserved addresses and local names are rejected unless RELAY_URL_ALLOW_LOCAL;
 *  - at most RELAY_URL_MAX bytes once normalised.
 */
struct relay_url {
	char url[RELAY_URL_MAX + 1];  /* the canonical form */
	char host[RELAY_URL_MAX + 1]; /* name or address, without brackets */
	char path[RELAY_URL_MAX + 1]; /* "" or "/..." (never ending in '/') */
	uint16_t port;                /* effective port, the default when none was given */
	int secure;                   /* wss */
	int ip;                       /* 4 or 6 when the host is an address literal, else 0 */
	int local;                    /* a local/private/reserved host (only with RELAY_URL_ALLOW_LOCAL) */
	enum relay_network network;
};

/*
 * Normalises in[0..len) (surrounding ASCII whitespace ignored) into *out. Returns 0, or -1 with
 * *why set to a specific reason (a static string), e.g. "scheme must be ws or wss",
 * "private address (set [network] allow_local to accept)", "v2 onion address (no longer supported)".
 */
int relay_url_parse(const char *in, size_t len, unsigned flags, struct relay_url *out, const char **why);

/* Writes the NIP-11 document URL (https for wss, http for ws; path "/" when empty) into out.
 * Returns 0, or -1 when it does not fit in n bytes. */
int relay_url_nip11(const struct relay_url *u, char *out, size_t n);

/* "clearnet" or "tor". */
const char *relay_network_name(enum relay_network net);

/* Host checks used by relay_url_parse (relay_host.c). Each returns 0, or -1 with *why set.
 * *local is set to 1 when the host is local/private/reserved. */
int relay_host_name(char *host, size_t len, int *local, enum relay_network *net, const char **why);
int relay_host_ipv4(const char *host, unsigned char addr[4], const char **why);
int relay_host_ipv6(const char *text, size_t len, char *out, size_t outlen, int *local, const char **why);
int relay_ipv4_local(const unsigned char a[4]);

#endif
