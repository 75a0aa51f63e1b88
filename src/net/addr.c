/* addr.c — whether a resolved address is local (loopback, private, link-local, reserved), for allow_local. */
#include "net/addr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static int v4_is_local(uint32_t a)
{
	static const struct {
		uint32_t net;
		int bits;
	} blocks[] = {
		{ 0x00000000, 8 },  { 0x0A000000, 8 },  { 0x64400000, 10 }, { 0x7F000000, 8 },
		{ 0xA9FE0000, 16 }, { 0xAC100000, 12 }, { 0xC0000000, 24 }, { 0xC0000200, 24 },
		{ 0xC0A80000, 16 }, { 0xC6120000, 15 }, { 0xC6336400, 24 }, { 0xCB007100, 24 },
		{ 0xE0000000, 3 },  /* multicast 224/4 and reserved 240/4 */
	};
	for (size_t i = 0; i < sizeof(blocks) / sizeof(blocks[0]); i++) {
		uint32_t mask = 0xFFFFFFFFu << (32 - blocks[i].bits);
		if ((a & mask) == blocks[i].net)
			return 1;
	}
	return 0;
}

static uint32_t v4_at(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/*
 * IPv6 forms that carry an IPv4 address a relay could point at to reach this host's
 * network through a translator or tunnel: mapped (::ffff:0:0/96), translated
 * (::ffff:0:0:0/96), compatible (::/96), NAT64 (64:ff9b::/96), 6to4 (2002::/16) and
 * Teredo (2001::/32: the server, and the client, stored inverted). Returns 1 when an
 * embedded IPv4 address is local by the IPv4 rules.
 */
static int v6_embeds_local_v4(const uint8_t *b)
{
	static const uint8_t zero[12], mapped[12] = { [10] = 0xFF, [11] = 0xFF },
				       translated[12] = { [8] = 0xFF, [9] = 0xFF },
				       nat64[12] = { 0x00, 0x64, 0xFF, 0x9B };
	if (!memcmp(b, zero, 12) || !memcmp(b, mapped, 12) || !memcmp(b, translated, 12) || !memcmp(b, nat64, 12))
		return v4_is_local(v4_at(b + 12));
	if (b[0] == 0x20 && b[1] == 0x02)
		return v4_is_local(v4_at(b + 2));
	if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0 && b[3] == 0)
		return v4_is_local(v4_at(b + 4)) || v4_is_local(~v4_at(b + 12));
	return 0;
}

int net_addr_is_local(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return v4_is_local(ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr));
	if (sa->sa_family != AF_INET6)
		return 0;
	const uint8_t *b = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
	static const uint8_t zero[16], discard[8] = { 0x01, 0x00 }, nat64_local[6] = { 0x00, 0x64, 0xFF, 0x9B, 0x00, 0x01 },
				       doc[4] = { 0x20, 0x01, 0x0D, 0xB8 };
	if (memcmp(b, zero, 15) == 0 && (b[15] == 0 || b[15] == 1))
		return 1; /* :: and ::1 */
	if ((b[0] & 0xFE) == 0xFC || (b[0] == 0xFE && (b[1] & 0xC0) == 0x80) || b[0] == 0xFF)
		return 1; /* fc00::/7, fe80::/10, ff00::/8 */
	if (!memcmp(b, discard, 8) || !memcmp(b, nat64_local, 6) || !memcmp(b, doc, 4))
		return 1; /* 100::/64 discard, 64:ff9b:1::/48 local-use NAT64 (RFC 8215), 2001:db8::/32 */
	return v6_embeds_local_v4(b);
}

void net_addr_format(const struct sockaddr *sa, char *out, size_t len)
{
	char ip[INET6_ADDRSTRLEN] = "?";
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s = (const struct sockaddr_in *)sa;
		inet_ntop(AF_INET, &s->sin_addr, ip, sizeof(ip));
		snprintf(out, len, "%s:%u", ip, ntohs(s->sin_port));
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)sa;
		inet_ntop(AF_INET6, &s->sin6_addr, ip, sizeof(ip));
		snprintf(out, len, "[%s]:%u", ip, ntohs(s->sin6_port));
	} else {
		snprintf(out, len, "(family %d)", sa->sa_family);
	}
}
