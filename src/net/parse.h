/* parse.h — the result of an incremental parser: invalid, needs more bytes, or done. */
#ifndef BROTR_NET_PARSE_H
#define BROTR_NET_PARSE_H

/*
 * Incremental parsers take the bytes received so far (a growing prefix of the message)
 * and never read past len. A parser called again with a longer prefix gives the same
 * answer for the bytes it has already judged.
 */
enum parse_result {
	PARSE_INVALID = -1,  /* the bytes can never form a valid message */
	PARSE_NEED_MORE = 0, /* a valid prefix: read more and call again */
	PARSE_DONE = 1,      /* a complete message */
};

#endif
