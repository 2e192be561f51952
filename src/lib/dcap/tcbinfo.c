/*
 * TCB info (v2, v3) and enclave identity (v2) parsing.
 *
 * Strict about everything verification reads (present, right type, in
 * range), lenient about members it does not read, as Intel's QVL is: Intel
 * adds informational members (e.g. "category", "type") over time. Levels
 * are put in the order Intel's QVL evaluates them in, so matching never
 * depends on the order a document happens to list them in.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "common/util.h"
#include "dcap/tcbinfo.h"

/* Intel's documents are a few KiB; this only bounds memory on hostile input. */
#define TCB_JSON_MAX ((size_t)16 << 20)

static const char *const status_names[] = {
	[COCOON_TCB_UNKNOWN] = "Unknown",
	[COCOON_TCB_UP_TO_DATE] = "UpToDate",
	[COCOON_TCB_SW_HARDENING_NEEDED] = "SWHardeningNeeded",
	[COCOON_TCB_CONFIGURATION_NEEDED] = "ConfigurationNeeded",
	[COCOON_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED] = "ConfigurationAndSWHardeningNeeded",
	[COCOON_TCB_OUT_OF_DATE] = "OutOfDate",
	[COCOON_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED] = "OutOfDateConfigurationNeeded",
	[COCOON_TCB_TD_RELAUNCH_ADVISED] = "TDRelaunchAdvised",
	[COCOON_TCB_TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED] = "TDRelaunchAdvisedConfigurationNeeded",
	[COCOON_TCB_REVOKED] = "Revoked",
	[COCOON_TCB_NOT_SUPPORTED] = "NotSupported",
};
#define N_STATUS (sizeof(status_names) / sizeof(status_names[0]))

const char *cocoon_tcb_status_name(cocoon_tcb_status s)
{
	if ((unsigned)s >= N_STATUS)
		return "Unknown";
	return status_names[s];
}

int cocoon_tcb_status_parse(cocoon_tcb_status *out, const char *name)
{
	*out = COCOON_TCB_UNKNOWN;
	if (!name)
		return cocoon_error_set(COCOON_EINVAL, "TCB status: no name given");
	/* "Unknown" (index 0) is cocoon's placeholder, not a status Intel issues. */
	for (size_t i = 1; i < N_STATUS; i++) {
		if (strcmp(name, status_names[i]) == 0) {
			*out = (cocoon_tcb_status)i;
			return 0;
		}
	}
	return cocoon_error_set(COCOON_EFORMAT, "unknown TCB status \"%.64s\"", name);
}

static int digits(int *out, const char *p, int n)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	*out = v;
	return 0;
}

int cocoon_intel_date_parse(time_t *out, const char *s)
{
	static const unsigned char mdays[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int y, mo, d, h, mi, sec;
	const char *p;

	*out = 0;
	if (!s)
		return cocoon_error_set(COCOON_EINVAL, "date: no text given");
	/* strnlen bounds the fixed-position reads below to the string. */
	if (strnlen(s, 20) < 20 || digits(&y, s, 4) || s[4] != '-' || digits(&mo, s + 5, 2) || s[7] != '-' ||
	    digits(&d, s + 8, 2) || s[10] != 'T' || digits(&h, s + 11, 2) || s[13] != ':' ||
	    digits(&mi, s + 14, 2) || s[16] != ':' || digits(&sec, s + 17, 2))
		goto bad;
	p = s + 19;
	if (*p == '.') { /* Intel has issued both forms; the fraction carries no information. */
		int n = 0;
		for (p++; *p >= '0' && *p <= '9'; p++)
			n++;
		if (n == 0 || n > 9)
			goto bad;
	}
	if (p[0] != 'Z' || p[1] != '\0')
		goto bad;
	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || sec > 59)
		goto bad;
	if (mo == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
		goto bad;
	*out = (time_t)(cocoon_days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + sec);
	return 0;
bad:
	return cocoon_error_set(COCOON_EFORMAT, "date \"%.40s\" is not an ISO 8601 UTC date (YYYY-MM-DDThh:mm:ssZ)", s);
}

/* ---- JSON field helpers: every error names the JSON path ---- */

/*
 * Paths are built from cocoon's own member names and array indices, at
 * most four levels deep, so they fit in the 256-byte buffers used below.
 */
static void path_fmt(char *buf, size_t size, const char *fmt, ...) COCOON_PRINTF(3, 4);
static void path_fmt(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, size, fmt, ap);
	va_end(ap);
}

static const char *type_name(json_type t)
{
	switch (t) {
	case JSON_OBJECT: return "an object";
	case JSON_ARRAY: return "an array";
	case JSON_STRING: return "a string";
	case JSON_INTEGER: return "an integer";
	case JSON_REAL: return "a real number";
	case JSON_TRUE:
	case JSON_FALSE: return "a boolean";
	case JSON_NULL: return "null";
	}
	return "an unknown type";
}

static int member(json_t **out, json_t *obj, const char *path, const char *key, json_type type)
{
	json_t *v = json_object_get(obj, key);
	*out = NULL;
	if (!v)
		return cocoon_error_set(COCOON_EFORMAT, "%s.%s: required field is missing", path, key);
	if (json_typeof(v) != type)
		return cocoon_error_set(COCOON_EFORMAT, "%s.%s: expected %s, got %s", path, key, type_name(type),
		                        type_name(json_typeof(v)));
	*out = v;
	return 0;
}

/* Integers only: Intel never writes SVNs as 1.0, so a real number is a malformed document. */
static int member_uint(uint64_t *out, json_t *obj, const char *path, const char *key, uint64_t max)
{
	json_t *v;
	json_int_t n;
	int err;

	*out = 0;
	if ((err = member(&v, obj, path, key, JSON_INTEGER)) != 0)
		return err;
	n = json_integer_value(v);
	if (n < 0 || (uint64_t)n > max)
		return cocoon_error_set(COCOON_EFORMAT, "%s.%s: %lld is out of range 0..%llu", path, key, (long long)n,
		                        (unsigned long long)max);
	*out = (uint64_t)n;
	return 0;
}

static int member_hex(uint8_t *out, size_t n, json_t *obj, const char *path, const char *key)
{
	json_t *v;
	int err;

	if ((err = member(&v, obj, path, key, JSON_STRING)) != 0)
		return err;
	if (cocoon_hex_decode(out, n, json_string_value(v), json_string_length(v)) != 0)
		return cocoon_error_set(COCOON_EFORMAT, "%s.%s: expected %zu hex characters (%zu bytes), got %zu characters \"%.80s\"",
		                        path, key, 2 * n, n, json_string_length(v), json_string_value(v));
	return 0;
}

static int member_date(time_t *out, json_t *obj, const char *path, const char *key)
{
	json_t *v;
	int err;

	if ((err = member(&v, obj, path, key, JSON_STRING)) != 0)
		return err;
	if (cocoon_intel_date_parse(out, json_string_value(v)) != 0)
		return cocoon_error_set(COCOON_EFORMAT, "%s.%s: \"%.40s\" is not an ISO 8601 UTC date (YYYY-MM-DDThh:mm:ssZ)",
		                        path, key, json_string_value(v));
	return 0;
}

/*
 * Platform TCB levels may carry the seven statuses Intel's TcbLevel parser
 * accepts plus Revoked; the TDRelaunch* and NotSupported names are verdicts
 * cocoon computes, never inputs. Enclave and module identity levels only
 * use UpToDate, OutOfDate and Revoked.
 */
static int member_status(cocoon_tcb_status *out, json_t *obj, const char *path, int isv_level)
{
	json_t *v;
	cocoon_tcb_status s;
	int err, ok;

	*out = COCOON_TCB_UNKNOWN;
	if ((err = member(&v, obj, path, "tcbStatus", JSON_STRING)) != 0)
		return err;
	if (cocoon_tcb_status_parse(&s, json_string_value(v)) != 0)
		ok = 0;
	else if (isv_level)
		ok = s == COCOON_TCB_UP_TO_DATE || s == COCOON_TCB_OUT_OF_DATE || s == COCOON_TCB_REVOKED;
	else
		ok = s != COCOON_TCB_TD_RELAUNCH_ADVISED && s != COCOON_TCB_TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED &&
		     s != COCOON_TCB_NOT_SUPPORTED;
	if (!ok)
		return cocoon_error_set(COCOON_EFORMAT, "%s.tcbStatus: \"%.64s\" is not a valid status here (expected %s)",
		                        path, json_string_value(v),
		                        isv_level ? "UpToDate, OutOfDate or Revoked"
		                                  : "UpToDate, SWHardeningNeeded, ConfigurationNeeded, "
		                                    "ConfigurationAndSWHardeningNeeded, OutOfDate, "
		                                    "OutOfDateConfigurationNeeded or Revoked");
	*out = s;
	return 0;
}

static void advisories_free(cocoon_advisories *a)
{
	free(a->ids);
	a->ids = NULL;
	a->n = 0;
}

/* Optional "advisoryIDs": an array of short strings. */
static int parse_advisories(cocoon_advisories *out, json_t *level, const char *path)
{
	json_t *arr = json_object_get(level, "advisoryIDs");
	size_t n;

	out->n = 0;
	out->ids = NULL;
	if (!arr)
		return 0;
	if (!json_is_array(arr))
		return cocoon_error_set(COCOON_EFORMAT, "%s.advisoryIDs: expected an array, got %s", path,
		                        type_name(json_typeof(arr)));
	if ((n = json_array_size(arr)) == 0)
		return 0;
	if (!(out->ids = calloc(n, sizeof(*out->ids))))
		return cocoon_error_set(COCOON_ENOMEM, "%s.advisoryIDs: out of memory for %zu IDs", path, n);
	for (size_t i = 0; i < n; i++) {
		json_t *v = json_array_get(arr, i);
		size_t len;
		if (!json_is_string(v))
			return cocoon_error_set(COCOON_EFORMAT, "%s.advisoryIDs[%zu]: expected a string, got %s", path, i,
			                        type_name(json_typeof(v)));
		len = json_string_length(v);
		if (len == 0 || len >= sizeof(out->ids[0]))
			return cocoon_error_set(COCOON_EFORMAT, "%s.advisoryIDs[%zu]: \"%.40s\" must be 1 to %zu characters",
			                        path, i, json_string_value(v), sizeof(out->ids[0]) - 1);
		memcpy(out->ids[i], json_string_value(v), len + 1);
		out->n = i + 1;
	}
	return 0;
}

/* v3 "sgxtcbcomponents"/"tdxtcbcomponents": exactly 16 objects with an "svn". */
static int parse_components(uint8_t out[16], json_t *tcb, const char *path, const char *key)
{
	json_t *arr;
	char p[256];
	uint64_t v;
	int err;

	if ((err = member(&arr, tcb, path, key, JSON_ARRAY)) != 0)
		return err;
	if (json_array_size(arr) != 16)
		return cocoon_error_set(COCOON_EFORMAT, "%s.%s: expected 16 entries, got %zu", path, key,
		                        json_array_size(arr));
	for (size_t i = 0; i < 16; i++) {
		json_t *c = json_array_get(arr, i);
		json_t *svn = json_is_object(c) ? json_object_get(c, "svn") : NULL;
		/* The well-formed case needs no path; a TCB info carries hundreds of
		 * components, so the path is printed only to report an error. */
		if (json_is_integer(svn) && json_integer_value(svn) >= 0 && json_integer_value(svn) <= 255) {
			out[i] = (uint8_t)json_integer_value(svn);
			continue;
		}
		path_fmt(p, sizeof(p), "%s.%s[%zu]", path, key, i);
		if (!json_is_object(c))
			return cocoon_error_set(COCOON_EFORMAT, "%s: expected an object, got %s", p,
			                        type_name(json_typeof(c)));
		if ((err = member_uint(&v, c, p, "svn", 255)) != 0)
			return err;
		out[i] = (uint8_t)v;
	}
	return 0;
}

static int parse_tcb_level(cocoon_tcb_level *l, json_t *j, const char *path, unsigned version, int is_tdx)
{
	json_t *tcb;
	char tp[256];
	uint64_t v;
	int err;

	if (!json_is_object(j))
		return cocoon_error_set(COCOON_EFORMAT, "%s: expected an object, got %s", path, type_name(json_typeof(j)));
	if ((err = member(&tcb, j, path, "tcb", JSON_OBJECT)) != 0)
		return err;
	path_fmt(tp, sizeof(tp), "%s.tcb", path);
	if (version == 2) {
		for (unsigned i = 0; i < 16; i++) {
			char key[24];
			path_fmt(key, sizeof(key), "sgxtcbcomp%02usvn", i + 1);
			if ((err = member_uint(&v, tcb, tp, key, 255)) != 0)
				return err;
			l->sgx[i] = (uint8_t)v;
		}
	} else {
		if ((err = parse_components(l->sgx, tcb, tp, "sgxtcbcomponents")) != 0)
			return err;
		if (is_tdx && (err = parse_components(l->tdx, tcb, tp, "tdxtcbcomponents")) != 0)
			return err;
	}
	if ((err = member_uint(&v, tcb, tp, "pcesvn", 65535)) != 0)
		return err;
	l->pce_svn = (uint16_t)v;
	if ((err = member_date(&l->tcb_date, j, path, "tcbDate")) != 0 ||
	    (err = member_status(&l->status, j, path, 0)) != 0)
		return err;
	return parse_advisories(&l->advisories, j, path);
}

static int parse_isv_level(cocoon_isv_tcb_level *l, json_t *j, const char *path)
{
	json_t *tcb;
	char tp[256];
	uint64_t v;
	int err;

	if (!json_is_object(j))
		return cocoon_error_set(COCOON_EFORMAT, "%s: expected an object, got %s", path, type_name(json_typeof(j)));
	if ((err = member(&tcb, j, path, "tcb", JSON_OBJECT)) != 0)
		return err;
	path_fmt(tp, sizeof(tp), "%s.tcb", path);
	if ((err = member_uint(&v, tcb, tp, "isvsvn", 65535)) != 0)
		return err;
	l->isvsvn = (uint16_t)v;
	if ((err = member_date(&l->tcb_date, j, path, "tcbDate")) != 0 ||
	    (err = member_status(&l->status, j, path, 1)) != 0)
		return err;
	return parse_advisories(&l->advisories, j, path);
}

/* ---- canonical order ---- */

/*
 * Intel's TcbLevel::operator> ranks by sgx[] lexicographically, then (TDX v3
 * with equal pce_svn) by tdx[], otherwise by pce_svn. Comparing sgx[], then
 * pce_svn, then tdx[] is the same order: when pce_svn differ it decides in
 * both, and when equal Intel goes on to tdx[] for TDX, while for SGX tdx[]
 * is all zeros on both sides. memcmp compares bytes as unsigned, as
 * std::vector<uint8_t>'s operator> does.
 */
static int tcb_key_cmp(const cocoon_tcb_level *x, const cocoon_tcb_level *y)
{
	int c = memcmp(y->sgx, x->sgx, 16);
	if (c)
		return c;
	if (x->pce_svn != y->pce_svn)
		return x->pce_svn > y->pce_svn ? -1 : 1;
	return memcmp(y->tdx, x->tdx, 16);
}

/* Sorting pointers whose targets never move makes the address a stable tie-break. */
static int tcb_ptr_cmp(const void *a, const void *b)
{
	const cocoon_tcb_level *x = *(const cocoon_tcb_level *const *)a;
	const cocoon_tcb_level *y = *(const cocoon_tcb_level *const *)b;
	int c = tcb_key_cmp(x, y);
	return c ? c : (x < y ? -1 : x > y);
}

static int isv_ptr_cmp(const void *a, const void *b)
{
	const cocoon_isv_tcb_level *x = *(const cocoon_isv_tcb_level *const *)a;
	const cocoon_isv_tcb_level *y = *(const cocoon_isv_tcb_level *const *)b;
	if (x->isvsvn != y->isvsvn)
		return x->isvsvn > y->isvsvn ? -1 : 1;
	return x < y ? -1 : x > y;
}

/*
 * Best first. Levels equal in every key are dropped after the first, as
 * inserting into Intel's std::set<TcbLevel, greater> does: keeping a later
 * duplicate with another status would make cocoon's verdict differ from QVL's.
 */
static int tcb_levels_canonicalize(cocoon_tcb_level *levels, size_t *n)
{
	cocoon_tcb_level **order = NULL, *sorted = NULL;
	size_t kept = 0;
	int err = 0;

	if (*n < 2)
		return 0;
	order = calloc(*n, sizeof(*order));
	sorted = calloc(*n, sizeof(*sorted));
	if (!order || !sorted) {
		err = cocoon_error_set(COCOON_ENOMEM, "out of memory sorting %zu TCB levels", *n);
		goto done;
	}
	for (size_t i = 0; i < *n; i++)
		order[i] = &levels[i];
	qsort(order, *n, sizeof(*order), tcb_ptr_cmp);
	for (size_t i = 0; i < *n; i++) {
		if (kept > 0 && tcb_key_cmp(&sorted[kept - 1], order[i]) == 0) {
			advisories_free(&order[i]->advisories);
			continue;
		}
		sorted[kept++] = *order[i];
	}
	memcpy(levels, sorted, kept * sizeof(*levels));
	*n = kept;
done:
	free(order);
	free(sorted);
	return err;
}

static int isv_levels_sort(cocoon_isv_tcb_level *levels, size_t n)
{
	cocoon_isv_tcb_level **order = NULL, *sorted = NULL;
	int err = 0;

	if (n < 2)
		return 0;
	order = calloc(n, sizeof(*order));
	sorted = calloc(n, sizeof(*sorted));
	if (!order || !sorted) {
		err = cocoon_error_set(COCOON_ENOMEM, "out of memory sorting %zu TCB levels", n);
		goto done;
	}
	for (size_t i = 0; i < n; i++)
		order[i] = &levels[i];
	qsort(order, n, sizeof(*order), isv_ptr_cmp);
	for (size_t i = 0; i < n; i++)
		sorted[i] = *order[i];
	memcpy(levels, sorted, n * sizeof(*levels));
done:
	free(order);
	free(sorted);
	return err;
}

static void isv_levels_free(cocoon_isv_tcb_level *levels, size_t n)
{
	for (size_t i = 0; levels && i < n; i++)
		advisories_free(&levels[i].advisories);
	free(levels);
}

/* "tcbLevels" of an enclave or module identity: non-empty, sorted by isvsvn. */
static int parse_isv_levels(cocoon_isv_tcb_level **out, size_t *n_out, json_t *obj, const char *path)
{
	cocoon_isv_tcb_level *levels = NULL;
	json_t *arr;
	char p[256];
	size_t n = 0;
	int err;

	*out = NULL;
	*n_out = 0;
	if ((err = member(&arr, obj, path, "tcbLevels", JSON_ARRAY)) != 0)
		return err;
	if ((n = json_array_size(arr)) == 0)
		return cocoon_error_set(COCOON_EFORMAT, "%s.tcbLevels: must list at least one level", path);
	if (!(levels = calloc(n, sizeof(*levels))))
		return cocoon_error_set(COCOON_ENOMEM, "%s.tcbLevels: out of memory for %zu levels", path, n);
	for (size_t i = 0; i < n; i++) {
		path_fmt(p, sizeof(p), "%s.tcbLevels[%zu]", path, i);
		if ((err = parse_isv_level(&levels[i], json_array_get(arr, i), p)) != 0)
			goto done;
	}
	if ((err = isv_levels_sort(levels, n)) != 0)
		goto done;
	*out = levels;
	*n_out = n;
	levels = NULL;
done:
	isv_levels_free(levels, n);
	return err;
}

static int load_object(json_t **out, const char *json, size_t len, const char *what, const char *wrapper_key)
{
	json_error_t e;
	json_t *root;

	*out = NULL;
	if (len == 0)
		return cocoon_error_set(COCOON_EFORMAT, "%s: empty input: expected a JSON object", what);
	if (len > TCB_JSON_MAX)
		return cocoon_error_set(COCOON_EFORMAT, "%s: %zu bytes exceeds the %zu-byte limit", what, len, TCB_JSON_MAX);
	/* Duplicate keys are rejected: a verifier picking another duplicate than the signer meant is a classic confusion. */
	if (!(root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &e)))
		return cocoon_error_set(COCOON_EFORMAT, "%s: invalid JSON at byte %d (line %d, column %d): %s", what,
		                        e.position, e.line, e.column, e.text);
	if (!json_is_object(root)) {
		int err = cocoon_error_set(COCOON_EFORMAT, "%s: expected a JSON object, got %s", what,
		                           type_name(json_typeof(root)));
		json_decref(root);
		return err;
	}
	if (json_object_get(root, wrapper_key)) {
		json_decref(root);
		return cocoon_error_set(COCOON_EFORMAT, "%s: got a whole PCS response; pass the exact bytes of its \"%s\" "
		                        "value, which is what the signature covers", what, wrapper_key);
	}
	*out = root;
	return 0;
}

/* ---- TCB info ---- */

void cocoon_tcb_info_free(cocoon_tcb_info *t)
{
	if (!t)
		return;
	for (size_t i = 0; t->levels && i < t->n_levels; i++)
		advisories_free(&t->levels[i].advisories);
	free(t->levels);
	for (size_t i = 0; t->module_identities && i < t->n_module_identities; i++)
		isv_levels_free(t->module_identities[i].levels, t->module_identities[i].n_levels);
	free(t->module_identities);
	free(t);
}

static int parse_module_identity(cocoon_tdx_module_identity *m, json_t *j, const char *path)
{
	json_t *id;
	size_t len;
	int err;

	if (!json_is_object(j))
		return cocoon_error_set(COCOON_EFORMAT, "%s: expected an object, got %s", path, type_name(json_typeof(j)));
	if ((err = member(&id, j, path, "id", JSON_STRING)) != 0)
		return err;
	len = json_string_length(id);
	if (len == 0 || len >= sizeof(m->id))
		return cocoon_error_set(COCOON_EFORMAT, "%s.id: \"%.40s\" must be 1 to %zu characters (e.g. \"TDX_01\")",
		                        path, json_string_value(id), sizeof(m->id) - 1);
	memcpy(m->id, json_string_value(id), len + 1);
	if ((err = member_hex(m->mrsigner, 48, j, path, "mrsigner")) != 0 ||
	    (err = member_hex(m->attributes, 8, j, path, "attributes")) != 0 ||
	    (err = member_hex(m->attributes_mask, 8, j, path, "attributesMask")) != 0)
		return err;
	return parse_isv_levels(&m->levels, &m->n_levels, j, path);
}

static int parse_tdx_module(cocoon_tcb_info *t, json_t *root, const char *path)
{
	json_t *mod, *ids;
	char p[256];
	int err;

	if ((err = member(&mod, root, path, "tdxModule", JSON_OBJECT)) != 0)
		return err;
	path_fmt(p, sizeof(p), "%s.tdxModule", path);
	if ((err = member_hex(t->module_mrsigner, 48, mod, p, "mrsigner")) != 0 ||
	    (err = member_hex(t->module_attributes, 8, mod, p, "attributes")) != 0 ||
	    (err = member_hex(t->module_attributes_mask, 8, mod, p, "attributesMask")) != 0)
		return err;
	t->has_tdx_module = 1;

	/* Optional: older TDX TCB info describes only the one module above. */
	if (!(ids = json_object_get(root, "tdxModuleIdentities")))
		return 0;
	if (!json_is_array(ids))
		return cocoon_error_set(COCOON_EFORMAT, "%s.tdxModuleIdentities: expected an array, got %s", path,
		                        type_name(json_typeof(ids)));
	if (json_array_size(ids) == 0)
		return 0;
	t->module_identities = calloc(json_array_size(ids), sizeof(*t->module_identities));
	if (!t->module_identities)
		return cocoon_error_set(COCOON_ENOMEM, "%s.tdxModuleIdentities: out of memory", path);
	t->n_module_identities = json_array_size(ids);
	for (size_t i = 0; i < t->n_module_identities; i++) {
		path_fmt(p, sizeof(p), "%s.tdxModuleIdentities[%zu]", path, i);
		if ((err = parse_module_identity(&t->module_identities[i], json_array_get(ids, i), p)) != 0)
			return err;
	}
	return 0;
}

int cocoon_tcb_info_parse(cocoon_tcb_info **out, const char *json, size_t len)
{
	static const char P[] = "tcbInfo";
	cocoon_tcb_info *t = NULL;
	json_t *root = NULL, *id, *arr;
	uint64_t u;
	char p[256];
	int err;

	if (!out)
		return cocoon_error_set(COCOON_EINVAL, "tcbInfo: no output pointer");
	*out = NULL;
	if (!json && len)
		return cocoon_error_set(COCOON_EINVAL, "tcbInfo: NULL input with length %zu", len);
	if ((err = load_object(&root, json, len, P, "tcbInfo")) != 0)
		goto done;
	if (!(t = calloc(1, sizeof(*t)))) {
		err = cocoon_error_set(COCOON_ENOMEM, "tcbInfo: out of memory");
		goto done;
	}
	if ((err = member_uint(&u, root, P, "version", UINT32_MAX)) != 0)
		goto done;
	if (u != 2 && u != 3) {
		err = cocoon_error_set(COCOON_EUNSUPPORTED, "tcbInfo.version: %llu is not supported (cocoon reads "
		                       "versions 2 and 3; fetch v3 collateral, e.g. PCS API v4)", (unsigned long long)u);
		goto done;
	}
	t->version = (unsigned)u;
	if (t->version == 3) {
		if ((err = member(&id, root, P, "id", JSON_STRING)) != 0)
			goto done;
		if (strcmp(json_string_value(id), "TDX") == 0) {
			t->is_tdx = 1;
		} else if (strcmp(json_string_value(id), "SGX") != 0) {
			err = cocoon_error_set(COCOON_EFORMAT, "tcbInfo.id: \"%.40s\" is neither \"SGX\" nor \"TDX\"",
			                       json_string_value(id));
			goto done;
		}
	} else if ((id = json_object_get(root, "id")) && !(json_is_string(id) && strcmp(json_string_value(id), "SGX") == 0)) {
		/* v2 predates TDX: an id other than SGX means the document is not what its version says. */
		err = cocoon_error_set(COCOON_EFORMAT, "tcbInfo.id: version 2 TCB info is SGX only");
		goto done;
	}
	if ((err = member_date(&t->issue_date, root, P, "issueDate")) != 0 ||
	    (err = member_date(&t->next_update, root, P, "nextUpdate")) != 0 ||
	    (err = member_hex(t->fmspc, 6, root, P, "fmspc")) != 0 ||
	    (err = member_hex(t->pceid, 2, root, P, "pceId")) != 0 ||
	    (err = member_uint(&u, root, P, "tcbType", UINT32_MAX)) != 0)
		goto done;
	t->tcb_type = (unsigned)u;
	if ((err = member_uint(&u, root, P, "tcbEvaluationDataNumber", UINT32_MAX)) != 0)
		goto done;
	t->tcb_eval_data_number = (uint32_t)u;
	if (t->is_tdx && (err = parse_tdx_module(t, root, P)) != 0)
		goto done;

	if ((err = member(&arr, root, P, "tcbLevels", JSON_ARRAY)) != 0)
		goto done;
	if (json_array_size(arr) == 0) {
		err = cocoon_error_set(COCOON_EFORMAT, "tcbInfo.tcbLevels: must list at least one level");
		goto done;
	}
	if (!(t->levels = calloc(json_array_size(arr), sizeof(*t->levels)))) {
		err = cocoon_error_set(COCOON_ENOMEM, "tcbInfo.tcbLevels: out of memory");
		goto done;
	}
	t->n_levels = json_array_size(arr);
	for (size_t i = 0; i < t->n_levels; i++) {
		path_fmt(p, sizeof(p), "%s.tcbLevels[%zu]", P, i);
		if ((err = parse_tcb_level(&t->levels[i], json_array_get(arr, i), p, t->version, t->is_tdx)) != 0)
			goto done;
	}
	if ((err = tcb_levels_canonicalize(t->levels, &t->n_levels)) != 0)
		goto done;
	*out = t;
	t = NULL;
done:
	cocoon_tcb_info_free(t);
	json_decref(root);
	return err;
}

/* ---- enclave identity ---- */

void cocoon_qe_identity_free(cocoon_qe_identity *q)
{
	if (!q)
		return;
	isv_levels_free(q->levels, q->n_levels);
	free(q);
}

int cocoon_qe_identity_parse(cocoon_qe_identity **out, const char *json, size_t len)
{
	static const char P[] = "enclaveIdentity";
	cocoon_qe_identity *q = NULL;
	json_t *root = NULL, *id;
	uint8_t b4[4];
	uint64_t u;
	int err;

	if (!out)
		return cocoon_error_set(COCOON_EINVAL, "enclaveIdentity: no output pointer");
	*out = NULL;
	if (!json && len)
		return cocoon_error_set(COCOON_EINVAL, "enclaveIdentity: NULL input with length %zu", len);
	if ((err = load_object(&root, json, len, P, "enclaveIdentity")) != 0)
		goto done;
	if (!(q = calloc(1, sizeof(*q)))) {
		err = cocoon_error_set(COCOON_ENOMEM, "enclaveIdentity: out of memory");
		goto done;
	}
	if ((err = member(&id, root, P, "id", JSON_STRING)) != 0)
		goto done;
	if (strcmp(json_string_value(id), "QE") == 0) {
		q->id = COCOON_QEID_QE;
	} else if (strcmp(json_string_value(id), "TD_QE") == 0) {
		q->id = COCOON_QEID_TD_QE;
	} else if (strcmp(json_string_value(id), "QVE") == 0) {
		q->id = COCOON_QEID_QVE;
	} else {
		err = cocoon_error_set(COCOON_EFORMAT, "enclaveIdentity.id: \"%.40s\" is not \"QE\", \"TD_QE\" or \"QVE\"",
		                       json_string_value(id));
		goto done;
	}
	if ((err = member_uint(&u, root, P, "version", UINT32_MAX)) != 0)
		goto done;
	if (u != 2) {
		err = cocoon_error_set(COCOON_EUNSUPPORTED, "enclaveIdentity.version: %llu is not supported (cocoon reads "
		                       "version 2; fetch it from PCS API v3 or v4)", (unsigned long long)u);
		goto done;
	}
	q->version = 2;
	if ((err = member_date(&q->issue_date, root, P, "issueDate")) != 0 ||
	    (err = member_date(&q->next_update, root, P, "nextUpdate")) != 0 ||
	    (err = member_uint(&u, root, P, "tcbEvaluationDataNumber", UINT32_MAX)) != 0)
		goto done;
	q->tcb_eval_data_number = (uint32_t)u;
	/*
	 * MISCSELECT hex is the field's byte image as it sits in the report,
	 * i.e. little-endian: Intel's EnclaveReportVerifier::vectorToUint32 is
	 * swapBytes(toUint32(b0..b3)), the same expression QuoteParsers.h uses
	 * to read the report's little-endian uint32s, and dcap-qvl uses
	 * u32::from_le_bytes. So "01000000" is MISCSELECT bit 0 (EXINFO).
	 */
	if ((err = member_hex(b4, 4, root, P, "miscselect")) != 0)
		goto done;
	q->miscselect = cocoon_le32(b4);
	if ((err = member_hex(b4, 4, root, P, "miscselectMask")) != 0)
		goto done;
	q->miscselect_mask = cocoon_le32(b4);
	if ((err = member_hex(q->attributes, 16, root, P, "attributes")) != 0 ||
	    (err = member_hex(q->attributes_mask, 16, root, P, "attributesMask")) != 0 ||
	    (err = member_hex(q->mrsigner, 32, root, P, "mrsigner")) != 0 ||
	    (err = member_uint(&u, root, P, "isvprodid", 65535)) != 0)
		goto done;
	q->isvprodid = (uint16_t)u;
	if ((err = parse_isv_levels(&q->levels, &q->n_levels, root, P)) != 0)
		goto done;
	*out = q;
	q = NULL;
done:
	cocoon_qe_identity_free(q);
	json_decref(root);
	return err;
}
