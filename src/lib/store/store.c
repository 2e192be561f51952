/* The store's front door: picks the backend from the URL, and the sealing rules both backends share. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "common/util.h"
#include "store_int.h"

int cocoon_store_open(cocoon_store **out, const char *url, const cocoon_store_options *opts)
{
	cocoon_store_options def = COCOON_STORE_OPTIONS_INIT;

	*out = NULL;
	if (!opts)
		opts = &def;
	if (opts->version != COCOON_STORE_OPTIONS_VERSION)
		return cocoon_error_set(COCOON_EINVAL, "cocoon_store_options: version %u, expected %u", opts->version,
		                        COCOON_STORE_OPTIONS_VERSION);
	if (!url || !*url)
		return cocoon_error_set(COCOON_EINVAL, "database: no URL (expected sqlite:PATH or postgresql://...)");
	if (strncmp(url, "sqlite:", 7) == 0) {
		if (!url[7])
			return cocoon_error_set(COCOON_EINVAL, "database '%s': sqlite: needs a file path", url);
		return cocoon_store__sqlite_open(out, url + 7, opts);
	}
	if (strncmp(url, "postgresql://", 13) == 0 || strncmp(url, "postgres://", 11) == 0)
		return cocoon_store__pg_open(out, url, opts);
	return cocoon_error_set(COCOON_EINVAL, "database '%.64s': unknown scheme; expected sqlite:PATH, "
	                        "postgresql://... or postgres://...", url);
}

int cocoon_store_sqlite_open(cocoon_store **out, const char *data_dir)
{
	cocoon_store_options o = COCOON_STORE_OPTIONS_INIT;
	char *path = NULL;
	int err;

	*out = NULL;
	if (mkdir(data_dir, 0700) != 0 && errno != EEXIST)
		return cocoon_error_set(COCOON_EIO, "data directory '%s' cannot be created: %s", data_dir, strerror(errno));
	if (asprintf(&path, "%s/attestd.db", data_dir) < 0)
		return cocoon_error_set(COCOON_ENOMEM, "out of memory");
	err = cocoon_store__sqlite_open(out, path, &o);
	free(path);
	return err;
}

void cocoon_store_close(cocoon_store *s)
{
	if (s)
		s->ops->close(s);
}

int cocoon_store_schema_version(cocoon_store *s, int64_t *out)
{
	return s->ops->schema_version(s, out);
}

void cocoon_store_session_clear(cocoon_store_session *s)
{
	if (!s)
		return;
	free(s->id);
	free(s->tee);
	free(s->nonce);
	free(s->state);
	free(s->claims);
	free(s->token);
	free(s->tee_pubkey);
	memset(s, 0, sizeof(*s));
}

void cocoon_store__free_secret(char *p)
{
	if (!p)
		return;
	cocoon_zeroize(p, strlen(p));
	free(p);
}

int cocoon_store__aad_resource(char **out, const char *repo, const char *type, const char *tag)
{
	if (!repo || !type || !tag || !*repo || !*type || !*tag)
		return cocoon_error_set(COCOON_EINVAL, "resource: repo, type and tag must be non-empty");
	if (strchr(repo, '/') || strchr(type, '/') || strchr(tag, '/'))
		return cocoon_error_set(COCOON_EINVAL, "resource %s/%s/%s: a segment may not contain '/'", repo, type,
		                        tag);
	if (asprintf(out, "resource:%s/%s/%s", repo, type, tag) < 0)
		return cocoon_error_set(COCOON_ENOMEM, "out of memory");
	return 0;
}

int cocoon_store__aad_key(char **out, const char *name)
{
	if (asprintf(out, "signing-key:%s", name) < 0)
		return cocoon_error_set(COCOON_ENOMEM, "out of memory");
	return 0;
}

int cocoon_store__seal_key(uint8_t **sealed, size_t *sealed_len, const cocoon_kek *kek, const char *name,
                           const char *key_pem)
{
	char *aad = NULL;
	int err;

	*sealed = NULL;
	*sealed_len = 0;
	if (!kek)
		return 0;
	if ((err = cocoon_store__aad_key(&aad, name)) == 0)
		err = cocoon_secret_seal(sealed, sealed_len, kek, aad, (const uint8_t *)key_pem, strlen(key_pem));
	free(aad);
	return err;
}

int cocoon_store__open_key(char **key_pem, const cocoon_kek *kek, const char *name, const uint8_t *sealed,
                           size_t sealed_len, const char *plain)
{
	uint8_t *pt = NULL;
	size_t len = 0;
	char *aad = NULL;
	int err;

	*key_pem = NULL;
	if (!sealed) {
		/* Written before a KEK was configured (or without one): kept as it was. */
		if (!plain || !*plain)
			return cocoon_error_set(COCOON_EFORMAT, "database: signing key '%s' has no key material", name);
		if (!(*key_pem = strdup(plain)))
			return cocoon_error_set(COCOON_ENOMEM, "out of memory");
		return 0;
	}
	if (!kek)
		return cocoon_error_set(COCOON_EINVAL, "database: signing key '%s' is sealed under a secret key; start "
		                        "with --secret-key FILE (the same key file as when it was stored)", name);
	if ((err = cocoon_store__aad_key(&aad, name)) != 0)
		return err;
	err = cocoon_secret_open(&pt, &len, kek, aad, sealed, sealed_len);
	free(aad);
	if (err)
		return err;
	if (memchr(pt, '\0', len)) {
		cocoon_zeroize(pt, len);
		free(pt);
		return cocoon_error_set(COCOON_EFORMAT, "database: signing key '%s' is not a PEM text", name);
	}
	*key_pem = (char *)pt; /* cocoon_secret_open NUL-terminates */
	return 0;
}
