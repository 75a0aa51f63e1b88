/* socks5.h — SOCKS5 client messages (RFC 1928, RFC 1929 auth): encoders, incremental reply parsers, reasons. */
#ifndef BROTR_NET_SOCKS5_H
#define BROTR_NET_SOCKS5_H

#include <stddef.h>
#include <stdint.h>

#include "net/parse.h"

#define SOCKS5_VERSION 5
#define SOCKS5_METHOD_NONE 0x00
#define SOCKS5_METHOD_USERPASS 0x02
#define SOCKS5_METHOD_REJECTED 0xFF
#define SOCKS5_ATYP_IPV4 1
#define SOCKS5_ATYP_DOMAIN 3
#define SOCKS5_ATYP_IPV6 4
#define SOCKS5_MAX_FIELD 255          /* host, user and password lengths */
#define SOCKS5_AUTH_MAX (3 + 2 * 255) /* largest RFC 1929 request */
#define SOCKS5_CONNECT_MAX (7 + 255)  /* largest domain-name CONNECT request */
#define SOCKS5_REPLY_MAX (6 + 1 + 255)

/*
 * Writes the greeting into out (4 bytes): "no authentication", plus "username/password"
 * when with_auth is set. Returns its length (3 or 4).
 */
size_t socks5_greeting(uint8_t out[4], int with_auth);

/*
 * Parses the server's method choice (VER METHOD). DONE sets *method; INVALID when the version
 * is not 5, the server accepted none of our methods (0xFF), or chose one we did not offer.
 */
enum parse_result socks5_parse_method(const uint8_t *p, size_t len, int offered_auth, uint8_t *method);

/*
 * Writes an RFC 1929 username/password request into out (cap bytes; SOCKS5_AUTH_MAX is
 * always enough). Returns its length, or 0 when user or pass is empty or longer than 255.
 */
size_t socks5_auth_request(uint8_t *out, size_t cap, const char *user, const char *pass);

/* Parses the RFC 1929 reply (VER=1 STATUS). DONE sets *status (0 = accepted). */
enum parse_result socks5_parse_auth(const uint8_t *p, size_t len, uint8_t *status);

/*
 * Writes a CONNECT request for host:port with the host as a domain name (ATYP 3), so the
 * proxy resolves it and nothing is looked up here. Returns its length, or 0 when host is
 * empty or longer than 255 bytes or cap is too small.
 */
size_t socks5_connect_request(uint8_t *out, size_t cap, const char *host, uint16_t port);

/*
 * Parses a CONNECT reply: VER REP RSV ATYP BND.ADDR BND.PORT. DONE sets *rep (0 = succeeded)
 * and *need to the reply's length (bytes after it belong to the tunnel). NEED_MORE sets *need
 * to the total length needed once it is known (from the fifth byte on), else to 5, so the
 * caller can read exactly the reply and nothing after it. INVALID: wrong version, reserved
 * byte or address type.
 */
enum parse_result socks5_parse_reply(const uint8_t *p, size_t len, uint8_t *rep, size_t *need);

/*
 * A readable reason for a reply code: RFC 1928 codes 1-8 and Tor's extended onion service
 * codes 0xF0-0xF7 (SocksPort ExtendedErrors). Never NULL; static storage.
 */
const char *socks5_reply_reason(uint8_t rep);

#endif
