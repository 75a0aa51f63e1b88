/* scram.c — SCRAM-SHA-256 password verifiers as PostgreSQL stores them (RFC 5802/7677), so that
 * `brotr db init` can tell whether a role's stored password already is the configured one
 * (and then change nothing) and can set it without sending the password itself. */
#include "scram.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#define KEY_LEN 32

/* The stored and server keys for password, salt and iterations. Returns 0 or -1. */
static int derive(const char *password, const unsigned char *salt, int salt_len, int iterations,
		  unsigned char stored[KEY_LEN], unsigned char server[KEY_LEN])
{
	unsigned char salted[KEY_LEN], client[KEY_LEN];
	unsigned int l = 0;
	if (PKCS5_PBKDF2_HMAC(password, (int)strlen(password), salt, salt_len, iterations, EVP_sha256(), KEY_LEN,
			      salted) != 1)
		return -1;
	if (!HMAC(EVP_sha256(), salted, KEY_LEN, (const unsigned char *)"Client Key", 10, client, &l) || l != KEY_LEN)
		return -1;
	if (EVP_Digest(client, KEY_LEN, stored, &l, EVP_sha256(), NULL) != 1 || l != KEY_LEN)
		return -1;
	if (!HMAC(EVP_sha256(), salted, KEY_LEN, (const unsigned char *)"Server Key", 10, server, &l) || l != KEY_LEN)
		return -1;
	return 0;
}

/* Decodes base64 s[0..len) into out (at most outlen bytes). Returns the length, or -1. */
static int b64_decode(const char *s, size_t len, unsigned char *out, size_t outlen)
{
	if (len == 0 || len % 4 != 0 || len / 4 * 3 > outlen)
		return -1;
	int n = EVP_DecodeBlock(out, (const unsigned char *)s, (int)len);
	if (n < 0)
		return -1;
	if (s[len - 1] == '=')
		n--;
	if (s[len - 2] == '=')
		n--;
	return n;
}

int scram_ascii(const char *password)
{
	for (const unsigned char *p = (const unsigned char *)password; *p; p++)
		if (*p >= 0x80)
			return 0;
	return 1;
}

int scram_verify(const char *verifier, const char *password)
{
	static const char prefix[] = "SCRAM-SHA-256$";
	if (!verifier || strncmp(verifier, prefix, sizeof(prefix) - 1) != 0)
		return 0;
	const char *p = verifier + sizeof(prefix) - 1;
	char *end;
	long iterations = strtol(p, &end, 10);
	if (end == p || *end != ':' || iterations < 1 || iterations > 10000000)
		return 0;
	const char *salt_b64 = end + 1;
	const char *dollar = strchr(salt_b64, '$');
	if (!dollar)
		return 0;
	const char *stored_b64 = dollar + 1;
	const char *colon = strchr(stored_b64, ':');
	if (!colon)
		return 0;
	const char *server_b64 = colon + 1;
	unsigned char salt[256], want_stored[64], want_server[64], stored[KEY_LEN], server[KEY_LEN];
	int salt_len = b64_decode(salt_b64, (size_t)(dollar - salt_b64), salt, sizeof(salt));
	int ls = b64_decode(stored_b64, (size_t)(colon - stored_b64), want_stored, sizeof(want_stored));
	int lv = b64_decode(server_b64, strlen(server_b64), want_server, sizeof(want_server));
	if (salt_len <= 0 || ls != KEY_LEN || lv != KEY_LEN)
		return 0;
	if (derive(password, salt, salt_len, (int)iterations, stored, server) < 0)
		return 0;
	return memcmp(stored, want_stored, KEY_LEN) == 0 && memcmp(server, want_server, KEY_LEN) == 0;
}

int scram_make(const char *password, char *out, size_t outlen)
{
	unsigned char salt[16], stored[KEY_LEN], server[KEY_LEN];
	unsigned char salt_b64[32], stored_b64[48], server_b64[48];
	const int iterations = 4096; /* PostgreSQL's default scram_iterations */
	if (RAND_bytes(salt, sizeof(salt)) != 1 || derive(password, salt, sizeof(salt), iterations, stored, server) < 0)
		return -1;
	EVP_EncodeBlock(salt_b64, salt, sizeof(salt));
	EVP_EncodeBlock(stored_b64, stored, KEY_LEN);
	EVP_EncodeBlock(server_b64, server, KEY_LEN);
	int n = snprintf(out, outlen, "SCRAM-SHA-256$%d:%s$%s:%s", iterations, salt_b64, stored_b64, server_b64);
	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}
