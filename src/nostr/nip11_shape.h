/* nip11_shape.h — shape checks for NIP-11 fields (internal to the NIP-11 parser). */
#ifndef BROTR_NOSTR_NIP11_SHAPE_H
#define BROTR_NOSTR_NIP11_SHAPE_H

#include <stddef.h>

#include "nostr/json.h"

/* Whether token arr is an array whose elements all have type (and are integers, when integer is set). */
int nip11_all_of(const struct json_doc *j, size_t arr, enum json_type type, int integer);
/* Whether token t is an integer within int64_t. */
int nip11_is_int(const struct json_doc *j, size_t t);
/* Whether token t is true or false. */
int nip11_is_bool(const struct json_doc *j, size_t t);
/* retention: an array of {"kinds": [k | [from, to]]?, "time": int | null?, "count": int?} */
int nip11_retention_ok(const struct json_doc *j, size_t arr);
/* fees: an object whose admission/subscription/publication lists hold {"amount": int, "unit": string,
 * "period": int?, "kinds": [int]?}; other members are free. */
int nip11_fees_ok(const struct json_doc *j, size_t obj);

#endif
