/* script.c — reads an init directory into chunks of SQL, expanding psql's `\ir` includes. */
#include "script.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "core/util.h"

#define MAX_DEPTH 8
#define MAX_FILE (16u << 20)

static int add_chunk(struct sql_script *s, const char *path, const char *text, size_t len)
{
	if (len == 0)
		return 0;
	struct sql_chunk *c = realloc(s->chunks, (s->n + 1) * sizeof(*c));
	if (!c)
		return -1;
	s->chunks = c;
	c = &s->chunks[s->n];
	c->path = strdup(path);
	c->text = strndup(text, len);
	if (!c->path || !c->text) {
		free(c->path);
		free(c->text);
		return -1;
	}
	/* Anything but blank lines and -- comments is SQL to execute. */
	c->has_sql = 0;
	for (const char *line = c->text; line && *line;) {
		const char *p = line;
		while (*p == ' ' || *p == '\t' || *p == '\r')
			p++;
		if (*p != '\n' && *p != '\0' && strncmp(p, "--", 2) != 0) {
			c->has_sql = 1;
			break;
		}
		line = strchr(p, '\n');
		if (line)
			line++;
	}
	s->n++;
	return 0;
}

/* If line (len bytes, no newline) is an include, writes its argument into arg and returns 1;
 * returns -1 for any other meta-command, 0 for SQL. */
static int meta_command(const char *line, size_t len, char *arg, size_t arglen)
{
	if (len == 0 || line[0] != '\\')
		return 0;
	static const char *const names[] = { "\\ir", "\\include_relative" };
	for (size_t i = 0; i < ARRAY_LEN(names); i++) {
		size_t nl = strlen(names[i]);
		if (len > nl && strncmp(line, names[i], nl) == 0 && (line[nl] == ' ' || line[nl] == '\t')) {
			const char *a = line + nl;
			const char *e = line + len;
			while (a < e && (*a == ' ' || *a == '\t'))
				a++;
			while (e > a && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == ';'))
				e--;
			if (e == a || (size_t)(e - a) >= arglen)
				return -1;
			memcpy(arg, a, (size_t)(e - a));
			arg[e - a] = '\0';
			return 1;
		}
	}
	return -1;
}

static int expand(struct sql_script *s, const char *path, int depth, char *err, size_t errlen)
{
	char real[PATH_MAX];
	if (!realpath(path, real)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (depth > MAX_DEPTH) {
		snprintf(err, errlen, "%s: includes nested deeper than %d levels", real, MAX_DEPTH);
		return -1;
	}
	char *data;
	size_t len;
	if (read_file(real, MAX_FILE, &data, &len) < 0) {
		snprintf(err, errlen, "%s: %s", real, strerror(errno));
		return -1;
	}
	int rc = 0;
	const char *start = data; /* of the SQL not yet added as a chunk */
	const char *line = data;
	int lineno = 1;
	while (rc == 0 && line < data + len) {
		const char *nl = memchr(line, '\n', (size_t)(data + len - line));
		const char *end = nl ? nl : data + len;
		char arg[PATH_MAX];
		int m = meta_command(line, (size_t)(end - line), arg, sizeof(arg));
		if (m < 0) {
			snprintf(err, errlen, "%s:%d: only the \\ir meta-command is understood", real, lineno);
			rc = -1;
		} else if (m == 1) {
			if (add_chunk(s, real, start, (size_t)(line - start)) < 0) {
				snprintf(err, errlen, "out of memory");
				rc = -1;
				break;
			}
			char target[PATH_MAX * 2];
			if (arg[0] == '/') {
				snprintf(target, sizeof(target), "%s", arg);
			} else {
				char dir[PATH_MAX];
				snprintf(dir, sizeof(dir), "%s", real);
				char *slash = strrchr(dir, '/');
				if (slash)
					*slash = '\0';
				snprintf(target, sizeof(target), "%s/%s", dir, arg);
			}
			rc = expand(s, target, depth + 1, err, errlen);
			if (rc < 0 && strlen(err) + 40 < errlen) {
				char inner[1024];
				snprintf(inner, sizeof(inner), "%s", err);
				snprintf(err, errlen, "%s (included from %s:%d)", inner, real, lineno);
			}
			start = nl ? nl + 1 : data + len;
		}
		line = nl ? nl + 1 : data + len;
		lineno++;
	}
	if (rc == 0 && add_chunk(s, real, start, (size_t)(data + len - start)) < 0) {
		snprintf(err, errlen, "out of memory");
		rc = -1;
	}
	free(data);
	return rc;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int is_sql(const struct dirent *e)
{
	size_t l = strlen(e->d_name);
	return e->d_name[0] != '.' && l > 4 && strcmp(e->d_name + l - 4, ".sql") == 0;
}

int sql_script_load(struct sql_script *s, const char *dir, char *err, size_t errlen)
{
	memset(s, 0, sizeof(*s));
	struct dirent **names;
	int n = scandir(dir, &names, is_sql, by_name);
	if (n < 0) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	int rc = 0;
	if (n == 0) {
		snprintf(err, errlen, "%s: no *.sql files", dir);
		rc = -1;
	}
	for (int i = 0; i < n; i++) {
		if (rc == 0) {
			char path[PATH_MAX * 2];
			snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
			rc = expand(s, path, 0, err, errlen);
			s->files++;
		}
		free(names[i]);
	}
	free(names);
	if (rc == 0) {
		EVP_MD_CTX *ctx = EVP_MD_CTX_new();
		unsigned char md[EVP_MAX_MD_SIZE];
		unsigned int mdlen = 0;
		int ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1;
		for (size_t i = 0; ok && i < s->n; i++)
			ok = EVP_DigestUpdate(ctx, s->chunks[i].text, strlen(s->chunks[i].text)) == 1;
		ok = ok && EVP_DigestFinal_ex(ctx, md, &mdlen) == 1 && mdlen == 32;
		EVP_MD_CTX_free(ctx);
		if (ok) {
			hex_encode(md, 32, s->checksum);
		} else {
			snprintf(err, errlen, "sha256 failed");
			rc = -1;
		}
	}
	if (rc < 0)
		sql_script_free(s);
	return rc;
}

void sql_script_free(struct sql_script *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->chunks[i].path);
		free(s->chunks[i].text);
	}
	free(s->chunks);
	memset(s, 0, sizeof(*s));
}
