/* The embedded SQLite store: WAL journal, one connection per thread, prepared statements per call. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sqlite3.h>
#include "common/util.h"
#include "store.h"

typedef struct {
	cocoon_store base;
	sqlite3 *db;
} sqlite_store;

#define DB(s) (((sqlite_store *)(s))->db)

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS meta(name TEXT PRIMARY KEY, value INTEGER NOT NULL);"
	"INSERT OR IGNORE INTO meta(name, value) VALUES('schema', 1), ('generation', 0);"
	"CREATE TABLE IF NOT EXISTS signing_keys(name TEXT PRIMARY KEY, alg TEXT NOT NULL, key_pem TEXT NOT NULL,"
	" cert_pem TEXT NOT NULL, created INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS policies(id INTEGER PRIMARY KEY AUTOINCREMENT, type TEXT NOT NULL, text TEXT,"
	" jws TEXT, actor TEXT NOT NULL, created INTEGER NOT NULL);"
	"CREATE INDEX IF NOT EXISTS policies_type ON policies(type, id);"
	"CREATE TABLE IF NOT EXISTS collateral(kind TEXT NOT NULL, key TEXT NOT NULL, doc TEXT NOT NULL,"
	" next_update INTEGER NOT NULL, updated INTEGER NOT NULL, PRIMARY KEY(kind, key));";

static int db_error(sqlite3 *db, const char *what)
{
	return cocoon_error_set(COCOON_EIO, "database: %s: %s", what, sqlite3_errmsg(db));
}

static int prepare(sqlite3_stmt **st, cocoon_store *s, const char *sql)
{
	if (sqlite3_prepare_v2(DB(s), sql, -1, st, NULL) != SQLITE_OK)
		return db_error(DB(s), "prepare");
	return 0;
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

/* Runs a write and bumps the generation in one transaction so readers see both or neither. */
static int write_step(cocoon_store *s, sqlite3_stmt *st, const char *what)
{
	int err = 0;
	if (sqlite3_exec(DB(s), "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return db_error(DB(s), what);
	if (sqlite3_step(st) != SQLITE_DONE ||
	    sqlite3_exec(DB(s), "UPDATE meta SET value = value + 1 WHERE name = 'generation'", NULL, NULL, NULL) !=
	            SQLITE_OK) {
		err = db_error(DB(s), what);
		sqlite3_exec(DB(s), "ROLLBACK", NULL, NULL, NULL);
		return err;
	}
	if (sqlite3_exec(DB(s), "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		err = db_error(DB(s), what);
		sqlite3_exec(DB(s), "ROLLBACK", NULL, NULL, NULL);
	}
	return err;
}

static void sq_close(cocoon_store *s)
{
	if (!s)
		return;
	sqlite3_close(DB(s));
	free(s);
}

static int sq_count(cocoon_store *s, int64_t *out, const char *sql, const char *arg)
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
		err = db_error(DB(s), "count");
	sqlite3_finalize(st);
	return err;
}

static int sq_generation(cocoon_store *s, int64_t *out)
{
	return sq_count(s, out, "SELECT value FROM meta WHERE name = 'generation'", NULL);
}

static int sq_key_get(cocoon_store *s, const char *name, char **alg, char **key_pem, char **cert_pem)
{
	sqlite3_stmt *st = NULL;
	int err, rc;
	*alg = *key_pem = *cert_pem = NULL;
	if ((err = prepare(&st, s, "SELECT alg, key_pem, cert_pem FROM signing_keys WHERE name = ?1")) != 0)
		return err;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		if ((err = dup_col(alg, st, 0)) || (err = dup_col(key_pem, st, 1)) || (err = dup_col(cert_pem, st, 2))) {
			free(*alg);
			if (*key_pem)
				cocoon_zeroize(*key_pem, strlen(*key_pem));
			free(*key_pem);
			free(*cert_pem);
			*alg = *key_pem = *cert_pem = NULL;
		}
	} else if (rc == SQLITE_DONE) {
		err = cocoon_error_set(COCOON_ENOTFOUND, "database: no signing key '%s'", name);
	} else {
		err = db_error(DB(s), "signing key lookup");
	}
	sqlite3_finalize(st);
	return err;
}

static int sq_key_put(cocoon_store *s, const char *name, const char *alg, const char *key_pem, const char *cert_pem)
{
	sqlite3_stmt *st = NULL;
	int err;
	if ((err = prepare(&st, s, "INSERT OR REPLACE INTO signing_keys(name, alg, key_pem, cert_pem, created) "
	                           "VALUES(?1, ?2, ?3, ?4, strftime('%s','now'))")) != 0)
		return err;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, alg, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, key_pem, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, cert_pem, -1, SQLITE_STATIC);
	err = write_step(s, st, "store the signing key");
	sqlite3_finalize(st);
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
		err = db_error(DB(s), "policy lookup");
	}
	sqlite3_finalize(st);
	return err;
}

static int sq_policy_put(cocoon_store *s, const char *type, const char *text, const char *jws, const char *actor)
{
	sqlite3_stmt *st = NULL;
	int err;
	if ((err = prepare(&st, s, "INSERT INTO policies(type, text, jws, actor, created) "
	                           "VALUES(?1, ?2, ?3, ?4, strftime('%s','now'))")) != 0)
		return err;
	sqlite3_bind_text(st, 1, type, -1, SQLITE_STATIC);
	if (text)
		sqlite3_bind_text(st, 2, text, -1, SQLITE_STATIC);
	if (jws)
		sqlite3_bind_text(st, 3, jws, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, actor, -1, SQLITE_STATIC);
	err = write_step(s, st, "store the policy");
	sqlite3_finalize(st);
	return err;
}

static int sq_policy_history_count(cocoon_store *s, const char *type, int64_t *out)
{
	return sq_count(s, out, "SELECT count(*) FROM policies WHERE type = ?1", type);
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
		err = db_error(DB(s), "collateral lookup");
	sqlite3_finalize(st);
	return err;
}

static int sq_collateral_put(cocoon_store *s, const char *kind, const char *key, const char *doc, time_t next_update)
{
	sqlite3_stmt *st = NULL;
	int err;
	if ((err = prepare(&st, s, "INSERT OR REPLACE INTO collateral(kind, key, doc, next_update, updated) "
	                           "VALUES(?1, ?2, ?3, ?4, strftime('%s','now'))")) != 0)
		return err;
	sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, doc, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)next_update);
	err = write_step(s, st, "store collateral");
	sqlite3_finalize(st);
	return err;
}

static int sq_collateral_count(cocoon_store *s, const char *kind, int64_t *out)
{
	return sq_count(s, out, "SELECT count(*) FROM collateral WHERE kind = ?1", kind);
}

static const cocoon_store_ops sqlite_ops = {
	"sqlite",          sq_close,          sq_generation,          sq_key_get,
	sq_key_put,        sq_policy_get,     sq_policy_put,          sq_policy_history_count,
	sq_collateral_get, sq_collateral_put, sq_collateral_count,
};

int cocoon_store_sqlite_open(cocoon_store **out, const char *data_dir)
{
	sqlite_store *s = NULL;
	char *path = NULL;
	int err = 0;

	*out = NULL;
	if (mkdir(data_dir, 0700) != 0 && errno != EEXIST)
		return cocoon_error_set(COCOON_EIO, "data directory '%s' cannot be created: %m", data_dir);
	if (asprintf(&path, "%s/attestd.db", data_dir) < 0 || !(s = calloc(1, sizeof(*s)))) {
		err = cocoon_error_set(COCOON_ENOMEM, "out of memory");
		goto done;
	}
	s->base.ops = &sqlite_ops;
	/* The database holds the signing key: owner-only from the first byte. */
	{
		mode_t old = umask(077);
		int rc = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
		                         NULL);
		umask(old);
		if (rc != SQLITE_OK) {
			err = cocoon_error_set(COCOON_EIO, "database %s cannot be opened: %s", path,
			                       s->db ? sqlite3_errmsg(s->db) : "out of memory");
			goto done;
		}
	}
	sqlite3_busy_timeout(s->db, 5000);
	if (sqlite3_exec(s->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-256;",
	                 NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(s->db, schema, NULL, NULL, NULL) != SQLITE_OK) {
		err = cocoon_error_set(COCOON_EIO, "database %s: %s", path, sqlite3_errmsg(s->db));
		goto done;
	}
	*out = &s->base;
	s = NULL;
done:
	if (s)
		sq_close(&s->base);
	free(path);
	return err;
}
