/*
 * OCI image layout blobs and descriptors: content-addressed files under
 * blobs/sha256/. A layout is untrusted input (it may come from anywhere),
 * so every descriptor is checked for shape and every blob read is checked
 * against its size and digest before it is parsed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <openssl/rand.h>
#include "common/util.h"
#include "oci/oci_int.h"

int cocoon_oci_digest_valid(const char *text)
{
	if (!text || strncmp(text, "sha256:", 7) != 0 || strlen(text) != 7 + 64)
		return 0;
	for (size_t i = 7; i < 7 + 64; i++)
		if (!((text[i] >= '0' && text[i] <= '9') || (text[i] >= 'a' && text[i] <= 'f')))
			return 0;
	return 1;
}

int oci_digest(char digest[COCOON_OCI_DIGEST_SIZE], const uint8_t *data, size_t len)
{
	uint8_t h[32];
	const void *parts[1] = { data };
	size_t lens[1] = { len };
	int err;

	if ((err = cocoon_sha256(h, 1, parts, lens)) != 0)
		return err;
	memcpy(digest, "sha256:", 7);
	cocoon_hex_encode(digest + 7, h, sizeof(h));
	return 0;
}

int oci_desc_parse(oci_desc *out, const json_t *d, const char *where)
{
	const json_t *mt, *dg, *sz, *an;
	const char *k;
	json_t *v;

	memset(out, 0, sizeof(*out));
	if (!json_is_object(d))
		return cocoon_error_set(COCOON_EFORMAT, "%s: a descriptor must be a JSON object", where);
	mt = json_object_get(d, "mediaType");
	dg = json_object_get(d, "digest");
	sz = json_object_get(d, "size");
	if (!json_is_string(mt) || json_string_length(mt) == 0 || json_string_length(mt) > 255)
		return cocoon_error_set(COCOON_EFORMAT, "%s: mediaType must be a non-empty string", where);
	if (!json_is_string(dg) || !cocoon_oci_digest_valid(json_string_value(dg)))
		return cocoon_error_set(COCOON_EFORMAT, "%s: digest must be sha256:<64 lowercase hex digits>", where);
	if (!json_is_integer(sz) || json_integer_value(sz) < 0 || (uint64_t)json_integer_value(sz) > OCI_MAX_SIZE)
		return cocoon_error_set(COCOON_EFORMAT, "%s: size must be a non-negative integer", where);
	if ((an = json_object_get(d, "annotations"))) {
		if (!json_is_object(an))
			return cocoon_error_set(COCOON_EFORMAT, "%s: annotations must be an object", where);
		json_object_foreach((json_t *)an, k, v)
			if (!json_is_string(v))
				return cocoon_error_set(COCOON_EFORMAT, "%s: annotation %.64s must be a string", where, k);
	}
	out->media_type = json_string_value(mt);
	snprintf(out->digest, sizeof(out->digest), "%s", json_string_value(dg));
	out->size = (uint64_t)json_integer_value(sz);
	return 0;
}

static int blob_path(char *out, size_t cap, const char *layout, const char *digest)
{
	if ((size_t)snprintf(out, cap, "%s/blobs/sha256/%s", layout, digest + 7) >= cap)
		return cocoon_error_set(COCOON_EINVAL, "OCI layout path %.128s is too long", layout);
	return 0;
}

int oci_blob_read(uint8_t **out, size_t *len, const char *layout, const oci_desc *d, size_t max)
{
	char path[4200], got[COCOON_OCI_DIGEST_SIZE];
	uint8_t *buf = NULL;
	struct stat st;
	size_t used = 0;
	int fd = -1, err = 0;

	*out = NULL;
	*len = 0;
	if ((err = blob_path(path, sizeof(path), layout, d->digest)) != 0)
		return err;
	if (d->size > max)
		return cocoon_error_set(COCOON_EFORMAT, "blob %s: %llu bytes is more than the %zu allowed", d->digest,
		                        (unsigned long long)d->size, max);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0 || fstat(fd, &st) != 0)
		return cocoon_error_set(COCOON_ENOTFOUND, "blob %s: %s: %s", d->digest, path, strerror(errno));
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size != d->size) {
		err = cocoon_error_set(COCOON_EFORMAT, "blob %s: the file holds %lld bytes, the descriptor says %llu",
		                       d->digest, (long long)st.st_size, (unsigned long long)d->size);
		goto done;
	}
	if (!(buf = malloc(d->size + 1))) {
		err = cocoon_error_set(COCOON_ENOMEM, "blob %s: out of memory", d->digest);
		goto done;
	}
	while (used < d->size) {
		ssize_t n = read(fd, buf + used, d->size - used);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err = cocoon_error_set(COCOON_EIO, "blob %s: short read", d->digest);
			goto done;
		}
		used += (size_t)n;
	}
	buf[used] = '\0';
	if ((err = oci_digest(got, buf, used)) != 0)
		goto done;
	if (strcmp(got, d->digest) != 0) {
		err = cocoon_error_set(COCOON_EFORMAT, "blob %s: content hashes to %s; the layout is corrupt or tampered",
		                       d->digest, got);
		goto done;
	}
	*out = buf;
	*len = used;
	buf = NULL;
done:
	free(buf);
	if (fd >= 0)
		close(fd);
	return err;
}

int oci_file_replace(const char *path, const uint8_t *data, size_t len)
{
	char tmp[4300];
	uint8_t rnd[6];
	char hex[13];
	FILE *f = NULL;
	int err = 0;

	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		return cocoon_error_set_openssl(COCOON_EINTERNAL, "%s: no randomness for a temporary name", path);
	cocoon_hex_encode(hex, rnd, sizeof(rnd));
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp-%s", path, hex) >= sizeof(tmp))
		return cocoon_error_set(COCOON_EINVAL, "%.128s: path too long", path);
	if (!(f = fopen(tmp, "wbx")) || (len && fwrite(data, 1, len, f) != len) || fflush(f) != 0) {
		err = cocoon_error_set(COCOON_EIO, "%s: cannot write: %s", tmp, strerror(errno));
		goto done;
	}
	if (fclose(f) != 0) {
		f = NULL;
		err = cocoon_error_set(COCOON_EIO, "%s: cannot write: %s", tmp, strerror(errno));
		goto done;
	}
	f = NULL;
	if (rename(tmp, path) != 0)
		err = cocoon_error_set(COCOON_EIO, "%s: cannot rename into place: %s", path, strerror(errno));
done:
	if (f)
		fclose(f);
	if (err != 0)
		unlink(tmp);
	return err;
}

int oci_blob_write(char digest[COCOON_OCI_DIGEST_SIZE], const char *layout, const uint8_t *data, size_t len)
{
	char path[4200];
	int err;

	if ((err = oci_digest(digest, data, len)) != 0 || (err = blob_path(path, sizeof(path), layout, digest)) != 0)
		return err;
	/* Blobs are immutable (0444, as umoci writes them); content addressing makes a rewrite a no-op. */
	if ((err = oci_file_replace(path, data, len)) != 0)
		return err;
	chmod(path, 0444);
	return 0;
}
