/*
 * The store: the secret envelope and KEK file rules, migrations, and one test
 * body run against every backend. SQLite always; PostgreSQL when
 * COCOON_TEST_PG_URL names a server (tests/store/test_store_pg.sh starts one).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sqlite3.h>
#include "cocoon/store.h"

static char tmpdir[] = "/tmp/cocoon-store-test.XXXXXX";
static cocoon_kek *kek, *other_kek;

static int setup(void **state)
{
	uint8_t k1[32], k2[32];
	(void)state;
	for (int i = 0; i < 32; i++) {
		k1[i] = (uint8_t)(i * 7 + 1);
		k2[i] = (uint8_t)(i * 7 + 2);
	}
	if (!mkdtemp(tmpdir) || cocoon_kek_from_bytes(&kek, k1) || cocoon_kek_from_bytes(&other_kek, k2))
		return -1;
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];
	(void)state;
	cocoon_kek_free(kek);
	cocoon_kek_free(other_kek);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static char *tmp_path(const char *name)
{
	static char buf[256];
	snprintf(buf, sizeof(buf), "%s/%s", tmpdir, name);
	return buf;
}

/* ---- the envelope ---- */

static void seal(uint8_t **out, size_t *len, const char *aad, const char *plain)
{
	assert_int_equal(cocoon_secret_seal(out, len, kek, aad, (const uint8_t *)plain, strlen(plain)), 0);
	assert_int_equal(*len, strlen(plain) + COCOON_SECRET_OVERHEAD);
}

static int try_open(const cocoon_kek *k, const char *aad, const uint8_t *env, size_t len)
{
	uint8_t *pt = NULL;
	size_t n = 0;
	int err = cocoon_secret_open(&pt, &n, k, aad, env, len);
	free(pt);
	return err;
}

static void test_envelope_roundtrip(void **state)
{
	uint8_t *env, *env2, *pt;
	size_t len, len2, n;
	(void)state;
	seal(&env, &len, "resource:a/b/c", "the secret");
	assert_int_equal(env[0], COCOON_SECRET_ENVELOPE_V1);
	assert_null(memmem(env, len, "the secret", 10));
	assert_int_equal(cocoon_secret_open(&pt, &n, kek, "resource:a/b/c", env, len), 0);
	assert_int_equal(n, 10);
	assert_memory_equal(pt, "the secret", 10);
	free(pt);
	/* A fresh IV every time: the same secret never seals to the same bytes. */
	seal(&env2, &len2, "resource:a/b/c", "the secret");
	assert_memory_not_equal(env + 1, env2 + 1, 12);
	free(env2);
	/* The empty secret is a secret too. */
	seal(&env2, &len2, "resource:a/b/e", "");
	assert_int_equal(cocoon_secret_open(&pt, &n, kek, "resource:a/b/e", env2, len2), 0);
	assert_int_equal(n, 0);
	free(pt);
	free(env2);
	free(env);
}

static void test_envelope_tamper(void **state)
{
	const char *aad = "resource:repo/key/tag";
	uint8_t *env;
	size_t len;
	(void)state;
	seal(&env, &len, aad, "0123456789abcdef");
	/* Each part flipped in turn: IV, ciphertext, tag. */
	size_t offsets[] = { 1, 12, 13, 20, len - 16, len - 1 };
	for (size_t i = 0; i < sizeof(offsets) / sizeof(offsets[0]); i++) {
		env[offsets[i]] ^= 0x01;
		assert_int_equal(try_open(kek, aad, env, len), COCOON_EREJECT);
		env[offsets[i]] ^= 0x01;
	}
	assert_int_equal(try_open(kek, aad, env, len), 0);
	/* Another row's AAD: a value moved between rows does not open. */
	assert_int_equal(try_open(kek, "resource:repo/key/other", env, len), COCOON_EREJECT);
	assert_int_equal(try_open(other_kek, aad, env, len), COCOON_EREJECT);
	/* Unknown version, truncated, missing key. */
	env[0] = 0x02;
	assert_int_equal(try_open(kek, aad, env, len), COCOON_EUNSUPPORTED);
	env[0] = COCOON_SECRET_ENVELOPE_V1;
	assert_int_equal(try_open(kek, aad, env, COCOON_SECRET_OVERHEAD - 1), COCOON_EFORMAT);
	assert_int_equal(try_open(kek, aad, env, len - 1), COCOON_EREJECT);
	assert_int_equal(try_open(NULL, aad, env, len), COCOON_EINVAL);
	free(env);
}

static void write_key(const char *path, size_t n, mode_t mode)
{
	FILE *f;
	unlink(path);
	assert_non_null(f = fopen(path, "w"));
	for (size_t i = 0; i < n; i++)
		fputc((int)(i + 1), f);
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
}

static void test_kek_file(void **state)
{
	cocoon_kek *k = NULL;
	char *p = tmp_path("kek");
	(void)state;
	write_key(p, 32, 0600);
	assert_int_equal(cocoon_kek_load(&k, p), 0);
	cocoon_kek_free(k);
	write_key(p, 32, 0644);
	assert_int_equal(cocoon_kek_load(&k, p), COCOON_EINVAL);
	assert_non_null(strstr(cocoon_error_last()->message, "0600"));
	write_key(p, 32, 0400);
	assert_int_equal(cocoon_kek_load(&k, p), COCOON_EINVAL);
	write_key(p, 31, 0600);
	assert_int_equal(cocoon_kek_load(&k, p), COCOON_EFORMAT);
	write_key(p, 33, 0600);
	assert_int_equal(cocoon_kek_load(&k, p), COCOON_EFORMAT);
	write_key(p, 32, 0600);
	if (geteuid() == 0) {
		/* Someone else's key file is refused even when we could read it. */
		assert_int_equal(chown(p, 65534, 65534), 0);
		assert_int_equal(cocoon_kek_load(&k, p), COCOON_EINVAL);
		assert_non_null(strstr(cocoon_error_last()->message, "owned by uid 65534"));
		assert_int_equal(chown(p, 0, 0), 0);
	}
	/* A symlink is not followed: the checks would be about the wrong file. */
	unlink(tmp_path("kek-link"));
	assert_int_equal(symlink(p, tmp_path("kek-link")), 0);
	assert_int_equal(cocoon_kek_load(&k, tmp_path("kek-link")), COCOON_EIO);
	assert_int_equal(cocoon_kek_load(&k, tmp_path("absent")), COCOON_EIO);
	assert_null(k);
}

/* ---- one body for every backend ---- */

static cocoon_store *open_with(const char *url, const cocoon_kek *k)
{
	cocoon_store_options o = COCOON_STORE_OPTIONS_INIT;
	cocoon_store *s = NULL;
	o.kek = k;
	if (cocoon_store_open(&s, url, &o) != 0)
		fail_msg("open %s: %s", url, cocoon_error_last()->message);
	return s;
}

static void body_keys_policies_collateral(cocoon_store *s)
{
	char *alg, *key, *cert, *text, *jws, *doc;
	int64_t g0, g1, v, n;

	assert_int_equal(s->ops->schema_version(s, &v), 0);
	assert_int_equal(v, COCOON_STORE_SCHEMA_VERSION);
	assert_int_equal(s->ops->generation(s, &g0), 0);
	assert_int_equal(s->ops->key_get(s, "k", &alg, &key, &cert), COCOON_ENOTFOUND);
	assert_int_equal(s->ops->key_put(s, "k", "ES256", "-----BEGIN PRIVATE KEY-----x", "cert"), 0);
	assert_int_equal(s->ops->key_get(s, "k", &alg, &key, &cert), 0);
	assert_string_equal(alg, "ES256");
	assert_string_equal(key, "-----BEGIN PRIVATE KEY-----x");
	assert_string_equal(cert, "cert");
	free(alg), free(key), free(cert);
	assert_int_equal(s->ops->generation(s, &g1), 0);
	assert_true(g1 > g0);

	assert_int_equal(s->ops->policy_get(s, "SgxEnclave", &text, &jws, &v), COCOON_ENOTFOUND);
	assert_int_equal(s->ops->policy_put(s, "SgxEnclave", "p1", "jws1", "admin"), 0);
	assert_int_equal(s->ops->policy_put(s, "SgxEnclave", "p2", NULL, "admin"), 0);
	assert_int_equal(s->ops->policy_put(s, COCOON_STORE_POLICY_KBS_RESOURCE, "r1", NULL, "admin"), 0);
	assert_int_equal(s->ops->policy_get(s, "SgxEnclave", &text, &jws, &v), 0);
	assert_string_equal(text, "p2");
	assert_null(jws);
	assert_true(v > 0);
	free(text);
	assert_int_equal(s->ops->policy_put(s, "SgxEnclave", NULL, NULL, "admin"), 0); /* a reset */
	assert_int_equal(s->ops->policy_get(s, "SgxEnclave", &text, &jws, &v), 0);
	assert_null(text);
	assert_int_equal(s->ops->policy_history_count(s, "SgxEnclave", &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(s->ops->policy_get(s, COCOON_STORE_POLICY_KBS_RESOURCE, &text, &jws, &v), 0);
	assert_string_equal(text, "r1");
	free(text);

	assert_int_equal(s->ops->collateral_put(s, "dcap", "00906ED50000", "{\"a\":1}", 100), 0);
	assert_int_equal(s->ops->collateral_put(s, "dcap", "00906ED50000", "{\"a\":2}", 200), 0);
	assert_int_equal(s->ops->collateral_get(s, "dcap", "00906ED50000", &doc), 0);
	assert_string_equal(doc, "{\"a\":2}");
	free(doc);
	assert_int_equal(s->ops->collateral_get(s, "dcap", "nope", &doc), COCOON_ENOTFOUND);
	assert_int_equal(s->ops->collateral_count(s, "dcap", &n), 0);
	assert_int_equal(n, 1);
}

static void body_resources(cocoon_store *s, const char *url)
{
	uint8_t *v;
	size_t len;
	cocoon_store *nokek;
	const uint8_t bin[] = { 0, 1, 2, 0xff, 0 };

	assert_int_equal(s->ops->resource_get(s, "r", "t", "x", &v, &len), COCOON_ENOTFOUND);
	assert_int_equal(s->ops->resource_put(s, "r", "t", "x", (const uint8_t *)"one", 3), 0);
	assert_int_equal(s->ops->resource_put(s, "r", "t", "x", bin, sizeof(bin)), 0);
	assert_int_equal(s->ops->resource_get(s, "r", "t", "x", &v, &len), 0);
	assert_int_equal(len, sizeof(bin));
	assert_memory_equal(v, bin, len);
	free(v);
	assert_int_equal(s->ops->resource_put(s, "r", "t/x", "y", bin, 1), COCOON_EINVAL);
	assert_int_equal(s->ops->resource_put(s, "r", "", "y", bin, 1), COCOON_EINVAL);
	/* Without the KEK nothing is written or revealed. */
	nokek = open_with(url, NULL);
	assert_int_equal(nokek->ops->resource_get(nokek, "r", "t", "x", &v, &len), COCOON_EINVAL);
	assert_int_equal(nokek->ops->resource_put(nokek, "r", "t", "y", bin, 1), COCOON_EINVAL);
	/* The signing key was sealed: a store without the KEK says what to do. */
	{
		char *alg, *key, *cert;
		assert_int_equal(nokek->ops->key_get(nokek, "k", &alg, &key, &cert), COCOON_EINVAL);
		assert_non_null(strstr(cocoon_error_last()->message, "--secret-key"));
	}
	cocoon_store_close(nokek);
	/* Under another KEK: refused as tampered, never garbage. */
	nokek = open_with(url, other_kek);
	assert_int_equal(nokek->ops->resource_get(nokek, "r", "t", "x", &v, &len), COCOON_EREJECT);
	cocoon_store_close(nokek);
	assert_int_equal(s->ops->resource_delete(s, "r", "t", "x"), 0);
	assert_int_equal(s->ops->resource_delete(s, "r", "t", "x"), COCOON_ENOTFOUND);
	assert_int_equal(s->ops->resource_get(s, "r", "t", "x", &v, &len), COCOON_ENOTFOUND);
}

static void body_sessions(cocoon_store *s)
{
	cocoon_store_session in = { .id = "sess-1", .tee = "sgx", .nonce = "nonce-1", .created = 1000,
		                    .expires = 1300 };
	cocoon_store_session out;
	int64_t removed = -1;

	assert_int_equal(s->ops->session_create(s, &in), 0);
	assert_int_equal(s->ops->session_create(s, &in), COCOON_EREJECT);
	assert_int_equal(s->ops->session_get(s, "sess-1", 1100, &out), 0);
	assert_string_equal(out.state, COCOON_STORE_SESSION_CHALLENGED);
	assert_string_equal(out.nonce, "nonce-1");
	assert_int_equal(out.expires, 1300);
	assert_null(out.token);
	cocoon_store_session_clear(&out);
	assert_int_equal(s->ops->session_get(s, "sess-1", 1300, &out), COCOON_ENOTFOUND); /* expired */
	assert_int_equal(s->ops->session_get(s, "nope", 1100, &out), COCOON_ENOTFOUND);

	/* Another nonce, an expired session, an unknown one: refused, and the nonce stays unused. */
	assert_int_equal(s->ops->session_attest(s, "sess-1", "nonce-2", 1100, "{}", "t", "k"), COCOON_EREJECT);
	assert_non_null(strstr(cocoon_error_last()->message, "another nonce"));
	assert_int_equal(s->ops->session_attest(s, "sess-1", "nonce-1", 1300, "{}", "t", "k"), COCOON_ENOTFOUND);
	assert_int_equal(s->ops->session_attest(s, "nope", "nonce-1", 1100, "{}", "t", "k"), COCOON_ENOTFOUND);
	assert_int_equal(s->ops->session_attest(s, "sess-1", "nonce-1", 1100, "{\"c\":1}", "tok", "{\"kty\":\"EC\"}"), 0);
	/* A nonce is usable once. */
	assert_int_equal(s->ops->session_attest(s, "sess-1", "nonce-1", 1101, "{}", "t", "k"), COCOON_EREJECT);
	assert_non_null(strstr(cocoon_error_last()->message, "used already"));
	assert_int_equal(s->ops->nonce_consume(s, "nonce-1", 1101, 1300), COCOON_EREJECT);
	assert_int_equal(s->ops->session_get(s, "sess-1", 1100, &out), 0);
	assert_string_equal(out.state, COCOON_STORE_SESSION_ATTESTED);
	assert_string_equal(out.claims, "{\"c\":1}");
	assert_string_equal(out.token, "tok");
	assert_string_equal(out.tee_pubkey, "{\"kty\":\"EC\"}");
	cocoon_store_session_clear(&out);
	/* A new session reusing a spent nonce cannot be attested either. */
	in.id = "sess-2";
	assert_int_equal(s->ops->session_create(s, &in), 0);
	assert_int_equal(s->ops->session_attest(s, "sess-2", "nonce-1", 1100, "{}", "t", "k"), COCOON_EREJECT);

	assert_int_equal(s->ops->nonce_consume(s, "n-free", 1000, 1200), 0);
	assert_int_equal(s->ops->nonce_consume(s, "n-free", 1000, 1200), COCOON_EREJECT);
	assert_int_equal(s->ops->session_delete(s, "sess-2"), 0);
	assert_int_equal(s->ops->session_delete(s, "sess-2"), COCOON_ENOTFOUND);
	assert_int_equal(s->ops->purge_expired(s, 1250, &removed), 0);
	assert_int_equal(removed, 1); /* n-free */
	assert_int_equal(s->ops->purge_expired(s, 2000, &removed), 0);
	assert_int_equal(removed, 2); /* sess-1 and nonce-1 */
	assert_int_equal(s->ops->session_get(s, "sess-1", 1100, &out), COCOON_ENOTFOUND);
}

static void backend_body(const char *url)
{
	cocoon_store *s = open_with(url, kek);
	assert_non_null(s);
	body_keys_policies_collateral(s);
	body_resources(s, url);
	body_sessions(s);
	cocoon_store_close(s);
	/* Reopening an up-to-date database migrates nothing and keeps the data. */
	s = open_with(url, kek);
	{
		char *text, *jws;
		int64_t v;
		assert_int_equal(s->ops->policy_get(s, COCOON_STORE_POLICY_KBS_RESOURCE, &text, &jws, &v), 0);
		free(text);
	}
	cocoon_store_close(s);
}

static void test_sqlite_backend(void **state)
{
	char url[300];
	struct stat st;
	(void)state;
	snprintf(url, sizeof(url), "sqlite:%s", tmp_path("body.db"));
	backend_body(url);
	assert_int_equal(stat(tmp_path("body.db"), &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
}

static void test_postgres_backend(void **state)
{
	const char *url = getenv("COCOON_TEST_PG_URL");
	(void)state;
	if (!url || !*url) {
		print_message("SKIP: COCOON_TEST_PG_URL is not set; tests/store/test_store_pg.sh runs this against a real "
		              "PostgreSQL\n");
		skip();
	}
	backend_body(url);
}

/* ---- migrations ---- */

static void sql(const char *path, const char *q)
{
	sqlite3 *db;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	if (sqlite3_exec(db, q, NULL, NULL, NULL) != SQLITE_OK)
		fail_msg("%s: %s", q, sqlite3_errmsg(db));
	sqlite3_close(db);
}

static void test_migrations(void **state)
{
	char url[300];
	const char *path = tmp_path("legacy.db");
	cocoon_store *s = NULL;
	char *alg, *key, *cert;
	int64_t v;
	(void)state;
	/* A database written by attestd before migrations existed: its rows survive, its key still opens. */
	sql(path, "CREATE TABLE meta(name TEXT PRIMARY KEY, value INTEGER NOT NULL);"
	          "INSERT INTO meta VALUES('schema', 1), ('generation', 7);"
	          "CREATE TABLE signing_keys(name TEXT PRIMARY KEY, alg TEXT NOT NULL, key_pem TEXT NOT NULL,"
	          " cert_pem TEXT NOT NULL, created INTEGER NOT NULL);"
	          "INSERT INTO signing_keys VALUES('old', 'RS256', 'PLAINPEM', 'CERT', 1);");
	snprintf(url, sizeof(url), "sqlite:%s", path);
	s = open_with(url, kek);
	assert_int_equal(s->ops->schema_version(s, &v), 0);
	assert_int_equal(v, COCOON_STORE_SCHEMA_VERSION);
	assert_int_equal(s->ops->generation(s, &v), 0);
	assert_int_equal(v, 7);
	assert_int_equal(s->ops->key_get(s, "old", &alg, &key, &cert), 0);
	assert_string_equal(key, "PLAINPEM");
	free(alg), free(key), free(cert);
	cocoon_store_close(s);
	/* Read once with a KEK, the old plaintext key was sealed in place. */
	{
		sqlite3 *db;
		sqlite3_stmt *st;
		assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
		assert_int_equal(sqlite3_prepare_v2(db, "SELECT key_pem, length(key_sealed) FROM signing_keys", -1, &st,
		                                    NULL), SQLITE_OK);
		assert_int_equal(sqlite3_step(st), SQLITE_ROW);
		assert_string_equal((const char *)sqlite3_column_text(st, 0), "");
		assert_int_equal(sqlite3_column_int(st, 1), strlen("PLAINPEM") + COCOON_SECRET_OVERHEAD);
		sqlite3_finalize(st);
		sqlite3_close(db);
	}
	s = open_with(url, kek);
	assert_int_equal(s->ops->key_get(s, "old", &alg, &key, &cert), 0);
	assert_string_equal(key, "PLAINPEM");
	free(alg), free(key), free(cert);
	cocoon_store_close(s);
	/* A newer schema than this build knows: refused with the reason, nothing touched. */
	sql(path, "INSERT INTO schema_migrations VALUES(99, 0)");
	assert_int_equal(cocoon_store_open(&s, url, NULL), COCOON_EUNSUPPORTED);
	assert_null(s);
	assert_non_null(strstr(cocoon_error_last()->message, "schema version 99, newer than this build"));
	/* Bad URLs. */
	assert_int_equal(cocoon_store_open(&s, "mysql://x", NULL), COCOON_EINVAL);
	assert_int_equal(cocoon_store_open(&s, "sqlite:", NULL), COCOON_EINVAL);
	assert_int_equal(cocoon_store_open(&s, "sqlite:/nonexistent-dir/x.db", NULL), COCOON_EIO);
	{
		cocoon_store_options o = COCOON_STORE_OPTIONS_INIT;
		o.version = 99;
		assert_int_equal(cocoon_store_open(&s, url, &o), COCOON_EINVAL);
	}
}

static void test_pg_unreachable(void **state)
{
	cocoon_store *s = NULL;
	char url[300];
	(void)state;
	/* No server on this socket: unavailable (503), not a generic I/O error. */
	snprintf(url, sizeof(url), "postgresql:///x?host=%s&port=1&connect_timeout=2", tmpdir);
	assert_int_equal(cocoon_store_open(&s, url, NULL), COCOON_EUNAVAILABLE);
	assert_null(s);
	assert_string_equal(cocoon_error_name(COCOON_EUNAVAILABLE), "EUNAVAILABLE");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_envelope_roundtrip),
		cmocka_unit_test(test_envelope_tamper),
		cmocka_unit_test(test_kek_file),
		cmocka_unit_test(test_sqlite_backend),
		cmocka_unit_test(test_postgres_backend),
		cmocka_unit_test(test_migrations),
		cmocka_unit_test(test_pg_unreachable),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
