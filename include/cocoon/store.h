/*
 * cocoon store: attestd's state in SQLite or PostgreSQL behind one interface.
 *
 * A cocoon_store is one connection. It is not thread-safe: each worker thread
 * opens its own (cocoon_store_open), so no backend needs internal locking.
 * Replicas share a PostgreSQL database; every "only once" rule (a nonce, a
 * session's attestation) is enforced by the database, never in memory.
 *
 * Tables (the same in both backends, created by versioned migrations):
 *   schema_migrations(version, applied)           one row per applied migration
 *   meta(name, value)                               'generation': bumped by cached-data writes
 *   signing_keys(name, alg, key_pem, cert_pem, created, key_sealed)
 *   policies(id, type, text, jws, actor, created)   append-only; newest row per type is current
 *   collateral(kind, key, doc, next_update, updated)
 *   resources(repo, type, tag, value, created, updated)   value sealed under the KEK
 *   sessions(id, tee, nonce, created, expires, state, claims, token, tee_pubkey)
 *   used_nonces(nonce UNIQUE, used, expires)
 *
 * Secrets (resource values; the signing key when a KEK is given) are sealed
 * with AES-256-GCM under a key-encryption key: a dump of the database alone
 * reveals none of them.
 *
 * Every function returns 0 or a negative cocoon_error_code with the message
 * set. A missing row is COCOON_ENOTFOUND; a PostgreSQL server that cannot be
 * reached is COCOON_EUNAVAILABLE (answer 503; the next call reconnects); a
 * nonce or session that was already used is COCOON_EREJECT.
 */
#ifndef COCOON_STORE_H
#define COCOON_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include "cocoon/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The newest schema this build knows; a database at a newer version is refused. */
#define COCOON_STORE_SCHEMA_VERSION 2

/* Policy types of the key broker, kept in the same versioned history as the MAA types. */
#define COCOON_STORE_POLICY_KBS_RESOURCE "kbs-resource"
#define COCOON_STORE_POLICY_KBS_ATTESTATION "kbs-attestation"

/* Session states. */
#define COCOON_STORE_SESSION_CHALLENGED "challenged"
#define COCOON_STORE_SESSION_ATTESTED "attested"

/* The key-encryption key: 32 bytes, immutable once loaded, shared by every connection. */
typedef struct cocoon_kek cocoon_kek;

/* Reads a KEK file: exactly 32 bytes, mode 0600, owned by the effective user. */
COCOON_API int cocoon_kek_load(cocoon_kek **out, const char *path);
COCOON_API int cocoon_kek_from_bytes(cocoon_kek **out, const uint8_t key[32]);
COCOON_API void cocoon_kek_free(cocoon_kek *k);

/*
 * The envelope: version (0x01) | IV (12 random bytes) | ciphertext | tag (16).
 * aad binds the sealed value to where it is stored (e.g. "resource:repo/type/tag"),
 * so rows cannot be swapped. Opening fails with COCOON_EREJECT on any tampering,
 * a different aad or a different KEK. *out is freed by the caller (open: after
 * cocoon_zeroize).
 */
#define COCOON_SECRET_ENVELOPE_V1 0x01
#define COCOON_SECRET_OVERHEAD (1 + 12 + 16)
COCOON_API int cocoon_secret_seal(uint8_t **out, size_t *out_len, const cocoon_kek *kek, const char *aad,
                                  const uint8_t *plain, size_t plain_len);
COCOON_API int cocoon_secret_open(uint8_t **out, size_t *out_len, const cocoon_kek *kek, const char *aad,
                                  const uint8_t *sealed, size_t sealed_len);

/* A key-broker session. Strings are owned by the struct (cocoon_store_session_clear). */
typedef struct {
	char *id;
	char *tee;
	char *nonce;
	int64_t created, expires;   /* Unix seconds */
	char *state;                /* COCOON_STORE_SESSION_* */
	char *claims;               /* JSON of the attested claims, or NULL */
	char *token;                /* the attestation token, or NULL */
	char *tee_pubkey;           /* the JWK the guest attested, or NULL */
} cocoon_store_session;

COCOON_API void cocoon_store_session_clear(cocoon_store_session *s);

typedef struct cocoon_store cocoon_store;

/*
 * The operations. Members up to collateral_count are attestd's original
 * interface, kept as they were; callers write s->ops->op(s, ...).
 */
typedef struct {
	const char *name;                 /* "sqlite" or "postgresql" */
	void (*close)(cocoon_store *s);
	/* A counter bumped by every key, policy or collateral write from any process sharing the database. */
	int (*generation)(cocoon_store *s, int64_t *out);
	/* The signing key; key_pem is a secret (zeroize it). Sealed under the KEK when one is configured. */
	int (*key_get)(cocoon_store *s, const char *name, char **alg, char **key_pem, char **cert_pem);
	int (*key_put)(cocoon_store *s, const char *name, const char *alg, const char *key_pem, const char *cert_pem);
	/* Current policy of a type; *text is NULL after a reset (the default applies). version = history id. */
	int (*policy_get)(cocoon_store *s, const char *type, char **text, char **jws, int64_t *version);
	int (*policy_put)(cocoon_store *s, const char *type, const char *text, const char *jws, const char *actor);
	int (*policy_history_count)(cocoon_store *s, const char *type, int64_t *out);
	int (*collateral_get)(cocoon_store *s, const char *kind, const char *key, char **doc);
	int (*collateral_put)(cocoon_store *s, const char *kind, const char *key, const char *doc, time_t next_update);
	int (*collateral_count)(cocoon_store *s, const char *kind, int64_t *out);

	/* Resources: the value is sealed with AAD "resource:repo/type/tag"; needs a KEK. *value: zeroize, free. */
	int (*resource_get)(cocoon_store *s, const char *repo, const char *type, const char *tag, uint8_t **value,
	                    size_t *len);
	int (*resource_put)(cocoon_store *s, const char *repo, const char *type, const char *tag, const uint8_t *value,
	                    size_t len);
	int (*resource_delete)(cocoon_store *s, const char *repo, const char *type, const char *tag);

	/* Sessions: created in state "challenged"; COCOON_EREJECT when the id exists already. */
	int (*session_create)(cocoon_store *s, const cocoon_store_session *sess);
	/* ENOTFOUND when absent or expired at now. */
	int (*session_get)(cocoon_store *s, const char *id, time_t now, cocoon_store_session *out);
	/*
	 * The one atomic step of the handshake: consumes the session's nonce (a
	 * unique insert into used_nonces) and moves the session from "challenged"
	 * to "attested" with its claims, token and key, in one transaction. Only
	 * one caller across every replica can succeed for a nonce: the others get
	 * COCOON_EREJECT, as does evidence bound to another nonce. ENOTFOUND when
	 * the session is absent or expired.
	 */
	int (*session_attest)(cocoon_store *s, const char *id, const char *nonce, time_t now, const char *claims,
	                      const char *token, const char *tee_pubkey);
	int (*session_delete)(cocoon_store *s, const char *id);
	/* Consumes a nonce outside a session: EREJECT when it was used already. */
	int (*nonce_consume)(cocoon_store *s, const char *nonce, time_t now, time_t expires);
	/* Deletes sessions and used nonces that expired before now; *removed may be NULL. */
	int (*purge_expired)(cocoon_store *s, time_t now, int64_t *removed);
	/* The newest migration applied to the database. */
	int (*schema_version)(cocoon_store *s, int64_t *out);
} cocoon_store_ops;

struct cocoon_store {
	const cocoon_store_ops *ops;
};

#define COCOON_STORE_OPTIONS_VERSION 1
typedef struct {
	unsigned int version;
	const cocoon_kek *kek;       /* borrowed; must outlive the store. NULL: no secrets can be kept */
	int busy_timeout_ms;         /* SQLite lock wait; 0: 5000 */
	int connect_timeout_s;       /* PostgreSQL connect timeout; 0: 5 */
} cocoon_store_options;
#define COCOON_STORE_OPTIONS_INIT { .version = COCOON_STORE_OPTIONS_VERSION, .kek = NULL, .busy_timeout_ms = 0, \
	                            .connect_timeout_s = 0 }

/*
 * Opens a connection and brings the schema up to date:
 *   sqlite:PATH                      a file (created mode 0600; WAL, synchronous=FULL)
 *   postgresql://... / postgres://...  libpq connection URI
 * Fails with COCOON_EUNSUPPORTED when the database's schema is newer than this build.
 */
COCOON_API int cocoon_store_open(cocoon_store **out, const char *url, const cocoon_store_options *opts);
/* attestd's default: sqlite:DIR/attestd.db, making DIR (0700) if needed. */
COCOON_API int cocoon_store_sqlite_open(cocoon_store **out, const char *data_dir);
COCOON_API void cocoon_store_close(cocoon_store *s);
/* The schema version the database is at. */
COCOON_API int cocoon_store_schema_version(cocoon_store *s, int64_t *out);

#ifdef __cplusplus
}
#endif
#endif
