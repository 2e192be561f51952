/*
 * The launch configuration of cocoon-run (schema in docs/run.md), parsed
 * strictly: it comes from an image the node cannot vouch for, and a
 * silently ignored key (a misspelt "file" that leaves a secret in the
 * environment) would be fail-open. Every error names the key.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "cocoon/run.h"
#include "common/util.h"
#include "run/run_int.h"

#define MAX_URL 2048
#define MAX_PATH_LEN 1024
#define MAX_NAME 255
#define MAX_ENV_NAME 128
#define MAX_VALUE (64 * 1024)
#define DEFAULT_DEADLINE 30

static int bad(const char *key, const char *fmt, ...) COCOON_PRINTF(2, 3);
static int bad(const char *key, const char *fmt, ...)
{
	char msg[768];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return cocoon_error_set(COCOON_EFORMAT, "launch configuration: %s: %s", key, msg);
}

/* Refuses keys outside allowed (NULL-terminated): a typo must not pass silently. */
static int only_keys(const json_t *o, const char *where, const char *const *allowed)
{
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)o, k, v) {
		size_t i;
		for (i = 0; allowed[i] && strcmp(allowed[i], k) != 0; i++)
			;
		if (!allowed[i]) {
			cocoon_buf b = { 0 };
			int err;
			for (i = 0; allowed[i]; i++)
				cocoon_buf_printf(&b, "%s%s", i ? ", " : "", allowed[i]);
			err = bad(where, "unknown key \"%.64s\" (known: %s)", k, b.data ? (char *)b.data : "");
			cocoon_buf_free(&b);
			return err;
		}
	}
	return 0;
}

/* A string of 1..max bytes (jansson already refuses embedded NULs). */
static int get_str(char **out, const json_t *v, const char *key, size_t max)
{
	if (!json_is_string(v))
		return bad(key, "expected a string");
	if (json_string_length(v) == 0)
		return bad(key, "must not be empty");
	if (json_string_length(v) > max)
		return bad(key, "longer than %zu bytes", max);
	if (!(*out = strdup(json_string_value(v))))
		return cocoon_error_set(COCOON_ENOMEM, "launch configuration: out of memory");
	return 0;
}

static int get_uint(unsigned long long *out, const json_t *v, const char *key, unsigned long long max)
{
	if (!json_is_integer(v) || json_integer_value(v) < 0 || (unsigned long long)json_integer_value(v) > max)
		return bad(key, "expected an integer from 0 to %llu", max);
	*out = (unsigned long long)json_integer_value(v);
	return 0;
}

static int absolute_path(const char *p, const char *key)
{
	if (p[0] != '/')
		return bad(key, "\"%.128s\" is not an absolute path", p);
	for (const char *s = p; *s; s++)
		if (s[0] == '/' && s[1] == '.' && s[2] == '.' && (s[3] == '/' || s[3] == '\0'))
			return bad(key, "\"%.128s\" contains \"..\"", p);
	return 0;
}

/* localhost, [::1] or a numeric 127.x address: "127.evil.example" is a name, not loopback. */
static int is_loopback_host(const char *h, size_t n)
{
	if ((n == 9 && memcmp(h, "localhost", 9) == 0) || (n == 5 && memcmp(h, "[::1]", 5) == 0))
		return 1;
	if (n < 5 || memcmp(h, "127.", 4) != 0)
		return 0;
	for (size_t i = 4; i < n; i++)
		if (!isdigit((unsigned char)h[i]) && h[i] != '.')
			return 0;
	return 1;
}

/* https:// anywhere; http:// only to loopback or with simulated evidence. */
static int check_url(const char *url, int sim)
{
	const char *host, *end;
	int plain;

	if (strncmp(url, "https://", 8) == 0)
		plain = 0;
	else if (strncmp(url, "http://", 7) == 0)
		plain = 1;
	else
		return bad("broker.url", "\"%.128s\" must start with https:// (or http:// to loopback)", url);
	host = url + (plain ? 7 : 8);
	if (*host == '[') {
		end = strchr(host, ']');
		end = end ? end + 1 : host + strlen(host);
	} else {
		end = host + strcspn(host, ":/?#");
	}
	if (end == host)
		return bad("broker.url", "\"%.128s\" has no host", url);
	/* No user@host: "http://127.0.0.1@evil.example" would otherwise pass as loopback. */
	if (strchr(url, '@'))
		return bad("broker.url", "user information (@) is not allowed in the URL");
	for (const char *p = url; *p; p++)
		if (!isprint((unsigned char)*p) || *p == ' ')
			return bad("broker.url", "contains a space or control character");
	if (plain && !sim && !is_loopback_host(host, (size_t)(end - host)))
		return bad("broker.url",
		           "plain http:// is allowed only to a loopback address or with the sim provider; "
		           "use https:// with broker.ca");
	return 0;
}

static int parse_broker(cocoon_run_config *c, const json_t *b, int sim)
{
	static const char *const keys[] = { "url", "ca", NULL };
	const json_t *ca;
	int err;

	if (!json_is_object(b))
		return bad("broker", "expected an object with url and ca");
	if ((err = only_keys(b, "broker", keys)) != 0 ||
	    (err = get_str(&c->broker_url, json_object_get(b, "url"), "broker.url", MAX_URL)) != 0 ||
	    (err = check_url(c->broker_url, sim)) != 0)
		return err;
	ca = json_object_get(b, "ca");
	if (ca) {
		if ((err = get_str(&c->broker_ca, ca, "broker.ca", MAX_PATH_LEN)) != 0 ||
		    (err = absolute_path(c->broker_ca, "broker.ca")) != 0)
			return err;
	} else if (strncmp(c->broker_url, "https://", 8) == 0) {
		return bad("broker.ca", "required with https:// (the CA bundle that signed the broker's certificate)");
	}
	return 0;
}

static int parse_tee(cocoon_tee *out, const json_t *v)
{
	const char *s = json_string_value(v);
	if (!s)
		return bad("evidence.tee", "expected \"sgx\", \"tdx\" or \"snp\"");
	if (strcmp(s, "sgx") == 0)
		*out = COCOON_TEE_SGX;
	else if (strcmp(s, "tdx") == 0)
		*out = COCOON_TEE_TDX;
	else if (strcmp(s, "snp") == 0)
		*out = COCOON_TEE_SNP;
	else
		return bad("evidence.tee", "\"%.32s\" is not \"sgx\", \"tdx\" or \"snp\"", s);
	return 0;
}

static int parse_evidence(cocoon_run_config *c, const json_t *e)
{
	static const char *const keys[] = { "provider", "tee", "sim_dir", NULL };
	static const char *const names[][2] = { { "auto", "auto" }, { "tsm", "configfs-tsm" },
		{ "sev-guest", "sev-guest" }, { "tdx-guest", "tdx-guest" }, { "gramine", "gramine" }, { "sim", "sim" } };
	const char *p = "auto";
	const json_t *v;
	int err;

	if (e && !json_is_object(e))
		return bad("evidence", "expected an object");
	if (e && (err = only_keys(e, "evidence", keys)) != 0)
		return err;
	if (e && (v = json_object_get(e, "provider"))) {
		if (!(p = json_string_value(v)))
			return bad("evidence.provider", "expected a string");
	}
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]) && !c->provider; i++)
		if (strcmp(names[i][0], p) == 0 && !(c->provider = strdup(names[i][1])))
			return cocoon_error_set(COCOON_ENOMEM, "launch configuration: out of memory");
	if (!c->provider)
		return bad("evidence.provider", "\"%.32s\" is not one of auto, tsm, sev-guest, tdx-guest, gramine, sim",
		           p);
	if (e && (v = json_object_get(e, "tee")) && (err = parse_tee(&c->tee, v)) != 0)
		return err;
	v = e ? json_object_get(e, "sim_dir") : NULL;
	if (strcmp(c->provider, "sim") == 0) {
		if (!v)
			return bad("evidence.sim_dir", "required with provider \"sim\" (a 'cocoon sim init' directory)");
		if ((err = get_str(&c->sim_dir, v, "evidence.sim_dir", MAX_PATH_LEN)) != 0 ||
		    (err = absolute_path(c->sim_dir, "evidence.sim_dir")) != 0)
			return err;
	} else if (v) {
		return bad("evidence.sim_dir", "only allowed with provider \"sim\" (auto never uses the simulator)");
	}
	return 0;
}

/* repo/type/tag: three non-empty segments of [A-Za-z0-9._-], none "." or "..". */
int cocoon_run__valid_resource_path(const char *p, size_t len)
{
	size_t seg = 0, segs = 1;
	if (len == 0 || len > COCOON_RUN__MAX_RESOURCE_PATH)
		return 0;
	for (size_t i = 0; i <= len; i++) {
		if (i == len || p[i] == '/') {
			if (seg == 0 || (seg == 1 && p[i - 1] == '.') || (seg == 2 && p[i - 1] == '.' && p[i - 2] == '.'))
				return 0;
			if (i < len)
				segs++;
			seg = 0;
			continue;
		}
		if (!isalnum((unsigned char)p[i]) && p[i] != '.' && p[i] != '_' && p[i] != '-')
			return 0;
		seg++;
	}
	return segs == 3;
}

static int valid_env_name(const char *s)
{
	if (!(isalpha((unsigned char)s[0]) || s[0] == '_'))
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_')
			return 0;
	return 1;
}

static int valid_file_name(const char *s)
{
	if (s[0] == '.')
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '.' && *s != '_' && *s != '-')
			return 0;
	return 1;
}

/* "0400"-style octal text: JSON has no octal, and 400 versus 0400 is a classic slip. */
static int parse_mode(unsigned int *out, const json_t *v, const char *key)
{
	const char *s = json_string_value(v);
	unsigned int m = 0;
	size_t n;

	if (!s)
		return bad(key, "expected an octal string such as \"0400\"");
	n = strlen(s);
	if (n < 3 || n > 4)
		return bad(key, "\"%.16s\" is not an octal mode such as \"0400\"", s);
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '7')
			return bad(key, "\"%.16s\" is not an octal mode such as \"0400\"", s);
		m = m * 8 + (unsigned int)(s[i] - '0');
	}
	if (m & ~0777u)
		return bad(key, "\"%s\" sets setuid, setgid or sticky bits; only permission bits are allowed", s);
	*out = m;
	return 0;
}

static int parse_file(cocoon_run_resource *r, const json_t *f, const char *where)
{
	static const char *const keys[] = { "name", "mode", "uid", "gid", NULL };
	unsigned long long id;
	const json_t *v;
	char key[96];
	int err;

	snprintf(key, sizeof(key), "%s.file", where);
	if (!json_is_object(f))
		return bad(key, "expected an object {\"name\", \"mode\", \"uid\", \"gid\"}");
	if ((err = only_keys(f, key, keys)) != 0)
		return err;
	snprintf(key, sizeof(key), "%s.file.name", where);
	if ((err = get_str(&r->file, json_object_get(f, "name"), key, MAX_NAME)) != 0)
		return err;
	if (!valid_file_name(r->file))
		return bad(key, "\"%.64s\" must be a plain file name ([A-Za-z0-9._-], not starting with a dot)",
		           r->file);
	r->mode = 0400;
	snprintf(key, sizeof(key), "%s.file.mode", where);
	if ((v = json_object_get(f, "mode")) && (err = parse_mode(&r->mode, v, key)) != 0)
		return err;
	snprintf(key, sizeof(key), "%s.file.uid", where);
	if ((v = json_object_get(f, "uid"))) {
		if ((err = get_uint(&id, v, key, 0xfffffffeULL)) != 0)
			return err;
		r->uid = (uid_t)id;
	}
	snprintf(key, sizeof(key), "%s.file.gid", where);
	if ((v = json_object_get(f, "gid"))) {
		if ((err = get_uint(&id, v, key, 0xfffffffeULL)) != 0)
			return err;
		r->gid = (gid_t)id;
	}
	return 0;
}

static int parse_resource(cocoon_run_resource *r, const json_t *o, size_t i)
{
	static const char *const keys[] = { "path", "env", "file", NULL };
	char where[48], key[64];
	const json_t *v;
	int err;

	snprintf(where, sizeof(where), "resources[%zu]", i);
	if (!json_is_object(o))
		return bad(where, "expected an object {\"path\", \"env\", \"file\"}");
	if ((err = only_keys(o, where, keys)) != 0)
		return err;
	snprintf(key, sizeof(key), "%s.path", where);
	if ((err = get_str(&r->path, json_object_get(o, "path"), key, COCOON_RUN__MAX_RESOURCE_PATH)) != 0)
		return err;
	if (!cocoon_run__valid_resource_path(r->path, strlen(r->path)))
		return bad(key, "\"%.128s\" is not repo/type/tag (three segments of [A-Za-z0-9._-])", r->path);
	if ((v = json_object_get(o, "env"))) {
		snprintf(key, sizeof(key), "%s.env", where);
		if ((err = get_str(&r->env, v, key, MAX_ENV_NAME)) != 0)
			return err;
		if (!valid_env_name(r->env))
			return bad(key, "\"%.64s\" is not a variable name ([A-Za-z_][A-Za-z0-9_]*)", r->env);
	}
	if ((v = json_object_get(o, "file")) && (err = parse_file(r, v, where)) != 0)
		return err;
	return 0;
}

/* One entry per resource path, one owner per variable and per file name. */
static int check_unique(const cocoon_run_config *c)
{
	for (size_t i = 0; i < c->n_resources; i++) {
		const cocoon_run_resource *a = &c->resources[i];
		for (size_t j = 0; j < i; j++) {
			const cocoon_run_resource *b = &c->resources[j];
			if (strcmp(a->path, b->path) == 0)
				return bad("resources", "\"%.128s\" is listed twice; give one entry both env and file",
				           a->path);
			if (a->env && b->env && strcmp(a->env, b->env) == 0)
				return bad("resources", "variable %.64s is set by two resources", a->env);
			if (a->file && b->file && strcmp(a->file, b->file) == 0)
				return bad("resources", "file %.64s is written by two resources", a->file);
		}
		for (size_t j = 0; a->env && j < c->n_env; j++)
			if (strcmp(a->env, c->env_names[j]) == 0)
				return bad("env", "%.64s is also set by resource \"%.128s\"", a->env, a->path);
	}
	return 0;
}

static int parse_resources(cocoon_run_config *c, const json_t *a)
{
	int err;

	if (!json_is_array(a))
		return bad("resources", "expected an array");
	if (json_array_size(a) > COCOON_RUN_MAX_RESOURCES)
		return bad("resources", "more than %d entries", COCOON_RUN_MAX_RESOURCES);
	if (json_array_size(a) == 0)
		return 0;
	if (!(c->resources = calloc(json_array_size(a), sizeof(*c->resources))))
		return cocoon_error_set(COCOON_ENOMEM, "launch configuration: out of memory");
	for (size_t i = 0; i < json_array_size(a); i++) {
		c->n_resources = i + 1;
		if ((err = parse_resource(&c->resources[i], json_array_get(a, i), i)) != 0)
			return err;
	}
	return 0;
}

static int parse_command(cocoon_run_config *c, const json_t *a)
{
	char key[32];
	int err;

	if (!json_is_array(a) || json_array_size(a) == 0)
		return bad("command", "expected a non-empty array of strings (argv)");
	if (json_array_size(a) > COCOON_RUN_MAX_ARGS)
		return bad("command", "more than %d arguments", COCOON_RUN_MAX_ARGS);
	if (!(c->command = calloc(json_array_size(a) + 1, sizeof(char *))))
		return cocoon_error_set(COCOON_ENOMEM, "launch configuration: out of memory");
	for (size_t i = 0; i < json_array_size(a); i++) {
		const json_t *v = json_array_get(a, i);
		snprintf(key, sizeof(key), "command[%zu]", i);
		/* Arguments may be empty strings, the program name may not. */
		if (i > 0 && json_is_string(v) && json_string_length(v) == 0)
			err = (c->command[i] = strdup("")) ? 0 : cocoon_error_set(COCOON_ENOMEM, "out of memory");
		else
			err = get_str(&c->command[i], v, key, MAX_VALUE);
		if (err != 0)
			return err;
		c->command_len = i + 1;
	}
	return 0;
}

static int parse_env(cocoon_run_config *c, const json_t *o)
{
	const char *k;
	json_t *v;
	size_t i = 0;
	char key[160];

	if (!json_is_object(o))
		return bad("env", "expected an object of NAME: \"value\"");
	if (json_object_size(o) > COCOON_RUN_MAX_ARGS)
		return bad("env", "more than %d variables", COCOON_RUN_MAX_ARGS);
	if (!(c->env_names = calloc(json_object_size(o) + 1, sizeof(char *))) ||
	    !(c->env_values = calloc(json_object_size(o) + 1, sizeof(char *))))
		return cocoon_error_set(COCOON_ENOMEM, "launch configuration: out of memory");
	json_object_foreach((json_t *)o, k, v) {
		snprintf(key, sizeof(key), "env.%.128s", k);
		if (strlen(k) > MAX_ENV_NAME || !valid_env_name(k))
			return bad(key, "not a variable name ([A-Za-z_][A-Za-z0-9_]*)");
		if (!json_is_string(v) || json_string_length(v) > MAX_VALUE)
			return bad(key, "expected a string of at most %d bytes", MAX_VALUE);
		if (!(c->env_names[i] = strdup(k)) || !(c->env_values[i] = strdup(json_string_value(v))))
			return cocoon_error_set(COCOON_ENOMEM, "launch configuration: out of memory");
		c->n_env = ++i;
	}
	return 0;
}

static int parse_retry(cocoon_run_config *c, const json_t *o)
{
	static const char *const keys[] = { "deadline_seconds", NULL };
	unsigned long long d;
	const json_t *v;
	int err;

	if (!json_is_object(o))
		return bad("retry", "expected an object {\"deadline_seconds\": N}");
	if ((err = only_keys(o, "retry", keys)) != 0)
		return err;
	if ((v = json_object_get(o, "deadline_seconds"))) {
		if ((err = get_uint(&d, v, "retry.deadline_seconds", COCOON_RUN_MAX_DEADLINE)) != 0)
			return err;
		c->retry_deadline_s = (unsigned int)d;
	}
	return 0;
}

/* Every template must parse and name a configured resource, before anything runs. */
static int check_templates(const cocoon_run_config *c)
{
	const char **known = NULL;
	int err = 0;

	if (c->n_resources && !(known = calloc(c->n_resources, sizeof(*known))))
		return cocoon_error_set(COCOON_ENOMEM, "launch configuration: out of memory");
	for (size_t i = 0; i < c->n_resources; i++)
		known[i] = c->resources[i].path;
	for (size_t i = 0; i < c->command_len && err == 0; i++)
		if ((err = cocoon_run_template_expand(NULL, c->command[i], NULL, 0, known, c->n_resources)) != 0)
			err = cocoon_error_set(COCOON_EFORMAT, "launch configuration: command[%zu]: %s", i,
			                       cocoon_error_last()->message);
	for (size_t i = 0; i < c->n_env && err == 0; i++)
		if ((err = cocoon_run_template_expand(NULL, c->env_values[i], NULL, 0, known, c->n_resources)) != 0)
			err = cocoon_error_set(COCOON_EFORMAT, "launch configuration: env.%.128s: %s", c->env_names[i],
			                       cocoon_error_last()->message);
	free(known);
	return err;
}

static int parse_root(cocoon_run_config *c, const json_t *root)
{
	static const char *const keys[] = { "version", "broker", "evidence", "secrets_dir", "resources", "env",
		                            "command", "init_data", "retry", NULL };
	const json_t *v;
	int err;

	if (!json_is_object(root))
		return bad("(top level)", "expected a JSON object");
	if ((err = only_keys(root, "(top level)", keys)) != 0)
		return err;
	v = json_object_get(root, "version");
	if (!json_is_integer(v) || json_integer_value(v) != 1)
		return bad("version", "required, and must be 1");
	if ((err = parse_evidence(c, json_object_get(root, "evidence"))) != 0)
		return err;
	if ((v = json_object_get(root, "broker")) && (err = parse_broker(c, v, strcmp(c->provider, "sim") == 0)) != 0)
		return err;
	if ((v = json_object_get(root, "secrets_dir"))) {
		if ((err = get_str(&c->secrets_dir, v, "secrets_dir", MAX_PATH_LEN)) != 0 ||
		    (err = absolute_path(c->secrets_dir, "secrets_dir")) != 0)
			return err;
	} else if (!(c->secrets_dir = strdup(COCOON_RUN_DEFAULT_SECRETS_DIR))) {
		return cocoon_error_set(COCOON_ENOMEM, "launch configuration: out of memory");
	}
	if ((v = json_object_get(root, "resources")) && (err = parse_resources(c, v)) != 0)
		return err;
	if (c->n_resources && !c->broker_url)
		return bad("broker", "required when resources are configured");
	if ((v = json_object_get(root, "env")) && (err = parse_env(c, v)) != 0)
		return err;
	if ((v = json_object_get(root, "command")) && (err = parse_command(c, v)) != 0)
		return err;
	if ((v = json_object_get(root, "init_data"))) {
		if ((err = get_str(&c->init_data, v, "init_data", COCOON_RUN_MAX_INIT_DATA)) != 0)
			return err;
		c->init_data_len = strlen(c->init_data);
	}
	c->retry_deadline_s = DEFAULT_DEADLINE;
	if ((v = json_object_get(root, "retry")) && (err = parse_retry(c, v)) != 0)
		return err;
	if ((err = check_unique(c)) != 0)
		return err;
	return check_templates(c);
}

int cocoon_run_config_parse(cocoon_run_config **out, const char *json, size_t len)
{
	cocoon_run_config *c = NULL;
	json_error_t jerr;
	json_t *root = NULL;
	int err;

	if (!out)
		return cocoon_error_set(COCOON_EINVAL, "launch configuration: no output given");
	*out = NULL;
	if (!json)
		return cocoon_error_set(COCOON_EINVAL, "launch configuration: no text given");
	if (len > COCOON_RUN_MAX_CONFIG)
		return cocoon_error_set(COCOON_EFORMAT, "launch configuration: larger than %d bytes",
		                        COCOON_RUN_MAX_CONFIG);
	if (!(root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr))) {
		err = cocoon_error_set(COCOON_EFORMAT, "launch configuration: invalid JSON at line %d column %d: %s",
		                       jerr.line, jerr.column, jerr.text);
		goto done;
	}
	if (!(c = calloc(1, sizeof(*c)))) {
		err = cocoon_error_set(COCOON_ENOMEM, "launch configuration: out of memory");
		goto done;
	}
	if ((err = parse_root(c, root)) != 0)
		goto done;
	*out = c;
	c = NULL;
done:
	cocoon_run_config_free(c);
	json_decref(root);
	return err;
}

int cocoon_run_config_load(cocoon_run_config **out, const char *path)
{
	uint8_t *text = NULL;
	size_t len = 0;
	int err;

	if (out)
		*out = NULL;
	if ((err = cocoon_file_read(&text, &len, path)) != 0)
		return err;
	if ((err = cocoon_run_config_parse(out, (const char *)text, len)) != 0)
		err = cocoon_error_set(err, "%s: %s", path, cocoon_error_last()->message);
	cocoon_zeroize(text, len);
	free(text);
	return err;
}

/* The vectors are calloc'ed one longer than filled, so NULL ends them even after a failure. */
static void free_strv(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

void cocoon_run_config_free(cocoon_run_config *c)
{
	if (!c)
		return;
	free(c->broker_url);
	free(c->broker_ca);
	free(c->provider);
	free(c->sim_dir);
	free(c->secrets_dir);
	for (size_t i = 0; i < c->n_resources; i++) {
		free(c->resources[i].path);
		free(c->resources[i].env);
		free(c->resources[i].file);
	}
	free(c->resources);
	free_strv(c->command);
	free_strv(c->env_names);
	free_strv(c->env_values);
	free(c->init_data);
	free(c);
}

const char *cocoon_run_exit_name(int code)
{
	switch (code) {
	case COCOON_RUN_EXIT_CONFIG: return "configuration";
	case COCOON_RUN_EXIT_NO_TEE: return "no TEE evidence";
	case COCOON_RUN_EXIT_BROKER: return "broker unreachable";
	case COCOON_RUN_EXIT_ATTESTATION: return "attestation refused";
	case COCOON_RUN_EXIT_POLICY: return "policy denied";
	case COCOON_RUN_EXIT_RESOURCE: return "resource missing";
	case COCOON_RUN_EXIT_INJECT: return "injection refused";
	case COCOON_RUN_EXIT_EXEC: return "command not executable";
	case COCOON_RUN_EXIT_NOT_FOUND: return "command not found";
	default: return "unknown";
	}
}
