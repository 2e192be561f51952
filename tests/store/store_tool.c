/*
 * store_tool: drives the store from the shell tests in tests/store, so that
 * several processes, a kill -9 and a PostgreSQL outage can be staged for real.
 *
 *   store_tool URL KEY put REPO TYPE TAG VALUE     store a resource
 *   store_tool URL KEY get REPO TYPE TAG           print it (exit 3: absent)
 *   store_tool URL KEY session ID NONCE            create a session (5 minutes)
 *   store_tool URL KEY attest ID NONCE             "won" (exit 0) or "lost" (exit 1)
 *   store_tool URL KEY writers THREADS PREFIX      concurrent writes until killed; prints
 *                                                  "ok REPO/TYPE/TAG" after each commit
 *   store_tool URL KEY check                       reads "ok PATH" lines on stdin, checks each
 *   store_tool URL KEY probe                       one connection; per stdin line, a write and a
 *                                                  read; prints the error name (OK, EUNAVAILABLE)
 *   store_tool URL KEY version                     print the schema version
 * KEY is the KEK file; "-" for none. Exit 2: usage or open failure.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "cocoon/store.h"

static cocoon_kek *kek;
static const char *url;

static int open_store(cocoon_store **s)
{
	cocoon_store_options o = COCOON_STORE_OPTIONS_INIT;
	o.kek = kek;
	if (cocoon_store_open(s, url, &o) != 0) {
		fprintf(stderr, "store_tool: %s\n", cocoon_error_last()->message);
		return -1;
	}
	return 0;
}

/* The value a writer stores at a path: recomputable by the checker, different per path. */
static void expected(char *buf, size_t n, const char *path)
{
	unsigned long h = 5381;
	for (const char *p = path; *p; p++)
		h = h * 33 + (unsigned char)*p;
	snprintf(buf, n, "value-of:%s:%016lx:%s", path, h, path);
}

typedef struct {
	int id;
	const char *prefix;
} writer_arg;

static void *writer(void *p)
{
	const writer_arg *a = p;
	cocoon_store *s;
	char tag[32], type[32], val[512], path[160];
	if (open_store(&s) != 0)
		return NULL;
	for (long i = 0;; i++) {
		snprintf(type, sizeof(type), "t%d", a->id);
		snprintf(tag, sizeof(tag), "n%ld", i);
		snprintf(path, sizeof(path), "%s/%s/%s", a->prefix, type, tag);
		expected(val, sizeof(val), path);
		if (s->ops->resource_put(s, a->prefix, type, tag, (const uint8_t *)val, strlen(val)) != 0) {
			fprintf(stderr, "store_tool: write %s: %s\n", path, cocoon_error_last()->message);
			continue;
		}
		/* Only now is the write committed: say so, in one write(2) so lines never interleave. */
		{
			char line[200];
			int n = snprintf(line, sizeof(line), "ok %s\n", path);
			fwrite(line, 1, (size_t)n, stdout);
			fflush(stdout);
		}
	}
	return NULL;
}

static int writers(int n, const char *prefix)
{
	pthread_t t[64];
	writer_arg a[64];
	if (n < 1 || n > 64)
		return 2;
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (int i = 0; i < n; i++) {
		a[i].id = i;
		a[i].prefix = prefix;
		pthread_create(&t[i], NULL, writer, &a[i]);
	}
	for (int i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	return 1;
}

static int check(cocoon_store *s)
{
	char line[256], want[600];
	long n = 0, bad = 0;
	while (fgets(line, sizeof(line), stdin)) {
		char *path, *repo, *type, *tag, *save = NULL;
		uint8_t *v = NULL;
		size_t len = 0;
		line[strcspn(line, "\n")] = '\0';
		if (strncmp(line, "ok ", 3) != 0)
			continue; /* a line cut by the kill: it was never reported whole */
		path = line + 3;
		expected(want, sizeof(want), path);
		repo = strtok_r(path, "/", &save);
		type = strtok_r(NULL, "/", &save);
		tag = strtok_r(NULL, "/", &save);
		if (!repo || !type || !tag)
			continue;
		n++;
		if (s->ops->resource_get(s, repo, type, tag, &v, &len) != 0) {
			fprintf(stderr, "LOST %s/%s/%s: %s\n", repo, type, tag, cocoon_error_last()->message);
			bad++;
		} else if (len != strlen(want) || memcmp(v, want, len) != 0) {
			fprintf(stderr, "CORRUPT %s/%s/%s\n", repo, type, tag);
			bad++;
		}
		free(v);
	}
	printf("checked %ld committed writes, %ld lost or corrupt\n", n, bad);
	return bad || n == 0 ? 1 : 0;
}

static int probe(cocoon_store *s)
{
	char line[64];
	while (fgets(line, sizeof(line), stdin)) {
		uint8_t *v = NULL;
		size_t len = 0;
		int err = s->ops->resource_put(s, "probe", "t", "x", (const uint8_t *)"v", 1);
		if (!err)
			err = s->ops->resource_get(s, "probe", "t", "x", &v, &len);
		free(v);
		printf("%s %s\n", cocoon_error_name(err), err ? cocoon_error_last()->message : "");
		fflush(stdout);
	}
	return 0;
}

static int run(cocoon_store *s, int argc, char **argv)
{
	const char *cmd = argv[3];
	time_t now = time(NULL);

	if (strcmp(cmd, "put") == 0 && argc == 8)
		return s->ops->resource_put(s, argv[4], argv[5], argv[6], (const uint8_t *)argv[7], strlen(argv[7])) ? 1 : 0;
	if (strcmp(cmd, "get") == 0 && argc == 7) {
		uint8_t *v = NULL;
		size_t len = 0;
		int err = s->ops->resource_get(s, argv[4], argv[5], argv[6], &v, &len);
		if (err)
			return err == COCOON_ENOTFOUND ? 3 : 1;
		fwrite(v, 1, len, stdout);
		putchar('\n');
		free(v);
		return 0;
	}
	if (strcmp(cmd, "session") == 0 && argc == 6) {
		cocoon_store_session ss = { .id = argv[4], .tee = "sim", .nonce = argv[5], .created = now,
			                    .expires = now + 300 };
		return s->ops->session_create(s, &ss) ? 1 : 0;
	}
	if (strcmp(cmd, "attest") == 0 && argc == 6) {
		int err = s->ops->session_attest(s, argv[4], argv[5], now, "{}", "token", "{}");
		puts(err ? "lost" : "won");
		return err ? 1 : 0;
	}
	if (strcmp(cmd, "check") == 0 && argc == 4)
		return check(s);
	if (strcmp(cmd, "probe") == 0 && argc == 4)
		return probe(s);
	if (strcmp(cmd, "version") == 0 && argc == 4) {
		int64_t v = 0;
		if (s->ops->schema_version(s, &v) != 0)
			return 1;
		printf("%lld\n", (long long)v);
		return 0;
	}
	fprintf(stderr, "store_tool: bad command (see the comment at the top of tests/store/store_tool.c)\n");
	return 2;
}

int main(int argc, char **argv)
{
	cocoon_store *s = NULL;
	int rc;

	if (argc < 4) {
		fprintf(stderr, "usage: store_tool URL KEYFILE|- COMMAND ...\n");
		return 2;
	}
	url = argv[1];
	if (strcmp(argv[2], "-") != 0 && cocoon_kek_load(&kek, argv[2]) != 0) {
		fprintf(stderr, "store_tool: %s\n", cocoon_error_last()->message);
		return 2;
	}
	if (strcmp(argv[3], "writers") == 0 && argc == 6)
		return writers(atoi(argv[4]), argv[5]);
	if (open_store(&s) != 0)
		return 2;
	rc = run(s, argc, argv);
	if (rc == 1 && cocoon_error_last()->code)
		fprintf(stderr, "store_tool: %s\n", cocoon_error_last()->message);
	cocoon_store_close(s);
	cocoon_kek_free(kek);
	return rc;
}
