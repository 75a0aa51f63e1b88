/* scram.h — SCRAM-SHA-256 verifiers in PostgreSQL's stored form. Internal to pgc/. */
#ifndef BROTR_PGC_SCRAM_H
#define BROTR_PGC_SCRAM_H

#include <stddef.h>

/* 1 when password has only ASCII characters (SASLprep leaves those unchanged, so a verifier
 * computed here is the one the server and libpq agree on). */
int scram_ascii(const char *password);

/* 1 when verifier ("SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>") was made from
 * password; 0 otherwise (including any other format, such as md5). */
int scram_verify(const char *verifier, const char *password);

/* Writes a new verifier for password (random salt, 4096 iterations) into out. Returns 0 or -1. */
int scram_make(const char *password, char *out, size_t outlen);

#endif
