/* Human-readable rendering of the CLI's JSON output. */
#include <jansson.h>
#include "render.h"

static void render_value(FILE *out, const char *key, json_t *v, int depth)
{
	const char *k;
	json_t *child;
	size_t i;

	fprintf(out, "%*s%s:", depth * 2, "", key);
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		fputc('\n', out);
		json_object_foreach(v, k, child)
			render_value(out, k, child, depth + 1);
		return;
	case JSON_ARRAY:
		if (json_array_size(v) == 0) {
			fputs(" (none)\n", out);
			return;
		}
		json_array_foreach(v, i, child) {
			fputs(i ? ", " : " ", out);
			if (json_is_string(child))
				fputs(json_string_value(child), out);
		}
		fputc('\n', out);
		return;
	case JSON_STRING: fprintf(out, " %s\n", json_string_value(v)); return;
	case JSON_INTEGER: fprintf(out, " %lld\n", (long long)json_integer_value(v)); return;
	case JSON_TRUE: fputs(" yes\n", out); return;
	case JSON_FALSE: fputs(" no\n", out); return;
	case JSON_NULL: fputs(" -\n", out); return;
	default: fputs(" ?\n", out); return;
	}
}

void cocoon_render_text(FILE *out, const char *json)
{
	json_t *root = json_loads(json, JSON_DECODE_ANY, NULL), *v;
	const char *k;
	if (!root) {
		fputs(json, out);
		return;
	}
	json_object_foreach(root, k, v)
		render_value(out, k, v, 0);
	json_decref(root);
}
