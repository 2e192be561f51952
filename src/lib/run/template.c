/*
 * {{ resource "repo/type/tag" }} templates in the command's argv and in
 * configured environment values. The grammar is deliberately tiny and
 * strict: any "{{" must open a well-formed template naming a configured
 * resource, so a typo fails at configuration time instead of launching the
 * app with a literal placeholder where a secret should be.
 */
#include <stdlib.h>
#include <string.h>
#include "cocoon/run.h"
#include "common/util.h"
#include "run/run_int.h"

static const char *skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* Parses the template that starts at t ("{{"); path and plen name the resource, *end follows "}}". */
static int parse_one(const char **path, size_t *plen, const char **end, const char *text, const char *t)
{
	const char *p = skip_ws(t + 2), *q;
	size_t off = (size_t)(t - text);

	if (strncmp(p, "resource", 8) != 0 || (p[8] != ' ' && p[8] != '\t'))
		return cocoon_error_set(COCOON_EFORMAT,
		                        "template at offset %zu: expected {{ resource \"repo/type/tag\" }}", off);
	p = skip_ws(p + 8);
	if (*p != '"')
		return cocoon_error_set(COCOON_EFORMAT, "template at offset %zu: the resource path must be in double quotes",
		                        off);
	q = strchr(p + 1, '"');
	if (!q)
		return cocoon_error_set(COCOON_EFORMAT, "template at offset %zu: unterminated resource path", off);
	if (!cocoon_run__valid_resource_path(p + 1, (size_t)(q - p - 1)))
		return cocoon_error_set(COCOON_EFORMAT,
		                        "template at offset %zu: \"%.*s\" is not repo/type/tag (three segments of "
		                        "[A-Za-z0-9._-])",
		                        off, (int)((q - p - 1) > 128 ? 128 : (q - p - 1)), p + 1);
	*path = p + 1;
	*plen = (size_t)(q - p - 1);
	p = skip_ws(q + 1);
	if (p[0] != '}' || p[1] != '}')
		return cocoon_error_set(COCOON_EFORMAT, "template at offset %zu: expected }} after the resource path", off);
	*end = p + 2;
	return 0;
}

static int lookup(const cocoon_run_value **v, const char *path, size_t plen, const cocoon_run_value *values,
                  size_t n, const char *const *known, size_t n_known)
{
	*v = NULL;
	if (values) {
		for (size_t i = 0; i < n; i++)
			if (strlen(values[i].path) == plen && memcmp(values[i].path, path, plen) == 0) {
				*v = &values[i];
				if (memchr(values[i].data, '\0', values[i].len))
					return cocoon_error_set(COCOON_EFORMAT,
					                        "resource \"%.*s\" contains a NUL byte and cannot go into an "
					                        "argument or variable; deliver it as a file",
					                        (int)plen, path);
				return 0;
			}
	} else {
		for (size_t i = 0; i < n_known; i++)
			if (strlen(known[i]) == plen && memcmp(known[i], path, plen) == 0)
				return 0;
	}
	return cocoon_error_set(COCOON_EFORMAT,
	                        "template names resource \"%.*s\", which is not in the configuration's resources",
	                        (int)(plen > 128 ? 128 : plen), path);
}

/* One pass: with dst == NULL it only measures (and checks); else it copies into dst. */
static int walk(size_t *need, char *dst, const char *text, const cocoon_run_value *values, size_t n,
                const char *const *known, size_t n_known)
{
	const char *p, *t;
	size_t len = 0;
	int err;

	for (p = text; (t = strstr(p, "{{")) != NULL; ) {
		const cocoon_run_value *v;
		const char *path = NULL, *end = NULL;
		size_t plen = 0;
		if ((err = parse_one(&path, &plen, &end, text, t)) != 0 ||
		    (err = lookup(&v, path, plen, values, n, known, n_known)) != 0)
			return err;
		if (dst) {
			memcpy(dst + len, p, (size_t)(t - p));
			if (v && v->len)
				memcpy(dst + len + (size_t)(t - p), v->data, v->len);
		}
		len += (size_t)(t - p) + (v ? v->len : 0);
		p = end;
	}
	if (dst)
		memcpy(dst + len, p, strlen(p) + 1);
	*need = len + strlen(p) + 1;
	return 0;
}

int cocoon_run_template_expand(char **out, const char *text, const cocoon_run_value *values, size_t n,
                               const char *const *known, size_t n_known)
{
	size_t need = 0;
	char *buf;
	int err;

	if (out)
		*out = NULL;
	if (!text || (values && !out))
		return cocoon_error_set(COCOON_EINVAL, "template: no text or no output given");
	if ((err = walk(&need, NULL, text, values, n, known, n_known)) != 0 || !out)
		return err;
	/* Sized once: a growing buffer would leave pieces of secrets in freed memory. */
	if (!(buf = malloc(need)))
		return cocoon_error_set(COCOON_ENOMEM, "template: out of memory");
	if ((err = walk(&need, buf, text, values, n, known, n_known)) != 0) {
		free(buf);
		return err;
	}
	*out = buf;
	return 0;
}
