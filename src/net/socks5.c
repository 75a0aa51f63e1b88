/* socks5.c — SOCKS5 client messages (RFC 1928, RFC 1929 auth): encoders, incremental reply parsers, reasons. */
#include "net/socks5.h"

#include <string.h>

size_t socks5_greeting(uint8_t out[4], int with_auth)
{
	out[0] = SOCKS5_VERSION;
	out[1] = with_auth ? 2 : 1;
	out[2] = SOCKS5_METHOD_NONE;
	if (!with_auth)
		return 3;
	out[3] = SOCKS5_METHOD_USERPASS;
	return 4;
}

enum parse_result socks5_parse_method(const uint8_t *p, size_t len, int offered_auth, uint8_t *method)
{
	if (len >= 1 && p[0] != SOCKS5_VERSION)
		return PARSE_INVALID;
	if (len < 2)
		return PARSE_NEED_MORE;
	if (p[1] != SOCKS5_METHOD_NONE && !(offered_auth && p[1] == SOCKS5_METHOD_USERPASS))
		return PARSE_INVALID;
	*method = p[1];
	return PARSE_DONE;
}

size_t socks5_auth_request(uint8_t *out, size_t cap, const char *user, const char *pass)
{
	size_t ul = strlen(user), pl = strlen(pass);
	if (ul == 0 || pl == 0 || ul > SOCKS5_MAX_FIELD || pl > SOCKS5_MAX_FIELD || cap < 3 + ul + pl)
		return 0;
	out[0] = 1; /* RFC 1929 sub-negotiation version */
	out[1] = (uint8_t)ul;
	memcpy(out + 2, user, ul);
	out[2 + ul] = (uint8_t)pl;
	memcpy(out + 3 + ul, pass, pl);
	return 3 + ul + pl;
}

enum parse_result socks5_parse_auth(const uint8_t *p, size_t len, uint8_t *status)
{
	if (len >= 1 && p[0] != 1)
		return PARSE_INVALID;
	if (len < 2)
		return PARSE_NEED_MORE;
	*status = p[1];
	return PARSE_DONE;
}

size_t socks5_connect_request(uint8_t *out, size_t cap, const char *host, uint16_t port)
{
	size_t hl = strlen(host);
	if (hl == 0 || hl > SOCKS5_MAX_FIELD || cap < 7 + hl)
		return 0;
	out[0] = SOCKS5_VERSION;
	out[1] = 1; /* CONNECT */
	out[2] = 0; /* reserved */
	out[3] = SOCKS5_ATYP_DOMAIN;
	out[4] = (uint8_t)hl;
	memcpy(out + 5, host, hl);
	out[5 + hl] = (uint8_t)(port >> 8);
	out[6 + hl] = (uint8_t)(port & 0xff);
	return 7 + hl;
}

enum parse_result socks5_parse_reply(const uint8_t *p, size_t len, uint8_t *rep, size_t *need)
{
	*need = 5;
	if (len >= 1 && p[0] != SOCKS5_VERSION)
		return PARSE_INVALID;
	if (len >= 3 && p[2] != 0)
		return PARSE_INVALID;
	if (len >= 4 && p[3] != SOCKS5_ATYP_IPV4 && p[3] != SOCKS5_ATYP_DOMAIN && p[3] != SOCKS5_ATYP_IPV6)
		return PARSE_INVALID;
	if (len < 5)
		return PARSE_NEED_MORE;
	switch (p[3]) {
	case SOCKS5_ATYP_IPV4:
		*need = 4 + 4 + 2;
		break;
	case SOCKS5_ATYP_IPV6:
		*need = 4 + 16 + 2;
		break;
	default:
		*need = 4 + 1 + (size_t)p[4] + 2;
		break;
	}
	if (len < *need)
		return PARSE_NEED_MORE;
	*rep = p[1];
	return PARSE_DONE;
}

const char *socks5_reply_reason(uint8_t rep)
{
	static const char *const rfc[] = {
		"succeeded",
		"general SOCKS server failure",
		"connection not allowed by ruleset",
		"network unreachable",
		"host unreachable",
		"connection refused",
		"TTL expired (Tor: timed out waiting for a circuit or the destination)",
		"command not supported",
		"address type not supported",
	};
	static const char *const tor[] = {
		"Tor: onion service descriptor not found",
		"Tor: onion service descriptor is invalid",
		"Tor: onion service introduction failed",
		"Tor: onion service rendezvous failed",
		"Tor: onion service missing client authorization",
		"Tor: onion service wrong client authorization",
		"Tor: invalid onion service address",
		"Tor: onion service introduction timed out",
	};
	if (rep < sizeof(rfc) / sizeof(rfc[0]))
		return rfc[rep];
	if (rep >= 0xF0 && rep <= 0xF7)
		return tor[rep - 0xF0];
	return "unknown SOCKS reply code";
}
