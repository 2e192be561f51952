/* The configuration file (JSON) and its checks. Every mistake names the key and the file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "common/util.h"
#include "attestd.h"

void attestd_config_init(attestd_config *c)
{
	memset(c, 0, sizeof(*c));
	c->listen = strdup("127.0.0.1:8080");
	c->data_dir = strdup("cocoon-attestd-data");
	c->signing_alg = strdup("RS256");
	c->max_body_bytes = 1024 * 1024;
	c->request_timeout_seconds = 10;
	c->drain_timeout_seconds = 10;
	c->token_lifetime_seconds = 8 * 3600;
	c->kbs_session_seconds = 300;
}

void attestd_config_free(attestd_config *c)
{
	char **strs[] = { &c->config_path, &c->listen, &c->data_dir, &c->database, &c->secret_key_file, &c->issuer, &c->tls_cert, &c->tls_key,
		          &c->signing_alg, &c->signing_key_file, &c->signing_cert_file, &c->admin_token_file, &c->admin_key_file,
		          &c->intel_root_file, &c->trust_sim_dir };
	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
		free(*strs[i]);
		*strs[i] = NULL;
	}
	json_decref(c->collateral_files);
	c->collateral_files = NULL;
}

typedef enum { K_STR, K_INT, K_BOOL, K_PATHS } key_kind;

typedef struct {
	const char *name;
	key_kind kind;
	size_t offset;
	long min, max;              /* K_INT */
} key_spec;

#define S(n, f) { n, K_STR, offsetof(attestd_config, f), 0, 0 }
#define I(n, f, lo, hi) { n, K_INT, offsetof(attestd_config, f), lo, hi }
#define B(n, f) { n, K_BOOL, offsetof(attestd_config, f), 0, 0 }

/* The only keys a file may set. trust_sim_dir and the test-only time are flags, never file keys. */
static const key_spec keys[] = {
	S("listen", listen),
	S("data_dir", data_dir),
	S("database", database),
	S("secret_key", secret_key_file),
	S("issuer", issuer),
	S("tls_cert", tls_cert),
	S("tls_key", tls_key),
	S("signing_alg", signing_alg),
	S("signing_key", signing_key_file),
	S("signing_cert", signing_cert_file),
	S("admin_token_file", admin_token_file),
	S("admin_key", admin_key_file),
	S("intel_root", intel_root_file),
	{ "collateral", K_PATHS, offsetof(attestd_config, collateral_files), 0, 0 },
	I("max_body_bytes", max_body_bytes, 1024, 64L << 20),
	I("request_timeout_seconds", request_timeout_seconds, 1, 3600),
	I("drain_timeout_seconds", drain_timeout_seconds, 0, 3600),
	I("token_lifetime_seconds", token_lifetime_seconds, 60, 366L * 86400),
	I("workers", workers, 0, ATTESTD_MAX_WORKERS),
	B("allow_debug", allow_debug),
	I("kbs_session_seconds", kbs_session_seconds, 1, 86400),
	B("insecure_http", insecure_http),
};

static int set_key(attestd_config *c, const key_spec *k, json_t *v, const char *path)
{
	char *base = (char *)c + k->offset;

	switch (k->kind) {
	case K_STR:
		if (!json_is_string(v) || json_string_length(v) == 0)
			return cocoon_error_set(COCOON_EFORMAT, "%s: \"%s\" must be a non-empty string", path, k->name);
		free(*(char **)base);
		if (!(*(char **)base = strdup(json_string_value(v))))
			return cocoon_error_set(COCOON_ENOMEM, "out of memory");
		return 0;
	case K_INT: {
		json_int_t n;
		if (!json_is_integer(v) || (n = json_integer_value(v)) < k->min || n > k->max)
			return cocoon_error_set(COCOON_EFORMAT, "%s: \"%s\" must be an integer from %ld to %ld", path,
			                        k->name, k->min, k->max);
		if (strcmp(k->name, "max_body_bytes") == 0)
			*(size_t *)base = (size_t)n;
		else
			*(int *)base = (int)n;
		return 0;
	}
	case K_BOOL:
		if (!json_is_boolean(v))
			return cocoon_error_set(COCOON_EFORMAT, "%s: \"%s\" must be true or false", path, k->name);
		*(int *)base = json_is_true(v);
		return 0;
	case K_PATHS: {
		size_t i;
		json_t *e;
		if (!json_is_array(v))
			return cocoon_error_set(COCOON_EFORMAT, "%s: \"%s\" must be an array of paths", path, k->name);
		json_array_foreach(v, i, e) {
			if (!json_is_string(e))
				return cocoon_error_set(COCOON_EFORMAT, "%s: \"%s\"[%zu] must be a path string", path,
				                        k->name, i);
		}
		json_decref(*(json_t **)base);
		*(json_t **)base = json_incref(v);
		return 0;
	}
	}
	return cocoon_error_set(COCOON_EINTERNAL, "config: unknown key kind");
}

int attestd_config_load(attestd_config *c, const char *path)
{
	json_error_t jerr;
	json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	int err;

	if (!root) {
		if (jerr.line < 0 || access(path, R_OK) != 0)
			return cocoon_error_set(COCOON_EIO, "%s: cannot read the configuration file: %s", path, jerr.text);
		return cocoon_error_set(COCOON_EFORMAT, "%s:%d:%d: invalid JSON: %s", path, jerr.line, jerr.column,
		                        jerr.text);
	}
	err = attestd_config_apply(c, root, path);
	json_decref(root);
	return err;
}

int attestd_config_apply(attestd_config *c, json_t *root, const char *path)
{
	json_t *v;
	const char *name;
	int err = 0;

	if (!json_is_object(root)) {
		err = cocoon_error_set(COCOON_EFORMAT, "%s: the configuration must be a JSON object", path);
		goto done;
	}
	json_object_foreach(root, name, v) {
		const key_spec *k = NULL;
		for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			if (strcmp(keys[i].name, name) == 0)
				k = &keys[i];
		if (!k) {
			if (strcmp(name, "trust_sim") == 0 || strncmp(name, "test_only", 9) == 0)
				err = cocoon_error_set(COCOON_EFORMAT, "%s: \"%s\" cannot be set in a configuration file; "
				                       "development and test options are command-line flags only", path,
				                       name);
			else
				err = cocoon_error_set(COCOON_EFORMAT, "%s: unknown key \"%.64s\" (see docs/attestd.md for "
				                       "the keys)", path, name);
			goto done;
		}
		if ((err = set_key(c, k, v, path)) != 0)
			goto done;
	}
	free(c->config_path);
	c->config_path = strdup(path);
done:
	return err;
}

static int readable(const char *what, const char *path)
{
	if (path && access(path, R_OK) != 0)
		return cocoon_error_set(COCOON_EIO, "%s '%s' is not readable: %m", what, path);
	return 0;
}

int attestd_config_check(const attestd_config *c)
{
	const char *src = c->config_path ? c->config_path : "flags";
	size_t i;
	json_t *e;
	int err;

	if (!!c->tls_cert != !!c->tls_key)
		return cocoon_error_set(COCOON_EFORMAT, "%s: tls_cert and tls_key go together (got only %s)", src,
		                        c->tls_cert ? "tls_cert" : "tls_key");
	if (strcmp(c->signing_alg, "RS256") != 0 && strcmp(c->signing_alg, "ES256") != 0 &&
	    strcmp(c->signing_alg, "PS256") != 0)
		return cocoon_error_set(COCOON_EFORMAT, "%s: signing_alg '%s' is not supported; use RS256, PS256 or "
		                        "ES256", src, c->signing_alg);
	if (c->signing_cert_file && !c->signing_key_file)
		return cocoon_error_set(COCOON_EFORMAT, "%s: signing_cert needs signing_key", src);
	if (!strchr(c->listen, ':'))
		return cocoon_error_set(COCOON_EFORMAT, "%s: listen '%s' must be ADDR:PORT", src, c->listen);
	if (c->database && strncmp(c->database, "sqlite:", 7) != 0 && strncmp(c->database, "postgresql://", 13) != 0 &&
	    strncmp(c->database, "postgres://", 11) != 0)
		return cocoon_error_set(COCOON_EFORMAT, "%s: database must be sqlite:PATH, postgresql://... or "
		                        "postgres://... (got a URL with another scheme)", src);
	if (c->issuer && strncmp(c->issuer, "https://", 8) != 0 && strncmp(c->issuer, "http://", 7) != 0)
		return cocoon_error_set(COCOON_EFORMAT, "%s: issuer '%s' must be an http:// or https:// URL", src,
		                        c->issuer);
	if ((err = readable("tls_cert", c->tls_cert)) || (err = readable("tls_key", c->tls_key)) ||
	    (err = readable("signing_key", c->signing_key_file)) ||
	    (err = readable("signing_cert", c->signing_cert_file)) ||
	    (err = readable("admin_token_file", c->admin_token_file)) ||
	    (err = readable("intel_root", c->intel_root_file)) ||
	    (err = readable("secret_key", c->secret_key_file)))
		return err;
	json_array_foreach(c->collateral_files, i, e) {
		if ((err = readable("collateral", json_string_value(e))) != 0)
			return err;
	}
	return 0;
}
