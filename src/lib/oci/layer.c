/*
 * Layer tarballs, written with libarchive: a pax-restricted (ustar when
 * possible) tar, root-owned entries with a fixed mtime so the same inputs
 * give the same diff_id, then gzip of that tar. The tar is kept because its
 * digest is the layer's diff_id in the image config.
 */
#include <stdlib.h>
#include <string.h>
#include <archive.h>
#include <archive_entry.h>
#include "common/util.h"
#include "oci/oci_int.h"

static la_ssize_t to_buf(struct archive *a, void *ctx, const void *data, size_t len)
{
	(void)a;
	return cocoon_buf_append(ctx, data, len) == 0 ? (la_ssize_t)len : -1;
}

static int la_fail(struct archive *a, const char *what)
{
	return cocoon_error_set(COCOON_EINTERNAL, "layer: %s: %s", what,
	                        archive_error_string(a) ? archive_error_string(a) : "libarchive failed");
}

static int write_data(struct archive *a, const uint8_t *data, size_t len)
{
	while (len > 0) {
		la_ssize_t n = archive_write_data(a, data, len);
		if (n <= 0)
			return la_fail(a, "writing data");
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

static int write_entry(struct archive *a, const oci_layer_entry *e, time_t mtime)
{
	struct archive_entry *ae = archive_entry_new();
	int err = 0;

	if (!ae)
		return cocoon_error_set(COCOON_ENOMEM, "layer: out of memory");
	archive_entry_set_pathname(ae, e->path);
	archive_entry_set_filetype(ae, e->data ? AE_IFREG : AE_IFDIR);
	archive_entry_set_perm(ae, e->mode);
	archive_entry_set_uid(ae, 0);
	archive_entry_set_gid(ae, 0);
	archive_entry_set_mtime(ae, mtime, 0);
	archive_entry_set_size(ae, e->data ? (la_int64_t)e->len : 0);
	if (archive_write_header(a, ae) != ARCHIVE_OK)
		err = la_fail(a, e->path);
	else if (e->data)
		err = write_data(a, e->data, e->len);
	archive_entry_free(ae);
	return err;
}

static int make_tar(cocoon_buf *out, const oci_layer_entry *e, size_t n, time_t mtime)
{
	struct archive *a = archive_write_new();
	int err = 0;

	if (!a)
		return cocoon_error_set(COCOON_ENOMEM, "layer: out of memory");
	if (archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
	    archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK ||
	    archive_write_open2(a, out, NULL, to_buf, NULL, NULL) != ARCHIVE_OK) {
		err = la_fail(a, "opening the tar writer");
		goto done;
	}
	for (size_t i = 0; i < n && err == 0; i++)
		err = write_entry(a, &e[i], mtime);
	if (err == 0 && archive_write_close(a) != ARCHIVE_OK)
		err = la_fail(a, "closing the tar");
done:
	archive_write_free(a);
	return err;
}

/* gzip of an existing byte stream: libarchive's raw format passes one entry's data through the filter. */
static int make_gzip(cocoon_buf *out, const uint8_t *data, size_t len, time_t mtime)
{
	struct archive *a = archive_write_new();
	oci_layer_entry e = { .path = "layer.tar", .data = data, .len = len, .mode = 0644 };
	int err = 0;

	if (!a)
		return cocoon_error_set(COCOON_ENOMEM, "layer: out of memory");
	if (archive_write_set_format_raw(a) != ARCHIVE_OK || archive_write_add_filter_gzip(a) != ARCHIVE_OK ||
	    archive_write_set_options(a, "gzip:!timestamp") != ARCHIVE_OK ||
	    archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK ||
	    archive_write_open2(a, out, NULL, to_buf, NULL, NULL) != ARCHIVE_OK) {
		err = la_fail(a, "opening the gzip writer");
		goto done;
	}
	if ((err = write_entry(a, &e, mtime)) == 0 && archive_write_close(a) != ARCHIVE_OK)
		err = la_fail(a, "closing the gzip stream");
done:
	archive_write_free(a);
	return err;
}

int oci_layer_build(uint8_t **tar, size_t *tar_len, uint8_t **gz, size_t *gz_len, const oci_layer_entry *e,
                    size_t n, time_t mtime)
{
	cocoon_buf t = { 0 }, g = { 0 };
	int err;

	*tar = *gz = NULL;
	*tar_len = *gz_len = 0;
	if ((err = make_tar(&t, e, n, mtime)) != 0 || (err = make_gzip(&g, t.data, t.len, mtime)) != 0) {
		cocoon_buf_free(&t);
		cocoon_buf_free(&g);
		return err;
	}
	*tar = t.data;
	*tar_len = t.len;
	*gz = g.data;
	*gz_len = g.len;
	return 0;
}
