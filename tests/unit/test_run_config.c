/*
 * The launcher's library (src/lib/run): the launch configuration parser
 * (each bad input is refused with a message naming the key), template
 * substitution (strict: malformed templates and unknown resources are
 * errors), argv/envp construction, and the memory-backed secrets directory.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include "testutil.h"
#include "cocoon/run.h"

#define assert_msg(sub)                                                                                 \
	do {                                                                                            \
		if (!strstr(cocoon_error_last()->message, (sub)))                                       \
			fail_msg("message \"%s\" lacks \"%s\"", cocoon_error_last()->message, (sub));   \
	} while (0)

static cocoon_run_config *parse_ok(const char *json)
{
	cocoon_run_config *c = NULL;
	if (cocoon_run_config_parse(&c, json, strlen(json)) != 0)
		fail_msg("parse failed: %s\n%s", cocoon_error_last()->message, json);
	return c;
}

static void test_full_config(void **state)
{
	(void)state;
	cocoon_run_config *c = parse_ok(
		"{\"version\":1,\"broker\":{\"url\":\"https://kbs.example:8080\",\"ca\":\"/cocoon/ca.pem\"},"
		"\"evidence\":{\"provider\":\"tsm\",\"tee\":\"snp\"},\"secrets_dir\":\"/run/s\","
		"\"resources\":[{\"path\":\"default/db/password\",\"env\":\"DB_PASSWORD\","
		"\"file\":{\"name\":\"db-password\",\"mode\":\"0440\",\"uid\":1000,\"gid\":2000}},"
		"{\"path\":\"default/api/key\"}],"
		"\"env\":{\"API_KEY\":\"Bearer {{ resource \\\"default/api/key\\\" }}\"},"
		"\"command\":[\"/app\",\"--key={{resource \\\"default/api/key\\\"}}\",\"\"],"
		"\"init_data\":\"algorithm = \\\"sha384\\\"\\n\",\"retry\":{\"deadline_seconds\":90}}");
	assert_string_equal(c->provider, "configfs-tsm");
	assert_int_equal(c->tee, COCOON_TEE_SNP);
	assert_string_equal(c->broker_ca, "/cocoon/ca.pem");
	assert_int_equal(c->n_resources, 2);
	assert_int_equal(c->resources[0].mode, 0440);
	assert_int_equal(c->resources[0].uid, 1000);
	assert_int_equal(c->resources[0].gid, 2000);
	assert_null(c->resources[1].env);
	assert_null(c->resources[1].file);
	assert_int_equal(c->command_len, 3);
	assert_string_equal(c->command[2], "");
	assert_null(c->command[3]);
	assert_int_equal(c->retry_deadline_s, 90);
	assert_int_equal(c->init_data_len, strlen("algorithm = \"sha384\"\n"));
	cocoon_run_config_free(c);

	c = parse_ok("{\"version\":1}");
	assert_string_equal(c->provider, "auto");
	assert_string_equal(c->secrets_dir, COCOON_RUN_DEFAULT_SECRETS_DIR);
	assert_null(c->command);
	assert_int_equal(c->retry_deadline_s, 30);
	cocoon_run_config_free(c);

	/* http:// is fine to loopback, and anywhere with simulated evidence. */
	cocoon_run_config_free(parse_ok("{\"version\":1,\"broker\":{\"url\":\"http://127.0.0.1:8080\"}}"));
	cocoon_run_config_free(parse_ok("{\"version\":1,\"broker\":{\"url\":\"http://[::1]/\"}}"));
	cocoon_run_config_free(parse_ok("{\"version\":1,\"broker\":{\"url\":\"http://attestd:8080\"},"
	                                "\"evidence\":{\"provider\":\"sim\",\"sim_dir\":\"/sim\"}}"));
}

/* Each bad input, and the key its message must name. */
static const struct {
	const char *json, *msg;
} bad_inputs[] = {
	{ "", "invalid JSON" },
	{ "[]", "expected a JSON object" },
	{ "{}", "version: required" },
	{ "{\"version\":2}", "version: required, and must be 1" },
	{ "{\"version\":1,\"version\":1}", "invalid JSON" },
	{ "{\"version\":1,\"comand\":[\"x\"]}", "unknown key \"comand\"" },
	{ "{\"version\":1,\"evidence\":{\"provider\":\"sgx\"}}", "evidence.provider: \"sgx\" is not one of" },
	{ "{\"version\":1,\"evidence\":{\"provider\":\"sim\"}}", "evidence.sim_dir: required" },
	{ "{\"version\":1,\"evidence\":{\"provider\":\"auto\",\"sim_dir\":\"/s\"}}", "evidence.sim_dir: only allowed" },
	{ "{\"version\":1,\"evidence\":{\"provider\":\"sim\",\"sim_dir\":\"rel\"}}", "evidence.sim_dir: \"rel\" is not an absolute" },
	{ "{\"version\":1,\"evidence\":{\"tee\":\"sev\"}}", "evidence.tee" },
	{ "{\"version\":1,\"evidence\":{\"prov\":\"auto\"}}", "evidence: unknown key \"prov\"" },
	{ "{\"version\":1,\"broker\":{\"url\":\"https://kbs\"}}", "broker.ca: required with https" },
	{ "{\"version\":1,\"broker\":{\"url\":\"http://kbs.example\"}}", "broker.url: plain http:// is allowed only" },
	{ "{\"version\":1,\"broker\":{\"url\":\"http://127.0.0.1@evil.example/\"}}", "broker.url: user information" },
	{ "{\"version\":1,\"broker\":{\"url\":\"http://127.evil.example/\"}}", "broker.url: plain http:// is allowed only" },
	{ "{\"version\":1,\"broker\":{\"url\":\"ftp://kbs\"}}", "broker.url: \"ftp://kbs\" must start with https://" },
	{ "{\"version\":1,\"broker\":{\"url\":\"https://\",\"ca\":\"/ca\"}}", "broker.url: \"https://\" has no host" },
	{ "{\"version\":1,\"broker\":{\"url\":\"https://k\",\"ca\":\"ca.pem\"}}", "broker.ca: \"ca.pem\" is not an absolute" },
	{ "{\"version\":1,\"broker\":\"https://k\"}", "broker: expected an object" },
	{ "{\"version\":1,\"resources\":[{\"path\":\"a/b/c\"}]}", "broker: required when resources" },
	{ "{\"version\":1,\"broker\":{\"url\":\"http://127.0.0.1\"},\"resources\":[{\"path\":\"a/b\"}]}",
	  "resources[0].path: \"a/b\" is not repo/type/tag" },
	{ "{\"version\":1,\"broker\":{\"url\":\"http://127.0.0.1\"},\"resources\":[{\"path\":\"a/../c\"}]}",
	  "resources[0].path" },
	{ "{\"version\":1,\"broker\":{\"url\":\"http://127.0.0.1\"},\"resources\":[{\"path\":\"a/b/c\",\"env\":\"1X\"}]}",
	  "resources[0].env: \"1X\" is not a variable name" },
	{ "{\"version\":1,\"broker\":{\"url\":\"http://127.0.0.1\"},\"resources\":[{\"path\":\"a/b/c\",\"file\":{\"name\":\"../x\"}}]}",
	  "resources[0].file.name: \"../x\" must be a plain file name" },
	{ "{\"version\":1,\"broker\":{\"url\":\"http://127.0.0.1\"},\"resources\":[{\"path\":\"a/b/c\",\"file\":{\"name\":\"x\",\"mode\":400}}]}",
	  "resources[0].file.mode: expected an octal string" },
	{ "{\"version\":1,\"broker\":{\"url\":\"http://127.0.0.1\"},\"resources\":[{\"path\":\"a/b/c\",\"file\":{\"name\":\"x\",\"mode\":\"0948\"}}]}",
	  "resources[0].file.mode: \"0948\" is not an octal mode" },
	{ "{\"version\":1,\"broker\":{\"url\":\"http://127.0.0.1\"},\"resources\":[{\"path\":\"a/b/c\",\"file\":{\"name\":\"x\",\"mode\":\"4755\"}}]}",
	  "sets setuid" },
	{ "{\"version\":1,\"broker\":{\"url\":\"http://127.0.0.1\"},\"resources\":[{\"path\":\"a/b/c\",\"file\":{\"name\":\"x\",\"uid\":-1}}]}",
	  "resources[0].file.uid: expected an integer" },
	{ "{\"version\":1,\"broker\":{\"url\":\"http://127.0.0.1\"},\"resources\":[{\"path\":\"a/b/c\",\"file\":{\"name\":\"x\",\"owner\":0}}]}",
	  "resources[0].file: unknown key \"owner\"" },
	{ "{\"version\":1,\"broker\":{\"url\":\"http://127.0.0.1\"},\"resources\":[{\"path\":\"a/b/c\"},{\"path\":\"a/b/c\"}]}",
	  "listed twice" },
	{ "{\"version\":1,\"broker\":{\"url\":\"http://127.0.0.1\"},\"resources\":[{\"path\":\"a/b/c\",\"env\":\"K\"},{\"path\":\"a/b/d\",\"env\":\"K\"}]}",
	  "variable K is set by two resources" },
	{ "{\"version\":1,\"broker\":{\"url\":\"http://127.0.0.1\"},\"resources\":[{\"path\":\"a/b/c\",\"env\":\"K\"}],\"env\":{\"K\":\"v\"}}",
	  "env: K is also set by resource" },
	{ "{\"version\":1,\"env\":{\"A-B\":\"v\"}}", "env.A-B: not a variable name" },
	{ "{\"version\":1,\"env\":{\"A\":1}}", "env.A: expected a string" },
	{ "{\"version\":1,\"command\":[]}", "command: expected a non-empty array" },
	{ "{\"version\":1,\"command\":\"/bin/sh\"}", "command: expected a non-empty array" },
	{ "{\"version\":1,\"command\":[\"\"]}", "command[0]: must not be empty" },
	{ "{\"version\":1,\"command\":[\"/a\",2]}", "command[1]: expected a string" },
	{ "{\"version\":1,\"command\":[\"/a\",\"{{ resource \\\"a/b/c\\\" }}\"]}",
	  "command[1]: template names resource \"a/b/c\", which is not in the configuration" },
	{ "{\"version\":1,\"env\":{\"X\":\"{{ secret \\\"a/b/c\\\" }}\"}}", "env.X: template at offset 0: expected {{ resource" },
	{ "{\"version\":1,\"init_data\":\"\"}", "init_data: must not be empty" },
	{ "{\"version\":1,\"retry\":{\"deadline_seconds\":3601}}", "retry.deadline_seconds: expected an integer from 0 to 3600" },
	{ "{\"version\":1,\"retry\":{\"deadline\":5}}", "retry: unknown key \"deadline\"" },
	{ "{\"version\":1,\"secrets_dir\":\"/run/../etc\"}", "secrets_dir: \"/run/../etc\" contains \"..\"" },
	{ "{\"version\":1,\"command\":[\"/a\\u0000b\"]}", "invalid JSON" },
};

static void test_bad_inputs(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_inputs) / sizeof(bad_inputs[0]); i++) {
		cocoon_run_config *c = (cocoon_run_config *)1;
		int err = cocoon_run_config_parse(&c, bad_inputs[i].json, strlen(bad_inputs[i].json));
		if (err == 0)
			fail_msg("accepted: %s", bad_inputs[i].json);
		assert_null(c);
		if (!strstr(cocoon_error_last()->message, bad_inputs[i].msg))
			fail_msg("input %s\nmessage \"%s\" lacks \"%s\"", bad_inputs[i].json, cocoon_error_last()->message,
			         bad_inputs[i].msg);
		assert_non_null(strstr(cocoon_error_last()->message, "launch configuration"));
	}
}

static const cocoon_run_value vals[] = {
	{ .path = "default/db/password", .data = (const uint8_t *)"s3cret", .len = 6 },
	{ .path = "default/api/key", .data = (const uint8_t *)"k-1", .len = 3 },
	{ .path = "default/bin/blob", .data = (const uint8_t *)"a\0b", .len = 3 },
	{ .path = "default/empty/x", .data = (const uint8_t *)"", .len = 0 },
};
#define NV (sizeof(vals) / sizeof(vals[0]))

static void expand_ok(const char *in, const char *want)
{
	char *out = NULL;
	if (cocoon_run_template_expand(&out, in, vals, NV, NULL, 0) != 0)
		fail_msg("expand \"%s\": %s", in, cocoon_error_last()->message);
	assert_string_equal(out, want);
	free(out);
}

static void expand_bad(const char *in, const char *msg)
{
	char *out = (char *)1;
	if (cocoon_run_template_expand(&out, in, vals, NV, NULL, 0) == 0)
		fail_msg("expand \"%s\" accepted", in);
	assert_null(out);
	assert_msg(msg);
}

static void test_template_expand(void **state)
{
	(void)state;
	expand_ok("plain text", "plain text");
	expand_ok("", "");
	expand_ok("{{ resource \"default/db/password\" }}", "s3cret");
	expand_ok("{{resource \"default/db/password\"}}", "s3cret");
	expand_ok("pw={{\tresource  \"default/db/password\"\t}};key={{ resource \"default/api/key\" }}!",
	          "pw=s3cret;key=k-1!");
	expand_ok("[{{ resource \"default/empty/x\" }}]", "[]");
	expand_ok("a } } and }} stay", "a } } and }} stay");

	expand_bad("{{ resource \"default/nope/x\" }}", "template names resource \"default/nope/x\"");
	expand_bad("x{{ resource default/db/password }}", "template at offset 1: the resource path must be in double quotes");
	expand_bad("{{ resources \"default/db/password\" }}", "expected {{ resource");
	expand_bad("{{ resource \"default/db/password\" }", "expected }} after the resource path");
	expand_bad("{{ resource \"default/db/password }}", "unterminated resource path");
	expand_bad("{{ resource \"default/db\" }}", "is not repo/type/tag");
	expand_bad("{{ resource \"a//b\" }}", "is not repo/type/tag");
	expand_bad("{{", "expected {{ resource");
	expand_bad("literal {{ braces }}", "template at offset 8");
	expand_bad("{{ resource \"default/bin/blob\" }}", "contains a NUL byte");

	/* Check-only mode: paths are looked up in the configured list. */
	const char *known[] = { "a/b/c" };
	assert_int_equal(cocoon_run_template_expand(NULL, "{{ resource \"a/b/c\" }}", NULL, 0, known, 1), 0);
	assert_int_not_equal(cocoon_run_template_expand(NULL, "{{ resource \"a/b/d\" }}", NULL, 0, known, 1), 0);
	assert_msg("a/b/d");
}

static const char *find_env(char **envp, const char *name)
{
	size_t n = strlen(name);
	for (size_t i = 0; envp[i]; i++)
		if (strncmp(envp[i], name, n) == 0 && envp[i][n] == '=')
			return envp[i] + n + 1;
	return NULL;
}

static void test_build_exec(void **state)
{
	(void)state;
	cocoon_run_config *c = parse_ok(
		"{\"version\":1,\"broker\":{\"url\":\"http://127.0.0.1:1\"},"
		"\"resources\":[{\"path\":\"default/db/password\",\"env\":\"DB_PASSWORD\"},{\"path\":\"default/api/key\"}],"
		"\"env\":{\"API\":\"Bearer {{ resource \\\"default/api/key\\\" }}\",\"PATH\":\"/x\"},"
		"\"command\":[\"/bin/app\",\"--k={{ resource \\\"default/api/key\\\" }}\"]}");
	char *base[] = { "HOME=/root", "PATH=/bin", "DB_PASSWORD=stale", NULL };
	char *cmdline[] = { "/bin/other", NULL };
	char **argv = NULL, **envp = NULL;

	assert_int_equal(cocoon_run_build_exec(&argv, &envp, c, NULL, 0, base, vals, NV), 0);
	assert_string_equal(argv[0], "/bin/app");
	assert_string_equal(argv[1], "--k=k-1");
	assert_null(argv[2]);
	assert_string_equal(find_env(envp, "HOME"), "/root");
	assert_string_equal(find_env(envp, "PATH"), "/x");
	assert_string_equal(find_env(envp, "DB_PASSWORD"), "s3cret");
	assert_string_equal(find_env(envp, "API"), "Bearer k-1");
	for (size_t i = 0; envp[i]; i++)
		assert_null(strstr(envp[i], "stale"));
	cocoon_run_strv_free(argv);
	cocoon_run_strv_free(envp);

	/* The configuration fixes the command: a command line is refused. */
	assert_int_not_equal(cocoon_run_build_exec(&argv, &envp, c, cmdline, 1, base, vals, NV), 0);
	assert_msg("fixes the command");
	assert_null(argv);
	/* A resource that was not fetched is an error, never an empty variable. */
	assert_int_not_equal(cocoon_run_build_exec(&argv, &envp, c, NULL, 0, base, vals + 1, 1), 0);
	assert_int_equal(cocoon_error_last()->code, COCOON_ENOTFOUND);
	assert_msg("default/db/password");
	cocoon_run_config_free(c);

	/* Without a configured command the command line is used verbatim, templates and all. */
	c = parse_ok("{\"version\":1}");
	char *tpl[] = { "/bin/echo", "{{ resource \"a/b/c\" }}", NULL };
	assert_int_equal(cocoon_run_build_exec(&argv, &envp, c, tpl, 2, base, NULL, 0), 0);
	assert_string_equal(argv[1], "{{ resource \"a/b/c\" }}");
	cocoon_run_strv_free(argv);
	cocoon_run_strv_free(envp);
	assert_int_not_equal(cocoon_run_build_exec(&argv, &envp, c, NULL, 0, base, NULL, 0), 0);
	assert_msg("no command");
	cocoon_run_config_free(c);
}

static void test_secrets_dir(void **state)
{
	(void)state;
	char dir[] = "/var/tmp/cocoon-run-test-XXXXXX";
	struct statfs fs;
	int fd = -2;

	/* A disk-backed directory is refused and says how to fix it. */
	assert_non_null(mkdtemp(dir));
	if (statfs(dir, &fs) == 0 && (fs.f_type == 0x01021994 || fs.f_type == 0x858458f6)) {
		rmdir(dir);
		skip(); /* /var/tmp is itself a tmpfs here: no disk to test against */
	}
	assert_int_equal(cocoon_run_secrets_dir_open(&fd, dir), COCOON_EREJECT);
	assert_int_equal(fd, -1);
	assert_msg("is not memory-backed");
	assert_msg("medium: Memory");
	rmdir(dir);
	assert_int_equal(cocoon_run_secrets_dir_open(&fd, "/nonexistent/cocoon"), COCOON_ENOTFOUND);

	/* /dev/shm is a tmpfs on Linux: files land with the mode asked for, replacing an old copy. */
	char shm[] = "/dev/shm/cocoon-run-test-XXXXXX";
	char path[128];
	struct stat st;
	if (!mkdtemp(shm))
		skip();
	assert_int_equal(cocoon_run_secrets_dir_open(&fd, shm), 0);
	assert_int_equal(cocoon_run_secret_write(fd, "pw", (const uint8_t *)"old", 3, 0400, getuid(), getgid()), 0);
	assert_int_equal(cocoon_run_secret_write(fd, "pw", (const uint8_t *)"s3cret", 6, 0440, getuid(), getgid()), 0);
	snprintf(path, sizeof(path), "%s/pw", shm);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0440);
	assert_int_equal(st.st_size, 6);
	assert_int_not_equal(cocoon_run_secret_write(fd, "../escape", (const uint8_t *)"x", 1, 0400, 0, 0), 0);
	unlink(path);
	close(fd);
	assert_int_equal(rmdir(shm), 0); /* no temporary file left behind */
}

static void test_exit_names(void **state)
{
	(void)state;
	assert_string_equal(cocoon_run_exit_name(COCOON_RUN_EXIT_CONFIG), "configuration");
	assert_string_equal(cocoon_run_exit_name(COCOON_RUN_EXIT_NO_TEE), "no TEE evidence");
	assert_string_equal(cocoon_run_exit_name(COCOON_RUN_EXIT_BROKER), "broker unreachable");
	assert_string_equal(cocoon_run_exit_name(COCOON_RUN_EXIT_POLICY), "policy denied");
	assert_string_equal(cocoon_run_exit_name(3), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_config),
		cmocka_unit_test(test_bad_inputs),
		cmocka_unit_test(test_template_expand),
		cmocka_unit_test(test_build_exec),
		cmocka_unit_test(test_secrets_dir),
		cmocka_unit_test(test_exit_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
