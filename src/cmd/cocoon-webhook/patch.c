/*
 * JSON Patch (RFC 6902) from two documents: the webhook edits a copy of the
 * pod and emits only the differences, so fields it does not know survive
 * untouched and an unchanged pod yields an empty patch (idempotence). Arrays
 * are patched element by element when their length is kept, by appending
 * when the old array is a prefix of the new one, and replaced otherwise.
 */
#include <stdlib.h>
#include <string.h>
#include "webhook.h"

char *webhook_pointer_join(const char *prefix, const char *key)
{
	size_t plen = strlen(prefix), extra = 0, k = 0;
	char *out;

	for (const char *p = key; *p; p++)
		extra += (*p == '~' || *p == '/') ? 2 : 1;
	if (!(out = malloc(plen + 1 + extra + 1)))
		return NULL;
	memcpy(out, prefix, plen);
	k = plen;
	out[k++] = '/';
	for (const char *p = key; *p; p++) {
		if (*p == '~' || *p == '/') {
			out[k++] = '~';
			out[k++] = *p == '~' ? '0' : '1';
		} else {
			out[k++] = *p;
		}
	}
	out[k] = '\0';
	return out;
}

static int op(json_t *patch, const char *what, const char *path, const json_t *value)
{
	json_t *o = value ? json_pack("{s:s,s:s,s:O}", "op", what, "path", path, "value", value)
	                  : json_pack("{s:s,s:s}", "op", what, "path", path);
	return o && json_array_append_new(patch, o) == 0 ? 0 : -1;
}

static int diff(json_t *patch, const char *path, const json_t *a, const json_t *b);

static int diff_object(json_t *patch, const char *path, const json_t *a, const json_t *b)
{
	const char *k;
	json_t *v;
	int err = 0;

	json_object_foreach((json_t *)a, k, v) {
		char *p;
		if (json_object_get(b, k))
			continue;
		if (!(p = webhook_pointer_join(path, k)))
			return -1;
		err = op(patch, "remove", p, NULL);
		free(p);
		if (err)
			return -1;
	}
	json_object_foreach((json_t *)b, k, v) {
		const json_t *old = json_object_get(a, k);
		char *p = webhook_pointer_join(path, k);
		if (!p)
			return -1;
		err = old ? diff(patch, p, old, v) : op(patch, "add", p, v);
		free(p);
		if (err)
			return -1;
	}
	return 0;
}

static int diff_array(json_t *patch, const char *path, const json_t *a, const json_t *b)
{
	size_t na = json_array_size(a), nb = json_array_size(b);
	char p[4096];

	if (nb < na)
		return op(patch, "replace", path, b);
	if (nb > na) {
		for (size_t i = 0; i < na; i++)
			if (!json_equal(json_array_get(a, i), json_array_get(b, i)))
				return op(patch, "replace", path, b);
		if ((size_t)snprintf(p, sizeof(p), "%s/-", path) >= sizeof(p))
			return op(patch, "replace", path, b);
		for (size_t i = na; i < nb; i++)
			if (op(patch, "add", p, json_array_get(b, i)) != 0)
				return -1;
		return 0;
	}
	for (size_t i = 0; i < na; i++) {
		if ((size_t)snprintf(p, sizeof(p), "%s/%zu", path, i) >= sizeof(p))
			return op(patch, "replace", path, b);
		if (diff(patch, p, json_array_get(a, i), json_array_get(b, i)) != 0)
			return -1;
	}
	return 0;
}

static int diff(json_t *patch, const char *path, const json_t *a, const json_t *b)
{
	if (json_equal((json_t *)a, (json_t *)b))
		return 0;
	if (json_is_object(a) && json_is_object(b))
		return diff_object(patch, path, a, b);
	if (json_is_array(a) && json_is_array(b))
		return diff_array(patch, path, a, b);
	return op(patch, "replace", path, b);
}

json_t *webhook_diff(const json_t *a, const json_t *b)
{
	json_t *patch = json_array();

	if (!patch)
		return NULL;
	/* The root itself: "" is the whole document (RFC 6901). */
	if (diff(patch, "", a, b) != 0) {
		json_decref(patch);
		return NULL;
	}
	return patch;
}
