/*
 * The PostgreSQL backend (libpq), for replicas sharing one database. One
 * connection per cocoon_store, kept open and reset on the next call after the
 * server went away, so a restart costs one failed request (COCOON_EUNAVAILABLE)
 * rather than a restart of attestd. Every write that must be atomic is a
 * single statement (CTEs), which PostgreSQL runs as one transaction: no
 * client-side BEGIN/COMMIT to leave half-open when the connection drops.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libpq-fe.h>
#include "common/util.h"
#include "store_int.h"

typedef struct {
	cocoon_store base;
	PGconn *conn;
	const cocoon_kek *kek;
	char where[160];            /* "database DB on HOST:PORT": messages never carry the password */
} pg_store;

#define PG(s) ((pg_store *)(s))

/* Migration N is migrations[N - 1]; the same tables as the SQLite backend. Never edit one that shipped. */
static const char *const migrations[COCOON_STORE_SCHEMA_VERSION] = {
	"CREATE TABLE meta(name TEXT PRIMARY KEY, value BIGINT NOT NULL);"
	"INSERT INTO meta(name, value) VALUES('generation', 0);"
	"CREATE TABLE signing_keys(name TEXT PRIMARY KEY, alg TEXT NOT NULL, key_pem TEXT NOT NULL,"
	" cert_pem TEXT NOT NULL, created BIGINT NOT NULL);"
	"CREATE TABLE policies(id BIGSERIAL PRIMARY KEY, type TEXT NOT NULL, text TEXT, jws TEXT,"
	" actor TEXT NOT NULL, created BIGINT NOT NULL);"
	"CREATE INDEX policies_type ON policies(type, id);"
	"CREATE TABLE collateral(kind TEXT NOT NULL, key TEXT NOT NULL, doc TEXT NOT NULL,"
	" next_update BIGINT NOT NULL, updated BIGINT NOT NULL, PRIMARY KEY(kind, key));",
	"ALTER TABLE signing_keys ADD COLUMN key_sealed BYTEA;"
	"CREATE TABLE resources(repo TEXT NOT NULL, type TEXT NOT NULL, tag TEXT NOT NULL, value BYTEA NOT NULL,"
	" created BIGINT NOT NULL, updated BIGINT NOT NULL, PRIMARY KEY(repo, type, tag));"
	"CREATE TABLE sessions(id TEXT PRIMARY KEY, tee TEXT NOT NULL, nonce TEXT NOT NULL,"
	" created BIGINT NOT NULL, expires BIGINT NOT NULL,"
	" state TEXT NOT NULL CHECK(state IN ('challenged', 'attested')), claims TEXT, token TEXT, tee_pubkey TEXT);"
	"CREATE INDEX sessions_expires ON sessions(expires);"
	"CREATE TABLE used_nonces(nonce TEXT PRIMARY KEY, used BIGINT NOT NULL, expires BIGINT NOT NULL);"
	"CREATE INDEX used_nonces_expires ON used_nonces(expires);",
};

/* Serialises concurrent start-ups: pg_advisory_xact_lock key ("cocoon" in ASCII). */
#define MIGRATION_LOCK "108296894934894"

#define MAX_PARAMS 8
typedef struct {
	int n;
	const char *v[MAX_PARAMS];
	int len[MAX_PARAMS];
	int fmt[MAX_PARAMS];
	char num[MAX_PARAMS][24];
} params;

static void p_text(params *p, const char *v)
{
	p->v[p->n] = v;
	p->len[p->n] = 0;
	p->fmt[p->n++] = 0;
}

static void p_int(params *p, int64_t v)
{
	snprintf(p->num[p->n], sizeof(p->num[0]), "%lld", (long long)v);
	p_text(p, p->num[p->n]);
}

static void p_bytes(params *p, const uint8_t *v, size_t len)
{
	p->v[p->n] = (const char *)v;
	p->len[p->n] = (int)len;
	p->fmt[p->n++] = 1;
}

/* libpq's messages end in a newline; ours are one line. */
static const char *one_line(char *buf, size_t n, const char *msg)
{
	size_t i = 0;
	for (; msg && msg[i] && i + 1 < n; i++)
		buf[i] = (msg[i] == '\n' || msg[i] == '\r') ? ' ' : msg[i];
	while (i > 0 && buf[i - 1] == ' ')
		i--;
	buf[i] = '\0';
	return buf;
}

static int unavailable(cocoon_store *s, const char *what)
{
	char msg[512];
	return cocoon_error_set(COCOON_EUNAVAILABLE, "%s is unavailable (%s): %s; the next request reconnects",
	                        PG(s)->where, what, one_line(msg, sizeof(msg), PQerrorMessage(PG(s)->conn)));
}

/* Reconnects a connection the server dropped. */
static int ensure(cocoon_store *s)
{
	if (PQstatus(PG(s)->conn) == CONNECTION_OK)
		return 0;
	PQreset(PG(s)->conn);
	if (PQstatus(PG(s)->conn) != CONNECTION_OK)
		return unavailable(s, "connect");
	return 0;
}

/* Maps a failed statement: a lost server is EUNAVAILABLE, a duplicate key EREJECT, the rest EIO. */
static int classify(cocoon_store *s, const PGresult *r, const char *what)
{
	const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	char msg[512];

	if (PQstatus(PG(s)->conn) == CONNECTION_BAD || !state || strncmp(state, "08", 2) == 0 ||
	    strncmp(state, "57P", 3) == 0 || strncmp(state, "53", 2) == 0)
		return unavailable(s, what);
	if (strcmp(state, "23505") == 0)
		return cocoon_error_set(COCOON_EREJECT, "%s: %s: already exists", PG(s)->where, what);
	return cocoon_error_set(COCOON_EIO, "%s: %s: %s", PG(s)->where, what,
	                        one_line(msg, sizeof(msg), PQresultErrorMessage(r)));
}

/*
 * Runs one statement. A read on a connection that turns out to be dead (the
 * server restarted while we were idle) is retried once on a fresh one; a write
 * is not, because it may have committed before the connection broke.
 */
static int run(PGresult **out, cocoon_store *s, const char *sql, const params *p, int flags, const char *what)
{
	enum { READ = 1, BINARY = 2 };
	PGresult *r = NULL;
	int err, st;

	*out = NULL;
	for (int attempt = 0; attempt < 2; attempt++) {
		int was_ok = PQstatus(PG(s)->conn) == CONNECTION_OK;
		if ((err = ensure(s)) != 0)
			return err;
		r = PQexecParams(PG(s)->conn, sql, p ? p->n : 0, NULL, p ? p->v : NULL, p ? p->len : NULL,
		                 p ? p->fmt : NULL, (flags & BINARY) ? 1 : 0);
		st = r ? (int)PQresultStatus(r) : (int)PGRES_FATAL_ERROR;
		if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
			*out = r;
			return 0;
		}
		err = classify(s, r, what);
		PQclear(r);
		if (!(flags & READ) || !was_ok || err != COCOON_EUNAVAILABLE)
			break;
	}
	return err;
}
#define RUN_WRITE 0
#define RUN_READ 1
#define RUN_BINARY 2

static int dup_val(char **out, const PGresult *r, int col)
{
	*out = NULL;
	if (PQgetisnull(r, 0, col))
		return 0;
	if (!(*out = strdup(PQgetvalue(r, 0, col))))
		return cocoon_error_set(COCOON_ENOMEM, "database: out of memory");
	return 0;
}

static int64_t int_val(const PGresult *r, int row, int col)
{
	return strtoll(PQgetvalue(r, row, col), NULL, 10);
}

static void pg_close(cocoon_store *s)
{
	if (!s)
		return;
	PQfinish(PG(s)->conn);
	free(s);
}

static int one_int(cocoon_store *s, int64_t *out, const char *sql, const char *arg, const char *what)
{
	params p = { 0 };
	PGresult *r;
	int err;
	*out = 0;
	if (arg)
		p_text(&p, arg);
	if ((err = run(&r, s, sql, &p, RUN_READ, what)) != 0)
		return err;
	if (PQntuples(r) == 1)
		*out = int_val(r, 0, 0);
	else
		err = cocoon_error_set(COCOON_EIO, "%s: %s: no row", PG(s)->where, what);
	PQclear(r);
	return err;
}

static int pg_generation(cocoon_store *s, int64_t *out)
{
	return one_int(s, out, "SELECT value FROM meta WHERE name = 'generation'", NULL, "generation");
}

static int pg_schema_version(cocoon_store *s, int64_t *out)
{
	return one_int(s, out, "SELECT coalesce(max(version), 0) FROM schema_migrations", NULL, "schema version");
}

static int pg_key_put(cocoon_store *s, const char *name, const char *alg, const char *key_pem,
                      const char *cert_pem);

static int pg_key_get(cocoon_store *s, const char *name, char **alg, char **key_pem, char **cert_pem)
{
	params p = { 0 };
	PGresult *r;
	int err, reseal;
	*alg = *key_pem = *cert_pem = NULL;
	p_text(&p, name);
	/* Binary results: bytea arrives raw, text columns as their bytes. */
	if ((err = run(&r, s, "SELECT alg, key_pem, cert_pem, key_sealed FROM signing_keys WHERE name = $1", &p,
	               RUN_READ | RUN_BINARY, "signing key lookup")) != 0)
		return err;
	if (PQntuples(r) == 0) {
		err = cocoon_error_set(COCOON_ENOTFOUND, "database: no signing key '%s'", name);
	} else if ((err = dup_val(alg, r, 0)) || (err = dup_val(cert_pem, r, 2)) ||
	           (err = cocoon_store__open_key(key_pem, PG(s)->kek, name,
	                                         PQgetisnull(r, 0, 3) ? NULL : (const uint8_t *)PQgetvalue(r, 0, 3),
	                                         (size_t)PQgetlength(r, 0, 3), PQgetvalue(r, 0, 1)))) {
		free(*alg);
		free(*cert_pem);
		*alg = *cert_pem = NULL;
	}
	reseal = !err && PG(s)->kek && PQgetisnull(r, 0, 3);
	PQclear(r);
	/* A key stored before --secret-key was given: seal it now; it stays readable if that fails. */
	if (reseal && pg_key_put(s, name, *alg, *key_pem, *cert_pem) != 0)
		cocoon_error_clear();
	return err;
}

/* Runs a write together with the generation bump: one statement, one transaction. */
#define BUMP "WITH bump AS (UPDATE meta SET value = value + 1 WHERE name = 'generation') "

static int write1(cocoon_store *s, const char *sql, const params *p, const char *what)
{
	PGresult *r;
	int err = run(&r, s, sql, p, RUN_WRITE, what);
	PQclear(r);
	return err;
}

static int pg_key_put(cocoon_store *s, const char *name, const char *alg, const char *key_pem, const char *cert_pem)
{
	params p = { 0 };
	uint8_t *sealed = NULL;
	size_t sealed_len = 0;
	int err;
	if ((err = cocoon_store__seal_key(&sealed, &sealed_len, PG(s)->kek, name, key_pem)) != 0)
		return err;
	p_text(&p, name);
	p_text(&p, alg);
	p_text(&p, sealed ? "" : key_pem);
	p_text(&p, cert_pem);
	p_int(&p, time(NULL));
	if (sealed)
		p_bytes(&p, sealed, sealed_len);
	else
		p_text(&p, NULL);
	err = write1(s, BUMP "INSERT INTO signing_keys(name, alg, key_pem, cert_pem, created, key_sealed) "
	                     "VALUES($1, $2, $3, $4, $5, $6) ON CONFLICT(name) DO UPDATE SET alg = excluded.alg, "
	                     "key_pem = excluded.key_pem, cert_pem = excluded.cert_pem, created = excluded.created, "
	                     "key_sealed = excluded.key_sealed",
	             &p, "store the signing key");
	free(sealed);
	return err;
}

static int pg_policy_get(cocoon_store *s, const char *type, char **text, char **jws, int64_t *version)
{
	params p = { 0 };
	PGresult *r;
	int err;
	*text = *jws = NULL;
	*version = 0;
	p_text(&p, type);
	if ((err = run(&r, s, "SELECT text, jws, id FROM policies WHERE type = $1 ORDER BY id DESC LIMIT 1", &p,
	               RUN_READ, "policy lookup")) != 0)
		return err;
	if (PQntuples(r) == 0) {
		err = cocoon_error_set(COCOON_ENOTFOUND, "database: no policy for '%s'", type);
	} else {
		*version = int_val(r, 0, 2);
		if ((err = dup_val(text, r, 0)) || (err = dup_val(jws, r, 1))) {
			free(*text);
			*text = NULL;
		}
	}
	PQclear(r);
	return err;
}

static int pg_policy_put(cocoon_store *s, const char *type, const char *text, const char *jws, const char *actor)
{
	params p = { 0 };
	p_text(&p, type);
	p_text(&p, text);
	p_text(&p, jws);
	p_text(&p, actor);
	p_int(&p, time(NULL));
	return write1(s, BUMP "INSERT INTO policies(type, text, jws, actor, created) VALUES($1, $2, $3, $4, $5)", &p,
	              "store the policy");
}

static int pg_policy_history_count(cocoon_store *s, const char *type, int64_t *out)
{
	return one_int(s, out, "SELECT count(*) FROM policies WHERE type = $1", type, "policy history");
}

static int pg_collateral_get(cocoon_store *s, const char *kind, const char *key, char **doc)
{
	params p = { 0 };
	PGresult *r;
	int err;
	*doc = NULL;
	p_text(&p, kind);
	p_text(&p, key);
	if ((err = run(&r, s, "SELECT doc FROM collateral WHERE kind = $1 AND key = $2", &p, RUN_READ,
	               "collateral lookup")) != 0)
		return err;
	if (PQntuples(r) == 0)
		err = cocoon_error_set(COCOON_ENOTFOUND, "database: no %s collateral for '%s'", kind, key);
	else
		err = dup_val(doc, r, 0);
	PQclear(r);
	return err;
}

static int pg_collateral_put(cocoon_store *s, const char *kind, const char *key, const char *doc, time_t next_update)
{
	params p = { 0 };
	p_text(&p, kind);
	p_text(&p, key);
	p_text(&p, doc);
	p_int(&p, next_update);
	p_int(&p, time(NULL));
	return write1(s, BUMP "INSERT INTO collateral(kind, key, doc, next_update, updated) VALUES($1, $2, $3, $4, $5) "
	                      "ON CONFLICT(kind, key) DO UPDATE SET doc = excluded.doc, "
	                      "next_update = excluded.next_update, updated = excluded.updated",
	              &p, "store collateral");
}

static int pg_collateral_count(cocoon_store *s, const char *kind, int64_t *out)
{
	return one_int(s, out, "SELECT count(*) FROM collateral WHERE kind = $1", kind, "collateral count");
}

static int pg_resource_get(cocoon_store *s, const char *repo, const char *type, const char *tag, uint8_t **value,
                           size_t *len)
{
	params p = { 0 };
	PGresult *r = NULL;
	char *aad = NULL;
	int err;
	*value = NULL;
	*len = 0;
	if ((err = cocoon_store__aad_resource(&aad, repo, type, tag)) != 0)
		return err;
	p_text(&p, repo);
	p_text(&p, type);
	p_text(&p, tag);
	if ((err = run(&r, s, "SELECT value FROM resources WHERE repo = $1 AND type = $2 AND tag = $3", &p,
	               RUN_READ | RUN_BINARY, "resource lookup")) != 0)
		goto done;
	if (PQntuples(r) == 0)
		err = cocoon_error_set(COCOON_ENOTFOUND, "database: no resource %s", aad + 9);
	else
		err = cocoon_secret_open(value, len, PG(s)->kek, aad, (const uint8_t *)PQgetvalue(r, 0, 0),
		                         (size_t)PQgetlength(r, 0, 0));
done:
	PQclear(r);
	free(aad);
	return err;
}

static int pg_resource_put(cocoon_store *s, const char *repo, const char *type, const char *tag, const uint8_t *value,
                           size_t len)
{
	params p = { 0 };
	uint8_t *sealed = NULL;
	size_t sealed_len = 0;
	char *aad = NULL;
	int err;
	if ((err = cocoon_store__aad_resource(&aad, repo, type, tag)) != 0 ||
	    (err = cocoon_secret_seal(&sealed, &sealed_len, PG(s)->kek, aad, value, len)) != 0)
		goto done;
	p_text(&p, repo);
	p_text(&p, type);
	p_text(&p, tag);
	p_bytes(&p, sealed, sealed_len);
	p_int(&p, time(NULL));
	err = write1(s, "INSERT INTO resources(repo, type, tag, value, created, updated) VALUES($1, $2, $3, $4, $5, $5) "
	                "ON CONFLICT(repo, type, tag) DO UPDATE SET value = excluded.value, updated = excluded.updated",
	             &p, "store the resource");
done:
	free(sealed);
	free(aad);
	return err;
}

/* A one-statement write; *changed = rows it touched. */
static int change(cocoon_store *s, int64_t *changed, const char *sql, const params *p, const char *what)
{
	PGresult *r;
	int err = run(&r, s, sql, p, RUN_WRITE, what);
	*changed = err ? 0 : strtoll(PQcmdTuples(r), NULL, 10);
	PQclear(r);
	return err;
}

static int pg_resource_delete(cocoon_store *s, const char *repo, const char *type, const char *tag)
{
	params p = { 0 };
	char *aad = NULL;
	int64_t n = 0;
	int err;
	if ((err = cocoon_store__aad_resource(&aad, repo, type, tag)) != 0)
		return err;
	p_text(&p, repo);
	p_text(&p, type);
	p_text(&p, tag);
	if ((err = change(s, &n, "DELETE FROM resources WHERE repo = $1 AND type = $2 AND tag = $3", &p,
	                  "delete the resource")) == 0 && n == 0)
		err = cocoon_error_set(COCOON_ENOTFOUND, "database: no resource %s", aad + 9);
	free(aad);
	return err;
}

static int pg_session_create(cocoon_store *s, const cocoon_store_session *in)
{
	params p = { 0 };
	int err;
	if (!in->id || !in->tee || !in->nonce)
		return cocoon_error_set(COCOON_EINVAL, "session: id, tee and nonce are required");
	p_text(&p, in->id);
	p_text(&p, in->tee);
	p_text(&p, in->nonce);
	p_int(&p, in->created);
	p_int(&p, in->expires);
	err = write1(s, "INSERT INTO sessions(id, tee, nonce, created, expires, state) "
	                "VALUES($1, $2, $3, $4, $5, 'challenged')", &p, "create the session");
	if (err == COCOON_EREJECT)
		err = cocoon_error_set(COCOON_EREJECT, "database: session id already exists");
	return err;
}

static int pg_session_get(cocoon_store *s, const char *id, time_t now, cocoon_store_session *out)
{
	params p = { 0 };
	PGresult *r;
	int err;
	memset(out, 0, sizeof(*out));
	p_text(&p, id);
	p_int(&p, now);
	if ((err = run(&r, s, "SELECT id, tee, nonce, created, expires, state, claims, token, tee_pubkey "
	                      "FROM sessions WHERE id = $1 AND expires > $2", &p, RUN_READ, "session lookup")) != 0)
		return err;
	if (PQntuples(r) == 0) {
		err = cocoon_error_set(COCOON_ENOTFOUND, "database: no session (unknown or expired)");
	} else {
		out->created = int_val(r, 0, 3);
		out->expires = int_val(r, 0, 4);
		if ((err = dup_val(&out->id, r, 0)) || (err = dup_val(&out->tee, r, 1)) ||
		    (err = dup_val(&out->nonce, r, 2)) || (err = dup_val(&out->state, r, 5)) ||
		    (err = dup_val(&out->claims, r, 6)) || (err = dup_val(&out->token, r, 7)) ||
		    (err = dup_val(&out->tee_pubkey, r, 8)))
			cocoon_store_session_clear(out);
	}
	PQclear(r);
	return err;
}

static int pg_session_attest(cocoon_store *s, const char *id, const char *nonce, time_t now, const char *claims,
                             const char *token, const char *tee_pubkey)
{
	params p = { 0 };
	cocoon_store_session cur;
	int64_t n = 0;
	int err;

	p_text(&p, claims);
	p_text(&p, token);
	p_text(&p, tee_pubkey);
	p_text(&p, id);
	p_text(&p, nonce);
	p_int(&p, now);
	/*
	 * The row lock on the session makes a second, concurrent attest wait and
	 * then find state <> 'challenged'; the unique used_nonces insert refuses a
	 * nonce consumed by any other path. Both in one statement, one transaction.
	 */
	err = change(s, &n, "WITH s AS (UPDATE sessions SET state = 'attested', claims = $1, token = $2, "
	                    "tee_pubkey = $3 WHERE id = $4 AND nonce = $5 AND state = 'challenged' AND expires > $6 "
	                    "RETURNING nonce, expires) "
	                    "INSERT INTO used_nonces(nonce, used, expires) SELECT nonce, $6, expires FROM s",
	             &p, "attest the session");
	if (err == COCOON_EREJECT)
		return cocoon_error_set(COCOON_EREJECT, "session: its nonce was used already");
	if (err || n == 1)
		return err;
	if ((err = pg_session_get(s, id, now, &cur)) != 0)
		return err;
	if (strcmp(cur.nonce, nonce) != 0)
		err = cocoon_error_set(COCOON_EREJECT, "session: the evidence is bound to another nonce");
	else
		err = cocoon_error_set(COCOON_EREJECT, "session: its nonce was used already");
	cocoon_store_session_clear(&cur);
	return err;
}

static int pg_session_delete(cocoon_store *s, const char *id)
{
	params p = { 0 };
	int64_t n = 0;
	int err;
	p_text(&p, id);
	if ((err = change(s, &n, "DELETE FROM sessions WHERE id = $1", &p, "delete the session")) == 0 && n == 0)
		err = cocoon_error_set(COCOON_ENOTFOUND, "database: no session to delete");
	return err;
}

static int pg_nonce_consume(cocoon_store *s, const char *nonce, time_t now, time_t expires)
{
	params p = { 0 };
	int err;
	p_text(&p, nonce);
	p_int(&p, now);
	p_int(&p, expires);
	err = write1(s, "INSERT INTO used_nonces(nonce, used, expires) VALUES($1, $2, $3)", &p, "consume the nonce");
	if (err == COCOON_EREJECT)
		err = cocoon_error_set(COCOON_EREJECT, "nonce was used already");
	return err;
}

static int pg_purge_expired(cocoon_store *s, time_t now, int64_t *removed)
{
	params p = { 0 };
	PGresult *r;
	int err;
	p_int(&p, now);
	if ((err = run(&r, s, "WITH a AS (DELETE FROM sessions WHERE expires <= $1 RETURNING 1), "
	                      "b AS (DELETE FROM used_nonces WHERE expires <= $1 RETURNING 1) "
	                      "SELECT (SELECT count(*) FROM a) + (SELECT count(*) FROM b)",
	               &p, RUN_WRITE, "purge expired sessions")) != 0)
		return err;
	if (removed)
		*removed = PQntuples(r) == 1 ? int_val(r, 0, 0) : 0;
	PQclear(r);
	return 0;
}

static const cocoon_store_ops pg_ops = {
	.name = "postgresql",
	.close = pg_close,
	.generation = pg_generation,
	.key_get = pg_key_get,
	.key_put = pg_key_put,
	.policy_get = pg_policy_get,
	.policy_put = pg_policy_put,
	.policy_history_count = pg_policy_history_count,
	.collateral_get = pg_collateral_get,
	.collateral_put = pg_collateral_put,
	.collateral_count = pg_collateral_count,
	.resource_get = pg_resource_get,
	.resource_put = pg_resource_put,
	.resource_delete = pg_resource_delete,
	.session_create = pg_session_create,
	.session_get = pg_session_get,
	.session_attest = pg_session_attest,
	.session_delete = pg_session_delete,
	.nonce_consume = pg_nonce_consume,
	.purge_expired = pg_purge_expired,
	.schema_version = pg_schema_version,
};

/* One migration in one transaction, under an advisory lock so replicas starting together take turns. */
static int migrate_one(cocoon_store *s, int v)
{
	PGresult *r = NULL;
	params p = { 0 };
	int64_t cur = 0;
	int err;

	if ((err = write1(s, "BEGIN", NULL, "migrate")) != 0)
		return err;
	if ((err = write1(s, "SELECT pg_advisory_xact_lock(" MIGRATION_LOCK ")", NULL, "migration lock")) ||
	    (err = write1(s, "CREATE TABLE IF NOT EXISTS schema_migrations(version INTEGER PRIMARY KEY,"
	                     " applied BIGINT NOT NULL)", NULL, "create the migrations table")) ||
	    (err = one_int(s, &cur, "SELECT coalesce(max(version), 0) FROM schema_migrations", NULL, "schema version")))
		goto done;
	if (cur > COCOON_STORE_SCHEMA_VERSION) {
		err = cocoon_error_set(COCOON_EUNSUPPORTED, "%s has schema version %lld, newer than this build knows (%d): "
		                       "run a newer cocoon-attestd, or restore a backup made for this version",
		                       PG(s)->where, (long long)cur, COCOON_STORE_SCHEMA_VERSION);
		goto done;
	}
	if (cur >= v)
		goto done;
	/* Several statements: the simple-query protocol, inside our transaction. */
	r = PQexec(PG(s)->conn, migrations[v - 1]);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		err = classify(s, r, "migrate");
		err = cocoon_error_set(err, "schema migration %d: %s", v, cocoon_error_last()->message);
		goto done;
	}
	p_int(&p, v);
	p_int(&p, time(NULL));
	if ((err = write1(s, "INSERT INTO schema_migrations(version, applied) VALUES($1, $2)", &p, "migrate")) != 0)
		goto done;
	PQclear(r);
	return write1(s, "COMMIT", NULL, "migrate");
done:
	PQclear(r);
	if (PQstatus(PG(s)->conn) == CONNECTION_OK)
		PQclear(PQexec(PG(s)->conn, "ROLLBACK"));
	return err;
}

static void quiet(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

int cocoon_store__pg_open(cocoon_store **out, const char *conninfo, const cocoon_store_options *o)
{
	const char *keys[] = { "dbname", "connect_timeout", "application_name", NULL };
	char timeout[16];
	const char *vals[] = { conninfo, timeout, "cocoon", NULL };
	pg_store *s;
	int err = 0;

	*out = NULL;
	if (!(s = calloc(1, sizeof(*s))))
		return cocoon_error_set(COCOON_ENOMEM, "out of memory");
	s->base.ops = &pg_ops;
	s->kek = o->kek;
	snprintf(timeout, sizeof(timeout), "%d", o->connect_timeout_s > 0 ? o->connect_timeout_s : 5);
	/* expand_dbname: the URL's parts become parameters; ours add the timeout. */
	if (!(s->conn = PQconnectdbParams(keys, vals, 1))) {
		free(s);
		return cocoon_error_set(COCOON_ENOMEM, "out of memory");
	}
	/* Server notices ("already exists, skipping") are not errors: keep them off stderr. */
	PQsetNoticeProcessor(s->conn, quiet, NULL);
	snprintf(s->where, sizeof(s->where), "PostgreSQL database '%s' on %s:%s", PQdb(s->conn) ? PQdb(s->conn) : "?",
	         PQhost(s->conn) ? PQhost(s->conn) : "?", PQport(s->conn) ? PQport(s->conn) : "?");
	if (PQstatus(s->conn) != CONNECTION_OK) {
		err = unavailable(&s->base, "connect");
		goto done;
	}
	/* Up to date already (every start but the first): skip the locked migration transactions. */
	{
		PGresult *r = PQexec(s->conn, "SELECT coalesce(max(version), 0) FROM schema_migrations");
		int current = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 &&
		              strtoll(PQgetvalue(r, 0, 0), NULL, 10) == COCOON_STORE_SCHEMA_VERSION;
		PQclear(r);
		for (int v = 1; v <= COCOON_STORE_SCHEMA_VERSION && !err && !current; v++)
			err = migrate_one(&s->base, v);
	}
	if (!err) {
		*out = &s->base;
		s = NULL;
	}
done:
	if (s)
		pg_close(&s->base);
	return err;
}
