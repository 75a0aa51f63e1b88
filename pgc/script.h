/* script.h — the init directory as `brotr db init` applies it. Internal to pgc/; no SQL runs here. */
#ifndef BROTR_PGC_SCRIPT_H
#define BROTR_PGC_SCRIPT_H

#include <stddef.h>

/* A run of SQL from one file between `\ir` lines. */
struct sql_chunk {
	char *path;  /* the file it comes from (resolved) */
	char *text;
	int has_sql; /* 0 when only blank lines and -- comments (nothing to execute) */
};

struct sql_script {
	struct sql_chunk *chunks;
	size_t n;
	size_t files;      /* top-level *.sql files */
	char checksum[65]; /* sha256 hex of every chunk's text, in order */
};

/*
 * Reads every *.sql of dir in byte order of their names; a line `\ir PATH` (or
 * `\include_relative PATH`) is replaced by that file, PATH relative to the including file,
 * up to 8 levels deep. Any other line starting with a backslash is an error (psql
 * meta-commands are not SQL). Returns 0, or -1 with a reason (file:line) in err.
 */
int sql_script_load(struct sql_script *s, const char *dir, char *err, size_t errlen);
void sql_script_free(struct sql_script *s);

#endif
