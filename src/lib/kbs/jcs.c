/*
 * RFC 8785 JSON Canonicalization Scheme over jansson values.
 *
 * The KBS runtime-data binding hashes the JCS form of a small object, so
 * this must agree byte for byte with serde_json_canonicalizer (the guest)
 * and the npm `canonicalize` package (our independent test client): ECMAScript
 * number formatting, UTF-16 code-unit member order, JSON.stringify escaping.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kbs/kbs_int.h"

#define JCS_MAX_DEPTH 64

/*
 * Shortest round-tripping digits: the first precision whose correctly
 * rounded %e form parses back to d is the shortest, and being correctly
 * rounded it is also the closest, which is what ECMAScript asks for.
 */
static void shortest_digits(char *digits, int *k, int *n, double d)
{
	char tmp[40], *e;
	for (int p = 1; p <= 17; p++) {
		snprintf(tmp, sizeof(tmp), "%.*e", p - 1, d);
		if (strtod(tmp, NULL) == d || p == 17)
			break;
	}
	/* tmp is "D.DDDDe[+-]XX" or "De[+-]XX". */
	e = strchr(tmp, 'e');
	*k = 0;
	for (char *c = tmp; c < e; c++)
		if (*c != '.')
			digits[(*k)++] = *c;
	while (*k > 1 && digits[*k - 1] == '0')
		(*k)--;
	digits[*k] = '\0';
	*n = atoi(e + 1) + 1;
}

int cocoon_jcs_format_number(char buf[32], double d)
{
	char digits[24];
	int k, n, pos = 0;

	if (!isfinite(d))
		return cocoon_error_set(COCOON_EINVAL, "JCS: NaN and Infinity have no JSON form");
	if (d == 0) {
		strcpy(buf, "0");
		return 0;
	}
	if (d < 0) {
		buf[pos++] = '-';
		d = -d;
	}
	shortest_digits(digits, &k, &n, d);
	if (k <= n && n <= 21) {
		pos += snprintf(buf + pos, 32 - (size_t)pos, "%s", digits);
		for (int i = 0; i < n - k; i++)
			buf[pos++] = '0';
		buf[pos] = '\0';
	} else if (0 < n && n <= 21) {
		snprintf(buf + pos, 32 - (size_t)pos, "%.*s.%s", n, digits, digits + n);
	} else if (-6 < n && n <= 0) {
		pos += snprintf(buf + pos, 32 - (size_t)pos, "0.");
		for (int i = 0; i < -n; i++)
			buf[pos++] = '0';
		snprintf(buf + pos, 32 - (size_t)pos, "%s", digits);
	} else {
		int exp = n - 1;
		if (k == 1)
			snprintf(buf + pos, 32 - (size_t)pos, "%c", digits[0]);
		else
			snprintf(buf + pos, 32 - (size_t)pos, "%c.%s", digits[0], digits + 1);
		pos = (int)strlen(buf);
		snprintf(buf + pos, 32 - (size_t)pos, "e%c%d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
	}
	return 0;
}

static int put_string(cocoon_buf *b, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	int err = cocoon_buf_append(b, "\"", 1);
	for (size_t i = 0; i < len && !err; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[7];
		switch (c) {
		case '"': err = cocoon_buf_append(b, "\\\"", 2); break;
		case '\\': err = cocoon_buf_append(b, "\\\\", 2); break;
		case '\b': err = cocoon_buf_append(b, "\\b", 2); break;
		case '\f': err = cocoon_buf_append(b, "\\f", 2); break;
		case '\n': err = cocoon_buf_append(b, "\\n", 2); break;
		case '\r': err = cocoon_buf_append(b, "\\r", 2); break;
		case '\t': err = cocoon_buf_append(b, "\\t", 2); break;
		default:
			if (c < 0x20) {
				memcpy(esc, "\\u00", 4);
				esc[4] = hex[c >> 4];
				esc[5] = hex[c & 15];
				err = cocoon_buf_append(b, esc, 6);
			} else {
				err = cocoon_buf_append(b, &s[i], 1);
			}
		}
	}
	return err ? err : cocoon_buf_append(b, "\"", 1);
}

/* The next UTF-16 code unit of a UTF-8 string (jansson has validated it). */
typedef struct {
	const unsigned char *p, *end;
	unsigned pending;                  /* low surrogate still to emit, or 0 */
} u16_iter;

static int u16_next(u16_iter *it, unsigned *unit)
{
	unsigned cp;
	int extra;

	if (it->pending) {
		*unit = it->pending;
		it->pending = 0;
		return 1;
	}
	if (it->p >= it->end)
		return 0;
	cp = *it->p++;
	extra = cp >= 0xF0 ? 3 : cp >= 0xE0 ? 2 : cp >= 0xC0 ? 1 : 0;
	cp &= extra == 3 ? 0x07 : extra == 2 ? 0x0F : extra == 1 ? 0x1F : 0x7F;
	while (extra-- > 0 && it->p < it->end)
		cp = (cp << 6) | (*it->p++ & 0x3F);
	if (cp >= 0x10000) {
		cp -= 0x10000;
		*unit = 0xD800 + (cp >> 10);
		it->pending = 0xDC00 + (cp & 0x3FF);
	} else {
		*unit = cp;
	}
	return 1;
}

static int utf16_cmp(const void *a, const void *b)
{
	const char *sa = *(const char *const *)a, *sb = *(const char *const *)b;
	u16_iter ia = { (const unsigned char *)sa, (const unsigned char *)sa + strlen(sa), 0 };
	u16_iter ib = { (const unsigned char *)sb, (const unsigned char *)sb + strlen(sb), 0 };
	for (;;) {
		unsigned ua, ub;
		int ha = u16_next(&ia, &ua), hb = u16_next(&ib, &ub);
		if (!ha || !hb)
			return ha - hb;
		if (ua != ub)
			return ua < ub ? -1 : 1;
	}
}

static int put_value(cocoon_buf *b, const json_t *v, int depth);

static int put_object(cocoon_buf *b, const json_t *v, int depth)
{
	size_t n = json_object_size(v), i = 0;
	const char **keys, *key;
	json_t *member;
	int err = 0;

	if (!(keys = calloc(n ? n : 1, sizeof(*keys))))
		return cocoon_error_set(COCOON_ENOMEM, "JCS: out of memory");
	json_object_foreach((json_t *)v, key, member)
		keys[i++] = key;
	qsort(keys, n, sizeof(*keys), utf16_cmp);
	err = cocoon_buf_append(b, "{", 1);
	for (i = 0; i < n && !err; i++) {
		if (i > 0 && (err = cocoon_buf_append(b, ",", 1)) != 0)
			break;
		if ((err = put_string(b, keys[i], strlen(keys[i]))) != 0 || (err = cocoon_buf_append(b, ":", 1)) != 0)
			break;
		err = put_value(b, json_object_get(v, keys[i]), depth + 1);
	}
	free(keys);
	return err ? err : cocoon_buf_append(b, "}", 1);
}

static int put_value(cocoon_buf *b, const json_t *v, int depth)
{
	char num[32];
	int err = 0;

	if (depth > JCS_MAX_DEPTH)
		return cocoon_error_set(COCOON_EFORMAT, "JCS: nesting deeper than %d levels", JCS_MAX_DEPTH);
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return put_object(b, v, depth);
	case JSON_ARRAY:
		err = cocoon_buf_append(b, "[", 1);
		for (size_t i = 0; i < json_array_size(v) && !err; i++) {
			if (i > 0 && (err = cocoon_buf_append(b, ",", 1)) != 0)
				break;
			err = put_value(b, json_array_get(v, i), depth + 1);
		}
		return err ? err : cocoon_buf_append(b, "]", 1);
	case JSON_STRING:
		return put_string(b, json_string_value(v), json_string_length(v));
	case JSON_INTEGER:
		/* Every JCS number is an IEEE double, exactly as in JavaScript. */
		if ((err = cocoon_jcs_format_number(num, (double)json_integer_value(v))) != 0)
			return err;
		return cocoon_buf_append(b, num, strlen(num));
	case JSON_REAL:
		if ((err = cocoon_jcs_format_number(num, json_real_value(v))) != 0)
			return cocoon_error_set(COCOON_EFORMAT, "JCS: %s", cocoon_error_last()->message);
		return cocoon_buf_append(b, num, strlen(num));
	case JSON_TRUE:
		return cocoon_buf_append(b, "true", 4);
	case JSON_FALSE:
		return cocoon_buf_append(b, "false", 5);
	case JSON_NULL:
		return cocoon_buf_append(b, "null", 4);
	}
	return cocoon_error_set(COCOON_EINVAL, "JCS: unknown jansson type");
}

int cocoon_jcs_serialize(char **out, size_t *out_len, const json_t *v)
{
	cocoon_buf b = { 0 };
	int err;

	*out = NULL;
	if (out_len)
		*out_len = 0;
	if (!v)
		return cocoon_error_set(COCOON_EINVAL, "JCS: no value");
	if ((err = put_value(&b, v, 0)) != 0 || (err = cocoon_buf_append(&b, "", 1)) != 0) {
		cocoon_buf_free(&b);
		return err;
	}
	*out = (char *)b.data;
	if (out_len)
		*out_len = b.len - 1;
	return 0;
}
