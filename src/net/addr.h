/* addr.h — whether a resolved address is local (loopback, private, link-local, reserved), for allow_local. */
#ifndef BROTR_NET_ADDR_H
#define BROTR_NET_ADDR_H

#include <stddef.h>
#include <sys/socket.h>

/*
 * 1 when sa is an address a public relay cannot have: unspecified, loopback, RFC 1918
 * private, shared (100.64/10), link-local, benchmarking, multicast or reserved IPv4; for
 * IPv6 also unique-local, link-local, multicast, discard, documentation, local-use NAT64
 * (64:ff9b:1::/48), and every form that embeds a local IPv4 address: mapped, translated,
 * compatible, NAT64 (64:ff9b::/96), 6to4 (2002::/16) and Teredo (server or client).
 * 0 otherwise (and for families other than AF_INET and AF_INET6: those are not relays).
 */
int net_addr_is_local(const struct sockaddr *sa);

/* Writes "1.2.3.4:443" or "[::1]:443" into out. */
void net_addr_format(const struct sockaddr *sa, char *out, size_t len);

#endif
