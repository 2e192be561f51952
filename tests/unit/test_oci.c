/*
 * OCI image-layout pieces of src/lib/oci: the digest format, descriptor
 * checks (each malformed field refused with its name), blob reads that
 * verify size and digest, and the layer writer (read back with libarchive:
 * root-owned entries, modes, fixed mtime, reproducible bytes).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <archive.h>
#include <archive_entry.h>
#include <jansson.h>
#include "testutil.h"
#include "cocoon/oci.h"
#include "oci/oci_int.h"

#define assert_msg(sub)                                                                                 \
	do {                                                                                            \
		if (!strstr(cocoon_error_last()->message, (sub)))                                       \
			fail_msg("message \"%s\" lacks \"%s\"", cocoon_error_last()->message, (sub));   \
	} while (0)

#define D64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void test_digest_valid(void **state)
{
	(void)state;
	assert_true(cocoon_oci_digest_valid("sha256:" D64));
	assert_false(cocoon_oci_digest_valid("sha256:" D64 "0"));
	assert_false(cocoon_oci_digest_valid("sha256:0123"));
	assert_false(cocoon_oci_digest_valid("sha512:" D64));
	assert_false(cocoon_oci_digest_valid("SHA256:" D64));
	assert_false(cocoon_oci_digest_valid("sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef"));
	assert_false(cocoon_oci_digest_valid("sha256:../../../../etc/passwd0123456789abcdef0123456789abcdef0123456"));
	assert_false(cocoon_oci_digest_valid(NULL));
}

static void desc_bad(const char *json, const char *msg)
{
	json_t *j = json_loads(json, 0, NULL);
	oci_desc d;
	assert_non_null(j);
	if (oci_desc_parse(&d, j, "here") == 0)
		fail_msg("accepted %s", json);
	assert_msg(msg);
	assert_msg("here");
	json_decref(j);
}

static void test_descriptor(void **state)
{
	(void)state;
	json_t *j = json_loads("{\"mediaType\":\"m\",\"digest\":\"sha256:" D64 "\",\"size\":12,"
	                       "\"annotations\":{\"a\":\"b\"}}", 0, NULL);
	oci_desc d;
	assert_int_equal(oci_desc_parse(&d, j, "x"), 0);
	assert_int_equal(d.size, 12);
	assert_string_equal(d.digest, "sha256:" D64);
	json_decref(j);
	desc_bad("[]", "must be a JSON object");
	desc_bad("{\"digest\":\"sha256:" D64 "\",\"size\":1}", "mediaType");
	desc_bad("{\"mediaType\":\"m\",\"digest\":\"sha256:abc\",\"size\":1}", "digest must be sha256");
	desc_bad("{\"mediaType\":\"m\",\"digest\":\"sha256:" D64 "\",\"size\":-1}", "size must be");
	desc_bad("{\"mediaType\":\"m\",\"digest\":\"sha256:" D64 "\",\"size\":\"1\"}", "size must be");
	desc_bad("{\"mediaType\":\"m\",\"digest\":\"sha256:" D64 "\",\"size\":1,\"annotations\":{\"a\":1}}",
	         "annotation a must be a string");
}

static void test_blob_read(void **state)
{
	(void)state;
	char dir[] = "/tmp/cocoon-oci-test-XXXXXX", sub[128], path[256];
	const char *data = "{\"hello\":1}";
	oci_desc d = { .media_type = "m" };
	uint8_t *out = NULL;
	size_t len = 0;
	FILE *f;

	assert_non_null(mkdtemp(dir));
	snprintf(sub, sizeof(sub), "%s/blobs", dir);
	assert_int_equal(mkdir(sub, 0755), 0);
	snprintf(sub, sizeof(sub), "%s/blobs/sha256", dir);
	assert_int_equal(mkdir(sub, 0755), 0);
	assert_int_equal(oci_blob_write(d.digest, dir, (const uint8_t *)data, strlen(data)), 0);
	d.size = strlen(data);
	assert_int_equal(oci_blob_read(&out, &len, dir, &d, 1024), 0);
	assert_memory_equal(out, data, len);
	free(out);
	/* Size limits and size mismatches are refused before hashing. */
	assert_int_not_equal(oci_blob_read(&out, &len, dir, &d, 4), 0);
	assert_msg("more than the 4 allowed");
	d.size++;
	assert_int_not_equal(oci_blob_read(&out, &len, dir, &d, 1024), 0);
	assert_msg("descriptor says");
	d.size--;
	/* Same size, different content: the digest check catches it. */
	snprintf(path, sizeof(path), "%s/blobs/sha256/%s", dir, d.digest + 7);
	chmod(path, 0644);
	assert_non_null(f = fopen(path, "wb"));
	fputs("{\"hello\":2}", f);
	fclose(f);
	assert_int_not_equal(oci_blob_read(&out, &len, dir, &d, 1024), 0);
	assert_msg("tampered");
	assert_null(out);
	unlink(path);
	assert_int_equal(oci_blob_read(&out, &len, dir, &d, 1024), COCOON_ENOTFOUND);
	rmdir(sub);
	snprintf(sub, sizeof(sub), "%s/blobs", dir);
	rmdir(sub);
	assert_int_equal(rmdir(dir), 0); /* no temporary file left behind */
}

static void test_layer(void **state)
{
	(void)state;
	const oci_layer_entry e[] = {
		{ .path = "cocoon", .mode = 0755 },
		{ .path = "cocoon/run", .data = (const uint8_t *)"\177ELF....", .len = 8, .mode = 0755 },
		{ .path = "cocoon/launch.json", .data = (const uint8_t *)"{}", .len = 2, .mode = 0644 },
	};
	uint8_t *tar, *gz, *tar2, *gz2;
	size_t tl, gl, tl2, gl2, n = 0;
	struct archive *a;
	struct archive_entry *ae;

	assert_int_equal(oci_layer_build(&tar, &tl, &gz, &gl, e, 3, 1700000000), 0);
	assert_int_equal(oci_layer_build(&tar2, &tl2, &gz2, &gl2, e, 3, 1700000000), 0);
	assert_int_equal(tl, tl2);
	assert_memory_equal(tar, tar2, tl);   /* same inputs, same diff_id */
	assert_int_equal(gl, gl2);
	assert_memory_equal(gz, gz2, gl);     /* and the same blob digest: no gzip timestamp */
	assert_true(gl > 2 && gz[0] == 0x1f && gz[1] == 0x8b);

	/* Read the gzip blob back independently of the writer. */
	assert_non_null(a = archive_read_new());
	archive_read_support_filter_gzip(a);
	archive_read_support_format_tar(a);
	assert_int_equal(archive_read_open_memory(a, gz, gl), ARCHIVE_OK);
	while (archive_read_next_header(a, &ae) == ARCHIVE_OK) {
		char want[64];
		/* tar marks directories with a trailing slash */
		snprintf(want, sizeof(want), "%s%s", e[n].path, e[n].data ? "" : "/");
		assert_string_equal(archive_entry_pathname(ae), want);
		assert_int_equal(archive_entry_perm(ae), e[n].mode);
		assert_int_equal(archive_entry_uid(ae), 0);
		assert_int_equal(archive_entry_gid(ae), 0);
		assert_int_equal(archive_entry_mtime(ae), 1700000000);
		assert_int_equal(archive_entry_filetype(ae), e[n].data ? AE_IFREG : AE_IFDIR);
		if (e[n].data) {
			char buf[16];
			assert_int_equal(archive_read_data(a, buf, sizeof(buf)), (la_ssize_t)e[n].len);
			assert_memory_equal(buf, e[n].data, e[n].len);
		}
		n++;
	}
	assert_int_equal(n, 3);
	archive_read_free(a);
	free(tar);
	free(gz);
	free(tar2);
	free(gz2);
}

static void test_wrap_options(void **state)
{
	(void)state;
	cocoon_oci_wrap_options o = COCOON_OCI_WRAP_OPTIONS_INIT;
	cocoon_oci_wrap_result r;
	o.layout = "/nonexistent";
	o.from_tag = "a";
	o.launch_config = "{\"version\":1}";
	o.launch_config_len = strlen(o.launch_config);
	o.run_binary = "/bin/true";
	o.to_tag = "bad/tag";
	assert_int_equal(cocoon_oci_wrap(&r, &o), COCOON_EINVAL);
	assert_msg("bad/tag");
	o.to_tag = "good";
	assert_int_not_equal(cocoon_oci_wrap(&r, &o), 0);
	assert_msg("is /nonexistent an OCI image layout?");
	o.version = 0;
	assert_int_equal(cocoon_oci_wrap(&r, &o), COCOON_EINVAL);
	assert_msg("COCOON_OCI_WRAP_OPTIONS_INIT");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_digest_valid),
		cmocka_unit_test(test_descriptor),
		cmocka_unit_test(test_blob_read),
		cmocka_unit_test(test_layer),
		cmocka_unit_test(test_wrap_options),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
