/* bech32.c — BIP-173 checksum, 5/8-bit regrouping and the NIP-19 bare forms. */
#include "nostr/bech32.h"

#include <stdint.h>
#include <string.h>

static const char charset[] = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";

static uint32_t polymod_step(uint32_t chk, unsigned v)
{
	static const uint32_t gen[5] = { 0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3 };
	uint32_t top = chk >> 25;
	chk = (chk & 0x1ffffff) << 5 ^ v;
	for (int i = 0; i < 5; i++)
		if (top >> i & 1)
			chk ^= gen[i];
	return chk;
}

static uint32_t hrp_checksum(const char *hrp, size_t n)
{
	uint32_t chk = 1;
	for (size_t i = 0; i < n; i++)
		chk = polymod_step(chk, (unsigned char)hrp[i] >> 5);
	chk = polymod_step(chk, 0);
	for (size_t i = 0; i < n; i++)
		chk = polymod_step(chk, (unsigned char)hrp[i] & 31);
	return chk;
}

static int charset_index(char c)
{
	const char *p = c ? strchr(charset, c) : NULL;
	return p ? (int)(p - charset) : -1;
}

/* Splits s at its last '1' and checks case and characters; lower-cases into low. Returns the
 * separator position, or -1. */
static long split(const char *s, size_t len, char *low)
{
	int upper = 0, lower = 0;
	long sep = -1;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (c < 33 || c > 126)
			return -1;
		upper |= c >= 'A' && c <= 'Z';
		lower |= c >= 'a' && c <= 'z';
		low[i] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
		if (c == '1')
			sep = (long)i;
	}
	if ((upper && lower) || sep < 1 || (size_t)sep + 7 > len)
		return -1;
	return sep;
}

long bech32_decode(const char *s, char *hrp, size_t hrp_max, unsigned char *data, size_t data_max)
{
	char low[BECH32_MAX_LEN];
	size_t len = strnlen(s, BECH32_MAX_LEN + 1);
	if (len > BECH32_MAX_LEN)
		return -1;
	long sep = split(s, len, low);
	if (sep < 0 || (size_t)sep >= hrp_max)
		return -1;
	uint32_t chk = hrp_checksum(low, (size_t)sep);
	uint32_t acc = 0;
	unsigned bits = 0;
	size_t out = 0, n_data = len - (size_t)sep - 1 - 6;
	for (size_t i = (size_t)sep + 1; i < len; i++) {
		int v = charset_index(low[i]);
		if (v < 0)
			return -1;
		chk = polymod_step(chk, (unsigned)v);
		if (i - (size_t)sep - 1 >= n_data)
			continue; /* checksum characters */
		acc = (acc << 5 | (unsigned)v) & 0xfff;
		bits += 5;
		if (bits >= 8) {
			bits -= 8;
			if (out >= data_max)
				return -1;
			data[out++] = (unsigned char)(acc >> bits);
		}
	}
	if (chk != 1 || bits >= 5 || (acc & ((1u << bits) - 1)) != 0)
		return -1;
	memcpy(hrp, low, (size_t)sep);
	hrp[sep] = '\0';
	return (long)out;
}

long bech32_encode(const char *hrp, const unsigned char *data, size_t n, char *out, size_t out_max)
{
	size_t hlen = strlen(hrp), dlen = (n * 8 + 4) / 5, total = hlen + 1 + dlen + 6;
	if (hlen < 1 || total > BECH32_MAX_LEN || total + 1 > out_max)
		return -1;
	uint32_t chk = hrp_checksum(hrp, hlen);
	memcpy(out, hrp, hlen);
	char *o = out + hlen;
	*o++ = '1';
	uint32_t acc = 0;
	unsigned bits = 0;
	for (size_t i = 0; i < n || bits > 0;) {
		unsigned v;
		if (bits < 5 && i < n) {
			acc = (acc << 8 | data[i++]) & 0xfff;
			bits += 8;
			continue;
		}
		v = bits >= 5 ? (acc >> (bits - 5)) & 31 : (acc << (5 - bits)) & 31;
		bits = bits >= 5 ? bits - 5 : 0;
		chk = polymod_step(chk, v);
		*o++ = charset[v];
	}
	for (int i = 0; i < 6; i++)
		chk = polymod_step(chk, 0);
	chk ^= 1;
	for (int i = 0; i < 6; i++)
		*o++ = charset[(chk >> (5 * (5 - i))) & 31];
	*o = '\0';
	return (long)(o - out);
}

int nip19_decode32(const char *s, const char *prefix, unsigned char out[32])
{
	char hrp[16];
	unsigned char data[40];
	long n = bech32_decode(s, hrp, sizeof(hrp), data, sizeof(data));
	if (n != 32 || strcmp(hrp, prefix) != 0)
		return -1;
	memcpy(out, data, 32);
	return 0;
}

int nip19_encode32(const char *prefix, const unsigned char in[32], char *out, size_t out_max)
{
	return bech32_encode(prefix, in, 32, out, out_max) < 0 ? -1 : 0;
}
