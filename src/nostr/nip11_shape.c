/* nip11_shape.c — the shapes NIP-11 gives its list and object fields (retention rules, fee schedules). */
#include "nostr/nip11_shape.h"

int nip11_all_of(const struct json_doc *j, size_t arr, enum json_type type, int integer)
{
	if (j->tok[arr].type != JSON_ARRAY)
		return 0;
	for (size_t n = 0, k = arr + 1; n < j->tok[arr].size; n++, k = j->tok[k].next)
		if (j->tok[k].type != type || (integer && !j->tok[k].integer))
			return 0;
	return 1;
}

int nip11_is_int(const struct json_doc *j, size_t t)
{
	int64_t v;
	return json_int(j, &j->tok[t], &v) == 0;
}

int nip11_is_bool(const struct json_doc *j, size_t t)
{
	return j->tok[t].type == JSON_TRUE || j->tok[t].type == JSON_FALSE;
}

/* Each retention rule: {"kinds": [k | [from, to]...]?, "time": int|null?, "count": int?}. */
int nip11_retention_ok(const struct json_doc *j, size_t arr)
{
	if (j->tok[arr].type != JSON_ARRAY)
		return 0;
	for (size_t n = 0, r = arr + 1; n < j->tok[arr].size; n++, r = j->tok[r].next) {
		if (j->tok[r].type != JSON_OBJECT)
			return 0;
		size_t kinds = json_member(j, r, "kinds"), time = json_member(j, r, "time"), count = json_member(j, r, "count");
		if ((time && !nip11_is_int(j, time) && j->tok[time].type != JSON_NULL) || (count && !nip11_is_int(j, count)))
			return 0;
		if (kinds && j->tok[kinds].type != JSON_ARRAY)
			return 0;
		for (size_t m = 0, k = kinds + 1; kinds && m < j->tok[kinds].size; m++, k = j->tok[k].next)
			if (!nip11_is_int(j, k) && !(nip11_all_of(j, k, JSON_NUMBER, 1) && j->tok[k].size == 2))
				return 0;
	}
	return 1;
}

/* fees: {"admission"|"subscription"|"publication": [{"amount": int, "unit": str, "period": int?, "kinds": [int]?}]} */
int nip11_fees_ok(const struct json_doc *j, size_t obj)
{
	static const char *const cats[] = { "admission", "subscription", "publication" };
	if (j->tok[obj].type != JSON_OBJECT)
		return 0;
	for (size_t c = 0; c < 3; c++) {
		size_t arr = json_member(j, obj, cats[c]);
		if (!arr)
			continue;
		if (j->tok[arr].type != JSON_ARRAY)
			return 0;
		for (size_t n = 0, f = arr + 1; n < j->tok[arr].size; n++, f = j->tok[f].next) {
			size_t amount = json_member(j, f, "amount"), unit = json_member(j, f, "unit");
			size_t period = json_member(j, f, "period"), kinds = json_member(j, f, "kinds");
			if (j->tok[f].type != JSON_OBJECT || !amount || !nip11_is_int(j, amount) || !unit ||
			    j->tok[unit].type != JSON_STRING || (period && !nip11_is_int(j, period)) ||
			    (kinds && !nip11_all_of(j, kinds, JSON_NUMBER, 1)))
				return 0;
		}
	}
	return 1;
}
