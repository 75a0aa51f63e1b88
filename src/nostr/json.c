/* json.c — jsmn tokenises (the only file that includes it); this file then checks the full RFC 8259 grammar. */
#include "nostr/json.h"

#include <stdlib.h>
#include <string.h>

/* Parent links keep jsmn linear: without them every ',' after an object member and every closing
 * bracket scans back over all earlier tokens (a 650 kB object of small members took 3 s). */
#define JSMN_PARENT_LINKS
#define JSMN_STATIC
#include <jsmn.h>

void json_doc_init(struct json_doc *d)
{
	memset(d, 0, sizeof(*d));
}

void json_doc_free(struct json_doc *d)
{
	free(d->tok);
	free(d->raw_);
	json_doc_init(d);
}

/* The grammar check walks jsmn's tokens in order, re-reading the text around and inside each one. */
struct vstate {
	const char *s;
	size_t len;
	size_t pos;            /* next unread byte */
	const jsmntok_t *raw;  /* jsmn's tokens, pre-order */
	size_t n_raw;
	size_t next;           /* next unused raw token */
	struct json_tok *out;  /* out[i] describes raw[i] */
	struct nostr_err *err;
};

static int fail_at(struct vstate *v, size_t at, const char *what)
{
	nostr_fail(v->err, NOSTR_E_NOT_JSON, NULL, what);
	if (v->err) {
		v->err->offset = at;
		v->err->has_offset = 1;
	}
	return -1;
}

static void skip_ws(struct vstate *v)
{
	while (v->pos < v->len) {
		char c = v->s[v->pos];
		if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
			break;
		v->pos++;
	}
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Reads 4 hex digits at s (n bytes available). Returns the value, or -1. */
static long hex4(const char *s, size_t n)
{
	if (n < 4)
		return -1;
	long v = 0;
	for (int i = 0; i < 4; i++) {
		int h = hexval(s[i]);
		if (h < 0)
			return -1;
		v = v << 4 | h;
	}
	return v;
}

/* Checks the escape at s[p] == '\\' (string ends at end). Returns its length, or 0 after fail_at. */
static size_t check_escape(struct vstate *v, size_t p, size_t end)
{
	const char *s = v->s;
	if (p + 1 >= end)
		return fail_at(v, p, "invalid escape"), 0;
	switch (s[p + 1]) {
	case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
		return 2;
	case 'u':
		break;
	default:
		return fail_at(v, p, "invalid escape"), 0;
	}
	long hi = hex4(s + p + 2, end - p - 2);
	if (hi < 0)
		return fail_at(v, p, "invalid \\u escape"), 0;
	if (hi >= 0xDC00 && hi <= 0xDFFF)
		return fail_at(v, p, "unpaired surrogate in \\u escape"), 0;
	if (hi < 0xD800 || hi > 0xDBFF)
		return 6;
	long lo = -1;
	if (p + 7 < end && s[p + 6] == '\\' && s[p + 7] == 'u')
		lo = hex4(s + p + 8, end - p - 8);
	if (lo < 0xDC00 || lo > 0xDFFF)
		return fail_at(v, p, "unpaired surrogate in \\u escape"), 0;
	return 12;
}

/* Bytes a string scan must stop at: controls, backslash, and the start of multi-byte UTF-8. */
static const unsigned char special[256] = {
	[0x00] = 1, [0x01] = 1, [0x02] = 1, [0x03] = 1, [0x04] = 1, [0x05] = 1, [0x06] = 1, [0x07] = 1,
	[0x08] = 1, [0x09] = 1, [0x0A] = 1, [0x0B] = 1, [0x0C] = 1, [0x0D] = 1, [0x0E] = 1, [0x0F] = 1,
	[0x10] = 1, [0x11] = 1, [0x12] = 1, [0x13] = 1, [0x14] = 1, [0x15] = 1, [0x16] = 1, [0x17] = 1,
	[0x18] = 1, [0x19] = 1, [0x1A] = 1, [0x1B] = 1, [0x1C] = 1, [0x1D] = 1, [0x1E] = 1, [0x1F] = 1,
	['\\'] = 1,
#define R16(b) [b] = 1, [b + 1] = 1, [b + 2] = 1, [b + 3] = 1, [b + 4] = 1, [b + 5] = 1, [b + 6] = 1, [b + 7] = 1, \
	       [b + 8] = 1, [b + 9] = 1, [b + 10] = 1, [b + 11] = 1, [b + 12] = 1, [b + 13] = 1, [b + 14] = 1, [b + 15] = 1
	R16(0x80), R16(0x90), R16(0xA0), R16(0xB0), R16(0xC0), R16(0xD0), R16(0xE0), R16(0xF0),
#undef R16
};

static int check_string(struct vstate *v, size_t i)
{
	const jsmntok_t *r = &v->raw[i];
	if (r->type != JSMN_STRING || (size_t)r->start != v->pos + 1)
		return fail_at(v, v->pos, "unexpected character");
	size_t p = v->pos + 1, end = (size_t)r->end;
	int escaped = 0;
	const unsigned char *s = (const unsigned char *)v->s;
	while (p < end) {
		while (p < end && !special[s[p]])
			p++;
		if (p == end)
			break;
		unsigned char c = s[p];
		size_t n;
		if (c < 0x20)
			return fail_at(v, p, "control character in string");
		if (c == '\\') {
			escaped = 1;
			n = check_escape(v, p, end);
		} else {
			n = utf8_seq((const unsigned char *)v->s + p, end - p);
			if (n == 0)
				return fail_at(v, p, "invalid UTF-8 in string");
		}
		if (n == 0)
			return -1;
		p += n;
	}
	struct json_tok *t = &v->out[i];
	*t = (struct json_tok){ .start = (uint32_t)(v->pos + 1), .end = (uint32_t)end, .type = JSON_STRING,
				.escaped = (uint8_t)escaped, .next = (uint32_t)v->next };
	v->pos = end + 1;
	return 0;
}

static size_t digits(const char *s, size_t p, size_t end)
{
	size_t q = p;
	while (q < end && s[q] >= '0' && s[q] <= '9')
		q++;
	return q - p;
}

/* Checks a number over s[p..end). Returns 1 integer, 0 other number, -1 not a number. */
static int check_number(const char *s, size_t p, size_t end)
{
	int integer = 1;
	if (p < end && s[p] == '-')
		p++;
	size_t n = digits(s, p, end);
	if (n == 0 || (n > 1 && s[p] == '0'))
		return -1;
	p += n;
	if (p < end && s[p] == '.') {
		n = digits(s, ++p, end);
		if (n == 0)
			return -1;
		p += n;
		integer = 0;
	}
	if (p < end && (s[p] == 'e' || s[p] == 'E')) {
		p++;
		if (p < end && (s[p] == '+' || s[p] == '-'))
			p++;
		n = digits(s, p, end);
		if (n == 0)
			return -1;
		p += n;
		integer = 0;
	}
	return p == end ? integer : -1;
}

static int check_primitive(struct vstate *v, size_t i)
{
	const jsmntok_t *r = &v->raw[i];
	if (r->type != JSMN_PRIMITIVE || (size_t)r->start != v->pos)
		return fail_at(v, v->pos, "unexpected character");
	size_t p = v->pos, end = (size_t)r->end, n = end - p;
	const char *s = v->s + p;
	struct json_tok *t = &v->out[i];
	*t = (struct json_tok){ .start = (uint32_t)p, .end = (uint32_t)end, .next = (uint32_t)v->next };
	if (n == 4 && memcmp(s, "true", 4) == 0)
		t->type = JSON_TRUE;
	else if (n == 5 && memcmp(s, "false", 5) == 0)
		t->type = JSON_FALSE;
	else if (n == 4 && memcmp(s, "null", 4) == 0)
		t->type = JSON_NULL;
	else {
		int kind = check_number(v->s, p, end);
		if (kind < 0)
			return fail_at(v, p, "invalid literal");
		t->type = JSON_NUMBER;
		t->integer = (uint8_t)kind;
	}
	v->pos = end;
	return 0;
}

static int check_value(struct vstate *v, int depth);

/* Reads the separator after a member or element: 1 for ',', 0 for the closing bracket, -1 error. */
static int separator(struct vstate *v, char close)
{
	skip_ws(v);
	if (v->pos >= v->len)
		return fail_at(v, v->pos, "unexpected end of input");
	char c = v->s[v->pos];
	if (c == ',' || c == close) {
		v->pos++;
		return c == ',';
	}
	return fail_at(v, v->pos, close == '}' ? "expected ',' or '}'" : "expected ',' or ']'");
}

static int check_member_key(struct vstate *v, int depth)
{
	skip_ws(v);
	if (v->pos >= v->len)
		return fail_at(v, v->pos, "unexpected end of input");
	if (v->s[v->pos] != '"')
		return fail_at(v, v->pos, "expected a string key");
	if (check_value(v, depth) < 0)
		return -1;
	skip_ws(v);
	if (v->pos >= v->len)
		return fail_at(v, v->pos, "unexpected end of input");
	if (v->s[v->pos] != ':')
		return fail_at(v, v->pos, "expected ':'");
	v->pos++;
	return 0;
}

static int check_container(struct vstate *v, size_t i, int depth)
{
	const jsmntok_t *r = &v->raw[i];
	size_t start = v->pos;
	int is_obj = v->s[start] == '{';
	char close = is_obj ? '}' : ']';
	if (r->type != (is_obj ? JSMN_OBJECT : JSMN_ARRAY) || (size_t)r->start != start)
		return fail_at(v, start, "unexpected character");
	if (depth >= JSON_MAX_DEPTH)
		return fail_at(v, start, "nested too deeply");
	v->pos++;
	uint32_t n = 0;
	skip_ws(v);
	if (v->pos < v->len && v->s[v->pos] == close) {
		v->pos++;
	} else {
		for (;;) {
			if (is_obj && check_member_key(v, depth + 1) < 0)
				return -1;
			if (check_value(v, depth + 1) < 0)
				return -1;
			n++;
			int more = separator(v, close);
			if (more < 0)
				return -1;
			if (!more)
				break;
		}
	}
	if ((size_t)r->end != v->pos)
		return fail_at(v, v->pos - 1, "unexpected character");
	v->out[i] = (struct json_tok){ .start = (uint32_t)start, .end = (uint32_t)v->pos, .size = n,
				       .type = is_obj ? JSON_OBJECT : JSON_ARRAY, .next = (uint32_t)v->next };
	return 0;
}

static int check_value(struct vstate *v, int depth)
{
	skip_ws(v);
	if (v->pos >= v->len)
		return fail_at(v, v->pos, "unexpected end of input");
	if (v->next >= v->n_raw)
		return fail_at(v, v->pos, "unexpected character");
	size_t i = v->next++;
	switch (v->s[v->pos]) {
	case '{':
	case '[':
		return check_container(v, i, depth);
	case '"':
		return check_string(v, i);
	default:
		return check_primitive(v, i);
	}
}

/*
 * One pass before jsmn, linear and bounded: rejects nesting deeper than JSON_MAX_DEPTH, a ':' that is
 * not the first after an object key, and a '"' glued to a literal. jsmn finds the container a closing
 * bracket ends by walking parent links up from the last token, and a ':' makes the last token the
 * parent of the next one: unchecked, 1 MiB of "[[[...]]]" or of "[1:1:1:...]" costs one walk over
 * everything per bracket (quadratic; minutes on the network loop). With at most JSON_MAX_DEPTH open
 * containers and one key per level every walk is bounded, so jsmn is linear. jsmn (non-strict) lets a
 * literal run on over a '"', where this scan would see a string: such input is refused here, so both
 * agree on which bytes are inside strings, and depth counted here is at least what jsmn sees.
 */
/* jsmn's walk up the parent links at each closing bracket is bounded by the depth this pass allows:
 * the linearity rests on that bound staying small. */
_Static_assert(JSON_MAX_DEPTH <= 64, "the tokenizer's per-bracket walk is bounded by JSON_MAX_DEPTH");

static int prescan(struct vstate *v, size_t *work)
{
	const char *s = v->s;
	uint64_t is_obj = 0; /* bit d: the container open at depth d is an object */
	int depth = 0, keyed = 0;
	char prev = ' ';
	size_t i = 0;
	for (; i < v->len; i++) {
		char c = s[i];
		if (c == '"') {
			if (!strchr(" \t\r\n[{,:]}\"", prev))
				return fail_at(v, i, "unexpected character");
			for (i++; i < v->len && s[i] != '"'; i++)
				i += s[i] == '\\';
			prev = '"';
			continue;
		}
		if (c == '[' || c == '{') {
			if (depth >= JSON_MAX_DEPTH)
				return *work += i, fail_at(v, i, "nested too deeply");
			is_obj = c == '{' ? is_obj | (uint64_t)1 << depth : is_obj & ~((uint64_t)1 << depth);
			depth++;
			keyed = 0;
		} else if (c == ']' || c == '}') {
			depth -= depth > 0;
			keyed = 1;
		} else if (c == ',') {
			keyed = 0;
		} else if (c == ':') {
			if (depth == 0 || !(is_obj >> (depth - 1) & 1) || keyed)
				return *work += i, fail_at(v, i, "unexpected character");
			keyed = 1;
		}
		prev = c;
	}
	*work += i;
	return 0;
}

/* Runs jsmn, growing its token array as needed (jsmn resumes where it stopped). Returns jsmn's result. */
static int tokenise(struct json_doc *d, jsmn_parser *p, struct nostr_err *err)
{
	jsmn_init(p);
	for (;;) {
		/* (with a NULL array jsmn would only count, so there is always one) */
		int r = d->raw_ ? jsmn_parse(p, d->text, d->len, d->raw_, (unsigned)d->raw_cap_) : JSMN_ERROR_NOMEM;
		if (r != JSMN_ERROR_NOMEM)
			return r;
		size_t cap = d->raw_cap_ ? d->raw_cap_ * 2 : 64;
		if (d->raw_ && cap > d->len + 1)
			cap = d->len + 1; /* every value takes at least one byte */
		if (cap <= d->raw_cap_)
			return nostr_fail(err, NOSTR_E_NOMEM, NULL, "token array"), JSMN_ERROR_NOMEM;
		void *t = realloc(d->raw_, cap * sizeof(jsmntok_t));
		if (!t)
			return nostr_fail(err, NOSTR_E_NOMEM, NULL, "token array"), JSMN_ERROR_NOMEM;
		d->raw_ = t;
		d->raw_cap_ = cap;
	}
}

static int ensure_out(struct json_doc *d, size_t n, struct nostr_err *err)
{
	if (n <= d->cap_)
		return 0;
	struct json_tok *t = realloc(d->tok, n * sizeof(*t));
	if (!t)
		return nostr_fail(err, NOSTR_E_NOMEM, NULL, "token array");
	d->tok = t;
	d->cap_ = n;
	return 0;
}

/* Token arrays above this many entries are not kept from one parse to the next (a 1 MiB message
 * may need 20 MiB of them; the next is usually small). */
#define JSON_KEEP_TOKENS ((size_t)16 << 10)

static int parse(struct json_doc *d, const char *text, size_t len, struct nostr_err *err);

int json_parse(struct json_doc *d, const char *text, size_t len, struct nostr_err *err)
{
	if (d->cap_ > JSON_KEEP_TOKENS) {
		free(d->tok);
		d->tok = NULL;
		d->cap_ = 0;
	}
	int rc = parse(d, text, len, err);
	if (d->raw_cap_ > JSON_KEEP_TOKENS) { /* jsmn's tokens are scratch of this parse only */
		free(d->raw_);
		d->raw_ = NULL;
		d->raw_cap_ = 0;
	}
	return rc;
}

static int parse(struct json_doc *d, const char *text, size_t len, struct nostr_err *err)
{
	struct vstate v = { .s = text, .len = len, .err = err };
	d->text = text;
	d->len = len;
	d->n_tok = 0;
	if (len > JSON_MAX_LEN)
		return nostr_fail(err, NOSTR_E_TOO_LARGE, NULL, "more than 1 GiB");
	const char *nul = memchr(text, '\0', len);
	if (nul)
		return fail_at(&v, (size_t)(nul - text), "NUL byte");
	v.pos = 0;
	skip_ws(&v);
	if (v.pos == len)
		return fail_at(&v, len, "empty input");
	d->work_ = 0;
	if (prescan(&v, &d->work_) < 0)
		return -1;
	jsmn_parser p;
	int r = tokenise(d, &p, err);
	if (r == JSMN_ERROR_NOMEM)
		return -1;
	if (r == JSMN_ERROR_PART)
		return fail_at(&v, len, "unexpected end of input");
	if (r == JSMN_ERROR_INVAL)
		return fail_at(&v, p.pos, "invalid character");
	d->work_ += p.toknext;
	if (ensure_out(d, p.toknext, err) < 0)
		return -1;
	v.raw = d->raw_;
	v.n_raw = p.toknext;
	v.out = d->tok;
	v.pos = 0;
	if (check_value(&v, 0) < 0)
		return -1;
	skip_ws(&v);
	if (v.pos != len || v.next != v.n_raw)
		return fail_at(&v, v.pos, "unexpected data after the value");
	d->n_tok = v.n_raw;
	d->work_ += v.n_raw;
	return 0;
}
