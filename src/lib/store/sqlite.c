/*
 * The embedded SQLite backend: one file, WAL journal with synchronous=FULL so
 * a reported commit survives a crash or power loss, one connection per thread.
 * Writers serialise on BEGIN IMMEDIATE, which is what makes "once only"
 * updates atomic across processes sharing the file.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sqlite3.h>
#include "common/util.h"
#include "store_int.h"

typedef struct {
	cocoon_store base;
	sqlite3 *db;
	char *path;
	const cocoon_kek *kek;
} sqlite_store;

#define SQ(s) ((sqlite_store *)(s))
#define DB(s) (SQ(s)->db)

/* Migration N is migrations[N - 1]; each runs in its own transaction. Never edit one that shipped. */
static const char *const migrations[COCOON_STORE_SCHEMA_VERSION] = {
	/* 1: attestd's original tables (IF NOT EXISTS adopts databases made before migrations existed). */
	"CREATE TABLE IF NOT EXISTS meta(name TEXT PRIMARY KEY, value INTEGER NOT NULL);"
	"INSERT OR IGNORE INTO meta(name, value) VALUES('generation', 0);"
	"CREATE TABLE IF NOT EXISTS signing_keys(name TEXT PRIMARY KEY, alg TEXT NOT NULL, key_pem TEXT NOT NULL,"
	" cert_pem TEXT NOT NULL, created INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS policies(id INTEGER PRIMARY KEY AUTOINCREMENT, type TEXT NOT NULL, text TEXT,"
	" jws TEXT, actor TEXT NOT NULL, created INTEGER NOT NULL);"
	"CREATE INDEX IF NOT EXISTS policies_type ON policies(type, id);"
	"CREATE TABLE IF NOT EXISTS collateral(kind TEXT NOT NULL, key TEXT NOT NULL, doc TEXT NOT NULL,"
	" next_update INTEGER NOT NULL, updated INTEGER NOT NULL, PRIMARY KEY(kind, key));",
	/* 2: the key broker, and signing keys sealed under the KEK. */
	"ALTER TABLE signing_keys ADD COLUMN key_sealed BLOB;"
	"CREATE TABLE resources(repo TEXT NOT NULL, type TEXT NOT NULL, tag TEXT NOT NULL, value BLOB NOT NULL,"
	" created INTEGER NOT NULL, updated INTEGER NOT NULL, PRIMARY KEY(repo, type, tag));"
	"CREATE TABLE sessions(id TEXT PRIMARY KEY, tee TEXT NOT NULL, nonce TEXT NOT NULL,"
	" created INTEGER NOT NULL, expires INTEGER NOT NULL,"
	" state TEXT NOT NULL CHECK(state IN ('challenged', 'attested')), claims TEXT, token TEXT, tee_pubkey TEXT);"
	"CREATE INDEX sessions_expires ON sessions(expires);"
	"CREATE TABLE used_nonces(nonce TEXT PRIMARY KEY, used INTEGER NOT NULL, expires INTEGER NOT NULL);"
	"CREATE INDEX used_nonces_expires ON used_nonces(expires);",
};

static int db_error(cocoon_store *s, const char *what)
{
	return cocoon_error_set(COCOON_EIO, "database %s: %s: %s", SQ(s)->path, what, sqlite3_errmsg(DB(s)));
}

static int prepare(sqlite3_stmt **st, cocoon_store *s, const char *sql)
{
	if (sqlite3_prepare_v2(DB(s), sql, -1, st, NULL) != SQLITE_OK)
		return db_error(s, "prepare");
	return 0;
}

static int exec(cocoon_store *s, const char *sql, const char *what)
{
	if (sqlite3_exec(DB(s), sql, NULL, NULL, NULL) != SQLITE_OK)
		return db_error(s, what);
	return 0;
}

static void rollback(cocoon_store *s)
{
	if (!sqlite3_get_autocommit(DB(s)))
		sqlite3_exec(DB(s), "ROLLBACK", NULL, NULL, NULL);
}

static int commit(cocoon_store *s, const char *what)
{
	int err = exec(s, "COMMIT", what);
	if (err)
		rollback(s);
	return err;
}

static int dup_col(char **out, sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	*out = NULL;
	if (!t)
		return 0;
	if (!(*out = strdup((const char *)t)))
		return cocoon_error_set(COCOON_ENOMEM, "database: out of memory");
	return 0;
}

static void bind_text(sqlite3_stmt *st, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

/* Runs one write and, when bump, the generation counter in one transaction so readers see both or neither. */
static int write_tx(cocoon_store *s, sqlite3_stmt *st, int bump, const char *what)
{
	int err;
	if ((err = exec(s, "BEGIN IMMEDIATE", what)) != 0)
		return err;
	if (sqlite3_step(st) != SQLITE_DONE ||
	    (bump && sqlite3_exec(DB(s), "UPDATE meta SET value = value + 1 WHERE name = 'generation'", NULL, NULL,
	                          NULL) != SQLITE_OK)) {
		int ext = sqlite3_extended_errcode(DB(s));
		/* A duplicate key is the caller's answer ("already used"), not a storage failure. */
		if (ext == SQLITE_CONSTRAINT_PRIMARYKEY || ext == SQLITE_CONSTRAINT_UNIQUE)
			err = cocoon_error_set(COCOON_EREJECT, "database %s: %s: already exists", SQ(s)->path, what);
		else
			err = db_error(s, what);
		rollback(s);
		return err;
	}
	return commit(s, what);
}

static void sq_close(cocoon_store *s)
{
	if (!s)
		return;
	sqlite3_close(DB(s));
	free(SQ(s)->path);
	free(s);
}

static int sq_int(cocoon_store *s, int64_t *out, const char *sql, const char *arg)
{
	sqlite3_stmt *st = NULL;
	int err;
	*out = 0;
	if ((err = prepare(&st, s, sql)) != 0)
		return err;
	if (arg)
		sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	else
		err = db_error(s, "count");
	sqlite3_finalize(st);
	return err;
}

static int sq_generation(cocoon_store *s, int64_t *out)
{
	return sq_int(s, out, "SELECT value FROM meta WHERE name = 'generation'", NULL);
}

static int sq_schema_version(cocoon_store *s, int64_t *out)
{
	return sq_int(s, out, "SELECT coalesce(max(version), 0) FROM schema_migrations", NULL);
}

static int sq_key_put(cocoon_store *s, const char *name, const char *alg, const char *key_pem,
                      const char *cert_pem);

static int sq_key_get(cocoon_store *s, const char *name, char **alg, char **key_pem, char **cert_pem)
{
	sqlite3_stmt *st = NULL;
	int err, rc, reseal;
	*alg = *key_pem = *cert_pem = NULL;
	if ((err = prepare(&st, s, "SELECT alg, key_pem, cert_pem, key_sealed FROM signing_keys WHERE name = ?1")))
		return err;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const uint8_t *sealed = sqlite3_column_blob(st, 3);
		size_t sealed_len = (size_t)sqlite3_column_bytes(st, 3);
		if ((err = dup_col(alg, st, 0)) || (err = dup_col(cert_pem, st, 2)) ||
		    (err = cocoon_store__open_key(key_pem, SQ(s)->kek, name, sealed, sealed_len,
		                                  (const char *)sqlite3_column_text(st, 1)))) {
			free(*alg);
			free(*cert_pem);
			*alg = *cert_pem = NULL;
		}
	} else if (rc == SQLITE_DONE) {
		err = cocoon_error_set(COCOON_ENOTFOUND, "database: no signing key '%s'", name);
	} else {
		err = db_error(s, "signing key lookup");
	}
	reseal = !err && SQ(s)->kek && sqlite3_column_type(st, 3) == SQLITE_NULL;
	sqlite3_finalize(st);
	/* A key stored before --secret-key was given: seal it now; it stays readable if that fails. */
	if (reseal && sq_key_put(s, name, *alg, *key_pem, *cert_pem) != 0)
		cocoon_error_clear();
	return err;
}

static int sq_key_put(cocoon_store *s, const char *name, const char *alg, const char *key_pem, const char *cert_pem)
{
	sqlite3_stmt *st = NULL;
	uint8_t *sealed = NULL;
	size_t sealed_len = 0;
	int err;
	if ((err = cocoon_store__seal_key(&sealed, &sealed_len, SQ(s)->kek, name, key_pem)) != 0)
		return err;
	if ((err = prepare(&st, s, "INSERT OR REPLACE INTO signing_keys(name, alg, key_pem, cert_pem, created, "
	                           "key_sealed) VALUES(?1, ?2, ?3, ?4, ?5, ?6)")) != 0)
		goto done;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, alg, -1, SQLITE_STATIC);
	/* Sealed: the plaintext column keeps nothing. */
	sqlite3_bind_text(st, 3, sealed ? "" : key_pem, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, cert_pem, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)time(NULL));
	if (sealed)
		sqlite3_bind_blob(st, 6, sealed, (int)sealed_len, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 6);
	err = write_tx(s, st, 1, "store the signing key");
done:
	sqlite3_finalize(st);
	free(sealed);
	return err;
}

static int sq_policy_get(cocoon_store *s, const char *type, char **text, char **jws, int64_t *version)
{
	sqlite3_stmt *st = NULL;
	int err, rc;
	*text = *jws = NULL;
	*version = 0;
	if ((err = prepare(&st, s, "SELECT text, jws, id FROM policies WHERE type = ?1 ORDER BY id DESC LIMIT 1")))
		return err;
	sqlite3_bind_text(st, 1, type, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*version = sqlite3_column_int64(st, 2);
		if ((err = dup_col(text, st, 0)) || (err = dup_col(jws, st, 1))) {
			free(*text);
			*text = NULL;
		}
	} else if (rc == SQLITE_DONE) {
		err = cocoon_error_set(COCOON_ENOTFOUND, "database: no policy for '%s'", type);
	} else {
		err = db_error(s, "policy lookup");
	}
	sqlite3_finalize(st);
	return err;
}

static int sq_policy_put(cocoon_store *s, const char *type, const char *text, const char *jws, const char *actor)
{
	sqlite3_stmt *st = NULL;
	int err;
	if ((err = prepare(&st, s, "INSERT INTO policies(type, text, jws, actor, created) VALUES(?1, ?2, ?3, ?4, ?5)")))
		return err;
	sqlite3_bind_text(st, 1, type, -1, SQLITE_STATIC);
	bind_text(st, 2, text);
	bind_text(st, 3, jws);
	sqlite3_bind_text(st, 4, actor, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)time(NULL));
	err = write_tx(s, st, 1, "store the policy");
	sqlite3_finalize(st);
	return err;
}

static int sq_policy_history_count(cocoon_store *s, const char *type, int64_t *out)
{
	return sq_int(s, out, "SELECT count(*) FROM policies WHERE type = ?1", type);
}

static int sq_collateral_get(cocoon_store *s, const char *kind, const char *key, char **doc)
{
	sqlite3_stmt *st = NULL;
	int err, rc;
	*doc = NULL;
	if ((err = prepare(&st, s, "SELECT doc FROM collateral WHERE kind = ?1 AND key = ?2")) != 0)
		return err;
	sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		err = dup_col(doc, st, 0);
	else if (rc == SQLITE_DONE)
		err = cocoon_error_set(COCOON_ENOTFOUND, "database: no %s collateral for '%s'", kind, key);
	else
		err = db_error(s, "collateral lookup");
	sqlite3_finalize(st);
	return err;
}

static int sq_collateral_put(cocoon_store *s, const char *kind, const char *key, const char *doc, time_t next_update)
{
	sqlite3_stmt *st = NULL;
	int err;
	if ((err = prepare(&st, s, "INSERT OR REPLACE INTO collateral(kind, key, doc, next_update, updated) "
	                           "VALUES(?1, ?2, ?3, ?4, ?5)")) != 0)
		return err;
	sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, doc, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)next_update);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)time(NULL));
	err = write_tx(s, st, 1, "store collateral");
	sqlite3_finalize(st);
	return err;
}

static int sq_collateral_count(cocoon_store *s, const char *kind, int64_t *out)
{
	return sq_int(s, out, "SELECT count(*) FROM collateral WHERE kind = ?1", kind);
}

static void bind_rtt(sqlite3_stmt *st, const char *repo, const char *type, const char *tag)
{
	sqlite3_bind_text(st, 1, repo, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, type, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, tag, -1, SQLITE_STATIC);
}

static int sq_resource_get(cocoon_store *s, const char *repo, const char *type, const char *tag, uint8_t **value,
                           size_t *len)
{
	sqlite3_stmt *st = NULL;
	char *aad = NULL;
	int err, rc;
	*value = NULL;
	*len = 0;
	if ((err = cocoon_store__aad_resource(&aad, repo, type, tag)) != 0)
		return err;
	if ((err = prepare(&st, s, "SELECT value FROM resources WHERE repo = ?1 AND type = ?2 AND tag = ?3")) != 0)
		goto done;
	bind_rtt(st, repo, type, tag);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		err = cocoon_secret_open(value, len, SQ(s)->kek, aad, sqlite3_column_blob(st, 0),
		                         (size_t)sqlite3_column_bytes(st, 0));
	else if (rc == SQLITE_DONE)
		err = cocoon_error_set(COCOON_ENOTFOUND, "database: no resource %s", aad + 9);
	else
		err = db_error(s, "resource lookup");
done:
	sqlite3_finalize(st);
	free(aad);
	return err;
}

static int sq_resource_put(cocoon_store *s, const char *repo, const char *type, const char *tag, const uint8_t *value,
                           size_t len)
{
	sqlite3_stmt *st = NULL;
	uint8_t *sealed = NULL;
	size_t sealed_len = 0;
	char *aad = NULL;
	int err;
	if ((err = cocoon_store__aad_resource(&aad, repo, type, tag)) != 0 ||
	    (err = cocoon_secret_seal(&sealed, &sealed_len, SQ(s)->kek, aad, value, len)) != 0)
		goto done;
	if ((err = prepare(&st, s, "INSERT INTO resources(repo, type, tag, value, created, updated) "
	                           "VALUES(?1, ?2, ?3, ?4, ?5, ?5) ON CONFLICT(repo, type, tag) "
	                           "DO UPDATE SET value = excluded.value, updated = excluded.updated")) != 0)
		goto done;
	bind_rtt(st, repo, type, tag);
	sqlite3_bind_blob(st, 4, sealed, (int)sealed_len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)time(NULL));
	err = write_tx(s, st, 0, "store the resource");
done:
	sqlite3_finalize(st);
	free(sealed);
	free(aad);
	return err;
}

/* Runs a one-statement write in its own transaction; *changed = rows it touched. */
static int change(cocoon_store *s, sqlite3_stmt *st, int64_t *changed, const char *what)
{
	int err = write_tx(s, st, 0, what);
	*changed = err ? 0 : sqlite3_changes(DB(s));
	return err;
}

static int sq_resource_delete(cocoon_store *s, const char *repo, const char *type, const char *tag)
{
	sqlite3_stmt *st = NULL;
	char *aad = NULL;
	int64_t n = 0;
	int err;
	if ((err = cocoon_store__aad_resource(&aad, repo, type, tag)) != 0 ||
	    (err = prepare(&st, s, "DELETE FROM resources WHERE repo = ?1 AND type = ?2 AND tag = ?3")) != 0)
		goto done;
	bind_rtt(st, repo, type, tag);
	if ((err = change(s, st, &n, "delete the resource")) == 0 && n == 0)
		err = cocoon_error_set(COCOON_ENOTFOUND, "database: no resource %s", aad + 9);
done:
	sqlite3_finalize(st);
	free(aad);
	return err;
}

static int sq_session_create(cocoon_store *s, const cocoon_store_session *in)
{
	sqlite3_stmt *st = NULL;
	int err;
	if (!in->id || !in->tee || !in->nonce)
		return cocoon_error_set(COCOON_EINVAL, "session: id, tee and nonce are required");
	if ((err = prepare(&st, s, "INSERT INTO sessions(id, tee, nonce, created, expires, state) "
	                           "VALUES(?1, ?2, ?3, ?4, ?5, 'challenged')")) != 0)
		return err;
	sqlite3_bind_text(st, 1, in->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, in->tee, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, in->nonce, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, in->created);
	sqlite3_bind_int64(st, 5, in->expires);
	err = write_tx(s, st, 0, "create the session");
	if (err == COCOON_EREJECT)
		err = cocoon_error_set(COCOON_EREJECT, "database: session id already exists");
	sqlite3_finalize(st);
	return err;
}

static int sq_session_get(cocoon_store *s, const char *id, time_t now, cocoon_store_session *out)
{
	sqlite3_stmt *st = NULL;
	int err, rc;
	memset(out, 0, sizeof(*out));
	if ((err = prepare(&st, s, "SELECT id, tee, nonce, created, expires, state, claims, token, tee_pubkey "
	                           "FROM sessions WHERE id = ?1 AND expires > ?2")) != 0)
		return err;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)now);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		out->created = sqlite3_column_int64(st, 3);
		out->expires = sqlite3_column_int64(st, 4);
		if ((err = dup_col(&out->id, st, 0)) || (err = dup_col(&out->tee, st, 1)) ||
		    (err = dup_col(&out->nonce, st, 2)) || (err = dup_col(&out->state, st, 5)) ||
		    (err = dup_col(&out->claims, st, 6)) || (err = dup_col(&out->token, st, 7)) ||
		    (err = dup_col(&out->tee_pubkey, st, 8)))
			cocoon_store_session_clear(out);
	} else if (rc == SQLITE_DONE) {
		err = cocoon_error_set(COCOON_ENOTFOUND, "database: no session (unknown or expired)");
	} else {
		err = db_error(s, "session lookup");
	}
	sqlite3_finalize(st);
	return err;
}

/* Why a session could not be attested: absent/expired (ENOTFOUND) or used / other nonce (EREJECT). */
static int attest_refusal(cocoon_store *s, const char *id, const char *nonce, time_t now)
{
	cocoon_store_session cur;
	int err = sq_session_get(s, id, now, &cur);
	if (err)
		return err;
	if (strcmp(cur.nonce, nonce) != 0)
		err = cocoon_error_set(COCOON_EREJECT, "session: the evidence is bound to another nonce");
	else
		err = cocoon_error_set(COCOON_EREJECT, "session: its nonce was used already");
	cocoon_store_session_clear(&cur);
	return err;
}

static int sq_session_attest(cocoon_store *s, const char *id, const char *nonce, time_t now, const char *claims,
                             const char *token, const char *tee_pubkey)
{
	sqlite3_stmt *up = NULL, *ins = NULL;
	int err, rc;

	if ((err = prepare(&up, s, "UPDATE sessions SET state = 'attested', claims = ?1, token = ?2, tee_pubkey = ?3 "
	                           "WHERE id = ?4 AND nonce = ?5 AND state = 'challenged' AND expires > ?6 "
	                           "RETURNING expires")) != 0 ||
	    (err = prepare(&ins, s, "INSERT INTO used_nonces(nonce, used, expires) VALUES(?1, ?2, ?3)")) != 0)
		goto done;
	bind_text(up, 1, claims);
	bind_text(up, 2, token);
	bind_text(up, 3, tee_pubkey);
	sqlite3_bind_text(up, 4, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(up, 5, nonce, -1, SQLITE_STATIC);
	sqlite3_bind_int64(up, 6, (sqlite3_int64)now);
	if ((err = exec(s, "BEGIN IMMEDIATE", "attest the session")) != 0)
		goto done;
	if ((rc = sqlite3_step(up)) != SQLITE_ROW) {
		err = rc == SQLITE_DONE ? 0 : db_error(s, "attest the session");
		sqlite3_reset(up);
		rollback(s);
		if (!err)
			err = attest_refusal(s, id, nonce, now);
		goto done;
	}
	sqlite3_bind_text(ins, 1, nonce, -1, SQLITE_STATIC);
	sqlite3_bind_int64(ins, 2, (sqlite3_int64)now);
	sqlite3_bind_int64(ins, 3, sqlite3_column_int64(up, 0));
	sqlite3_reset(up);
	if (sqlite3_step(ins) != SQLITE_DONE) {
		err = sqlite3_extended_errcode(DB(s)) == SQLITE_CONSTRAINT_PRIMARYKEY
		              ? cocoon_error_set(COCOON_EREJECT, "session: its nonce was used already")
		              : db_error(s, "consume the nonce");
		rollback(s);
		goto done;
	}
	err = commit(s, "attest the session");
done:
	sqlite3_finalize(up);
	sqlite3_finalize(ins);
	return err;
}

static int sq_session_delete(cocoon_store *s, const char *id)
{
	sqlite3_stmt *st = NULL;
	int64_t n = 0;
	int err;
	if ((err = prepare(&st, s, "DELETE FROM sessions WHERE id = ?1")) != 0)
		return err;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if ((err = change(s, st, &n, "delete the session")) == 0 && n == 0)
		err = cocoon_error_set(COCOON_ENOTFOUND, "database: no session to delete");
	sqlite3_finalize(st);
	return err;
}

static int sq_nonce_consume(cocoon_store *s, const char *nonce, time_t now, time_t expires)
{
	sqlite3_stmt *st = NULL;
	int err;
	if ((err = prepare(&st, s, "INSERT INTO used_nonces(nonce, used, expires) VALUES(?1, ?2, ?3)")) != 0)
		return err;
	sqlite3_bind_text(st, 1, nonce, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)now);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)expires);
	err = write_tx(s, st, 0, "consume the nonce");
	if (err == COCOON_EREJECT)
		err = cocoon_error_set(COCOON_EREJECT, "nonce was used already");
	sqlite3_finalize(st);
	return err;
}

static int sq_purge_expired(cocoon_store *s, time_t now, int64_t *removed)
{
	char sql[192];
	int err;
	int before;
	snprintf(sql, sizeof(sql), "BEGIN IMMEDIATE; DELETE FROM sessions WHERE expires <= %lld; "
	         "DELETE FROM used_nonces WHERE expires <= %lld;", (long long)now, (long long)now);
	before = sqlite3_total_changes(DB(s));
	if ((err = exec(s, sql, "purge expired sessions")) != 0) {
		rollback(s);
		return err;
	}
	if (removed)
		*removed = sqlite3_total_changes(DB(s)) - before;
	return commit(s, "purge expired sessions");
}

static const cocoon_store_ops sqlite_ops = {
	.name = "sqlite",
	.close = sq_close,
	.generation = sq_generation,
	.key_get = sq_key_get,
	.key_put = sq_key_put,
	.policy_get = sq_policy_get,
	.policy_put = sq_policy_put,
	.policy_history_count = sq_policy_history_count,
	.collateral_get = sq_collateral_get,
	.collateral_put = sq_collateral_put,
	.collateral_count = sq_collateral_count,
	.resource_get = sq_resource_get,
	.resource_put = sq_resource_put,
	.resource_delete = sq_resource_delete,
	.session_create = sq_session_create,
	.session_get = sq_session_get,
	.session_attest = sq_session_attest,
	.session_delete = sq_session_delete,
	.nonce_consume = sq_nonce_consume,
	.purge_expired = sq_purge_expired,
	.schema_version = sq_schema_version,
};

/* Applies each missing migration in its own transaction; BEGIN IMMEDIATE keeps two starting processes apart. */
static int migrate(cocoon_store *s)
{
	int64_t cur = 0;
	int err;
	if ((err = exec(s, "CREATE TABLE IF NOT EXISTS schema_migrations(version INTEGER PRIMARY KEY,"
	                   " applied INTEGER NOT NULL)", "create the migrations table")) != 0)
		return err;
	for (int v = 1; v <= COCOON_STORE_SCHEMA_VERSION; v++) {
		char ins[128];
		if ((err = exec(s, "BEGIN IMMEDIATE", "migrate")) != 0)
			return err;
		if ((err = sq_schema_version(s, &cur)) != 0)
			goto fail;
		if (cur > COCOON_STORE_SCHEMA_VERSION) {
			err = cocoon_error_set(COCOON_EUNSUPPORTED, "database %s has schema version %lld, newer than this "
			                       "build knows (%d): run a newer cocoon-attestd, or restore a backup made "
			                       "for this version", SQ(s)->path, (long long)cur, COCOON_STORE_SCHEMA_VERSION);
			goto fail;
		}
		if (cur >= v) {
			rollback(s);
			continue;
		}
		snprintf(ins, sizeof(ins), "INSERT INTO schema_migrations(version, applied) VALUES(%d, %lld)", v,
		         (long long)time(NULL));
		if ((err = exec(s, migrations[v - 1], "migrate")) != 0 || (err = exec(s, ins, "migrate")) != 0) {
			err = cocoon_error_set(err, "schema migration %d: %s", v, cocoon_error_last()->message);
			goto fail;
		}
		if ((err = commit(s, "migrate")) != 0)
			return err;
	}
	return 0;
fail:
	rollback(s);
	return err;
}

int cocoon_store__sqlite_open(cocoon_store **out, const char *path, const cocoon_store_options *o)
{
	sqlite_store *s = NULL;
	mode_t old;
	int err = 0, rc;

	*out = NULL;
	if (!(s = calloc(1, sizeof(*s))) || !(s->path = strdup(path))) {
		free(s);
		return cocoon_error_set(COCOON_ENOMEM, "out of memory");
	}
	s->base.ops = &sqlite_ops;
	s->kek = o->kek;
	/* The database holds keys and sealed secrets: owner-only from the first byte (and its -wal, -shm). */
	old = umask(077);
	rc = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	umask(old);
	if (rc != SQLITE_OK) {
		err = cocoon_error_set(COCOON_EIO, "database %s cannot be opened: %s", path,
		                       s->db ? sqlite3_errmsg(s->db) : "out of memory");
		goto done;
	}
	sqlite3_busy_timeout(s->db, o->busy_timeout_ms > 0 ? o->busy_timeout_ms : 5000);
	/* synchronous=FULL: a commit we report is on disk, even in WAL mode across power loss. */
	if ((err = exec(&s->base, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA cache_size=-256; "
	                          "PRAGMA foreign_keys=ON;", "configure")) != 0 ||
	    (err = migrate(&s->base)) != 0)
		goto done;
	*out = &s->base;
	s = NULL;
done:
	if (s)
		sq_close(&s->base);
	return err;
}
