/*
 * cocoon-attestd storage: a small vtable so that a PostgreSQL backend can
 * sit beside the embedded SQLite one. Each worker thread opens its own
 * connection (cocoon_store), so a backend never needs internal locking.
 *
 * Data model (the same tables in every backend):
 *   meta(name PRIMARY KEY, value)             schema version, write generation
 *   signing_keys(name PRIMARY KEY, alg, key_pem, cert_pem, created)
 *   policies(id, type, text NULL, jws NULL, hash, actor, created)
 *                                            append-only history; the newest row
 *                                            per type is current; text NULL = reset
 *   collateral(kind, key, doc, next_update, updated, PRIMARY KEY(kind, key))
 *
 * Every function returns 0 or a negative cocoon_error_code with the message
 * set; a missing row is COCOON_ENOTFOUND.
 */
#ifndef COCOON_ATTESTD_STORE_H
#define COCOON_ATTESTD_STORE_H

#include <stdint.h>
#include <time.h>

typedef struct cocoon_store cocoon_store;

typedef struct {
	const char *name;
	void (*close)(cocoon_store *s);
	/* A counter bumped by every write from any process sharing the database. */
	int (*generation)(cocoon_store *s, int64_t *out);
	int (*key_get)(cocoon_store *s, const char *name, char **alg, char **key_pem, char **cert_pem);
	int (*key_put)(cocoon_store *s, const char *name, const char *alg, const char *key_pem, const char *cert_pem);
	/* Current policy of a type; *text is NULL after a reset (the default applies). */
	int (*policy_get)(cocoon_store *s, const char *type, char **text, char **jws, int64_t *version);
	int (*policy_put)(cocoon_store *s, const char *type, const char *text, const char *jws, const char *actor);
	int (*policy_history_count)(cocoon_store *s, const char *type, int64_t *out);
	int (*collateral_get)(cocoon_store *s, const char *kind, const char *key, char **doc);
	int (*collateral_put)(cocoon_store *s, const char *kind, const char *key, const char *doc, time_t next_update);
	int (*collateral_count)(cocoon_store *s, const char *kind, int64_t *out);
} cocoon_store_ops;

struct cocoon_store {
	const cocoon_store_ops *ops;
};

/* SQLite: DIR/attestd.db (created with mode 0600, WAL journal). */
int cocoon_store_sqlite_open(cocoon_store **out, const char *data_dir);

#endif
