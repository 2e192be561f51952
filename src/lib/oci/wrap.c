/*
 * `cocoon wrap`: makes a confidential image out of an OCI image layout by
 * adding one layer with cocoon-run and its launch configuration (the way
 * GSC rewrites an image around Gramine). The original layers are not read
 * or rewritten, only referenced again, so they stay byte-identical; the
 * index, manifest and config that are read are checked strictly first.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "cocoon/oci.h"
#include "cocoon/run.h"
#include "common/util.h"
#include "oci/oci_int.h"

static void set(int *bad, json_t *o, const char *k, json_t *v)
{
	if (!v || json_object_set_new(o, k, v) < 0)
		*bad = 1;
}

static void append(int *bad, json_t *a, json_t *v)
{
	if (!v || json_array_append_new(a, v) < 0)
		*bad = 1;
}

static int load_json(json_t **out, const uint8_t *text, size_t len, const char *what)
{
	json_error_t je;
	if (!(*out = json_loadb((const char *)text, len, JSON_REJECT_DUPLICATES, &je)) || !json_is_object(*out)) {
		json_decref(*out);
		*out = NULL;
		return cocoon_error_set(COCOON_EFORMAT, "%s: not a JSON object (line %d: %s)", what, je.line, je.text);
	}
	return 0;
}

static int read_small_file(json_t **out, const char *layout, const char *name)
{
	char path[4200];
	uint8_t *text = NULL;
	size_t len = 0;
	int err;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", layout, name) >= sizeof(path))
		return cocoon_error_set(COCOON_EINVAL, "OCI layout path %.128s is too long", layout);
	if ((err = cocoon_file_read(&text, &len, path)) != 0)
		return cocoon_error_set(err, "%s (is %s an OCI image layout?)", cocoon_error_last()->message, layout);
	err = len > COCOON_OCI_MAX_JSON_BLOB ? cocoon_error_set(COCOON_EFORMAT, "%s: larger than %d bytes", path,
	                                                        COCOON_OCI_MAX_JSON_BLOB)
	                                     : load_json(out, text, len, path);
	free(text);
	return err;
}

static int load_index(json_t **index, const char *layout)
{
	json_t *ol = NULL, *v;
	int err;

	*index = NULL;
	if ((err = read_small_file(&ol, layout, "oci-layout")) != 0)
		return err;
	v = json_object_get(ol, "imageLayoutVersion");
	if (!json_is_string(v) || strcmp(json_string_value(v), "1.0.0") != 0)
		err = cocoon_error_set(COCOON_EUNSUPPORTED, "%s/oci-layout: imageLayoutVersion must be \"1.0.0\"", layout);
	json_decref(ol);
	if (err != 0 || (err = read_small_file(index, layout, "index.json")) != 0)
		return err;
	v = json_object_get(*index, "schemaVersion");
	if (!json_is_integer(v) || json_integer_value(v) != 2)
		err = cocoon_error_set(COCOON_EFORMAT, "%s/index.json: schemaVersion must be 2", layout);
	else if (!json_is_array(json_object_get(*index, "manifests")))
		err = cocoon_error_set(COCOON_EFORMAT, "%s/index.json: manifests must be an array", layout);
	if (err != 0) {
		json_decref(*index);
		*index = NULL;
	}
	return err;
}

static const char *ref_name(const json_t *d)
{
	return json_string_value(json_object_get(json_object_get(d, "annotations"), OCI_REF_NAME));
}

int oci_index_find(oci_desc *out, const json_t *index, const char *tag)
{
	const json_t *m = json_object_get(index, "manifests");
	size_t found = 0;
	char where[64];
	int err;

	for (size_t i = 0; i < json_array_size(m); i++) {
		oci_desc d;
		snprintf(where, sizeof(where), "index.json: manifests[%zu]", i);
		if ((err = oci_desc_parse(&d, json_array_get(m, i), where)) != 0)
			return err;
		if (!ref_name(json_array_get(m, i)) || strcmp(ref_name(json_array_get(m, i)), tag) != 0)
			continue;
		if (found++)
			return cocoon_error_set(COCOON_EFORMAT, "index.json: tag \"%.128s\" names two manifests", tag);
		*out = d;
	}
	if (!found)
		return cocoon_error_set(COCOON_ENOTFOUND, "index.json: no manifest is tagged \"%.128s\" (%s)", tag,
		                        OCI_REF_NAME);
	if (strcmp(out->media_type, OCI_MT_INDEX) == 0)
		return cocoon_error_set(COCOON_EUNSUPPORTED, "tag \"%.128s\" is a multi-platform image index; copy one "
		                        "platform into its own tag first (e.g. skopeo copy --override-arch)", tag);
	if (strcmp(out->media_type, OCI_MT_MANIFEST) != 0)
		return cocoon_error_set(COCOON_EUNSUPPORTED, "tag \"%.128s\": media type %.96s is not %s (convert Docker "
		                        "images with skopeo copy --format oci)", tag, out->media_type, OCI_MT_MANIFEST);
	return 0;
}

static int load_blob_json(json_t **out, const char *layout, const oci_desc *d, const char *what)
{
	uint8_t *text = NULL;
	size_t len = 0;
	char name[128];
	int err;

	*out = NULL;
	if ((err = oci_blob_read(&text, &len, layout, d, COCOON_OCI_MAX_JSON_BLOB)) != 0)
		return cocoon_error_set(err, "%s: %s", what, cocoon_error_last()->message);
	snprintf(name, sizeof(name), "%s %.80s", what, d->digest);
	err = load_json(out, text, len, name);
	free(text);
	return err;
}

int oci_manifest_check(oci_desc *config, size_t *n_layers, const json_t *m)
{
	const json_t *v = json_object_get(m, "schemaVersion"), *layers;
	char where[64];
	int err;

	if (!json_is_integer(v) || json_integer_value(v) != 2)
		return cocoon_error_set(COCOON_EFORMAT, "manifest: schemaVersion must be 2");
	if ((v = json_object_get(m, "mediaType")) && (!json_is_string(v) || strcmp(json_string_value(v), OCI_MT_MANIFEST)))
		return cocoon_error_set(COCOON_EUNSUPPORTED, "manifest: mediaType must be %s", OCI_MT_MANIFEST);
	if ((err = oci_desc_parse(config, json_object_get(m, "config"), "manifest: config")) != 0)
		return err;
	if (strcmp(config->media_type, OCI_MT_CONFIG) != 0)
		return cocoon_error_set(COCOON_EUNSUPPORTED, "manifest: config mediaType %.96s is not %s",
		                        config->media_type, OCI_MT_CONFIG);
	if (!json_is_array(layers = json_object_get(m, "layers")))
		return cocoon_error_set(COCOON_EFORMAT, "manifest: layers must be an array");
	for (size_t i = 0; i < json_array_size(layers); i++) {
		oci_desc d;
		snprintf(where, sizeof(where), "manifest: layers[%zu]", i);
		if ((err = oci_desc_parse(&d, json_array_get(layers, i), where)) != 0)
			return err;
		if (strncmp(d.media_type, OCI_MT_LAYER_PREFIX, strlen(OCI_MT_LAYER_PREFIX)) != 0)
			return cocoon_error_set(COCOON_EUNSUPPORTED, "%s: mediaType %.96s is not an OCI layer type", where,
			                        d.media_type);
	}
	*n_layers = json_array_size(layers);
	return 0;
}

/* null or an array of strings, as Entrypoint and Cmd are. */
static int check_strv(const json_t *v, const char *what)
{
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_array(v))
		return cocoon_error_set(COCOON_EFORMAT, "image config: %s must be an array of strings", what);
	for (size_t i = 0; i < json_array_size(v); i++)
		if (!json_is_string(json_array_get(v, i)))
			return cocoon_error_set(COCOON_EFORMAT, "image config: %s[%zu] must be a string", what, i);
	return 0;
}

int oci_config_check(const json_t *c, size_t n_layers)
{
	const json_t *rootfs = json_object_get(c, "rootfs"), *ids, *cc = json_object_get(c, "config"), *l;
	int err;

	if (!json_is_object(rootfs) || !json_is_string(json_object_get(rootfs, "type")) ||
	    strcmp(json_string_value(json_object_get(rootfs, "type")), "layers") != 0)
		return cocoon_error_set(COCOON_EFORMAT, "image config: rootfs.type must be \"layers\"");
	ids = json_object_get(rootfs, "diff_ids");
	if (!json_is_array(ids) || json_array_size(ids) != n_layers)
		return cocoon_error_set(COCOON_EFORMAT, "image config: rootfs.diff_ids must list one digest per layer (%zu)",
		                        n_layers);
	for (size_t i = 0; i < n_layers; i++)
		if (!cocoon_oci_digest_valid(json_string_value(json_array_get(ids, i))))
			return cocoon_error_set(COCOON_EFORMAT, "image config: rootfs.diff_ids[%zu] is not sha256:<64 hex>", i);
	if (cc && !json_is_null(cc) && !json_is_object(cc))
		return cocoon_error_set(COCOON_EFORMAT, "image config: config must be an object");
	if (json_is_object(cc) && ((err = check_strv(json_object_get(cc, "Entrypoint"), "config.Entrypoint")) != 0 ||
	                           (err = check_strv(json_object_get(cc, "Cmd"), "config.Cmd")) != 0))
		return err;
	if (json_is_object(cc) && (l = json_object_get(cc, "Labels")) && !json_is_null(l) && !json_is_object(l))
		return cocoon_error_set(COCOON_EFORMAT, "image config: config.Labels must be an object");
	if ((l = json_object_get(c, "history")) && !json_is_array(l))
		return cocoon_error_set(COCOON_EFORMAT, "image config: history must be an array");
	return 0;
}

/* Entrypoint + Cmd of the image, as the runtime would build argv. */
static json_t *original_command(const json_t *cc)
{
	json_t *cmd = json_array(), *v;
	size_t i;

	if (!cmd)
		return NULL;
	json_array_foreach(json_object_get(cc, "Entrypoint"), i, v)
		if (json_array_append(cmd, v) < 0)
			goto fail;
	json_array_foreach(json_object_get(cc, "Cmd"), i, v)
		if (json_array_append(cmd, v) < 0)
			goto fail;
	return cmd;
fail:
	json_decref(cmd);
	return NULL;
}

/*
 * The launch configuration to embed: the user's, with "command" filled from
 * the image when it has none, validated with the launcher's own parser so
 * that a configuration cocoon-run would refuse never reaches an image.
 */
static int make_launch(char **out, int *from_image, const cocoon_oci_wrap_options *o, const json_t *cc)
{
	cocoon_run_config *rc = NULL;
	json_t *lc = NULL, *cmd;
	int err;

	*out = NULL;
	*from_image = 0;
	if ((err = cocoon_run_config_parse(&rc, o->launch_config, o->launch_config_len)) != 0)
		return err;
	cocoon_run_config_free(rc);
	rc = NULL;
	if ((err = load_json(&lc, (const uint8_t *)o->launch_config, o->launch_config_len, "launch configuration")))
		return err;
	if (!json_object_get(lc, "command")) {
		if (!(cmd = original_command(cc)) || json_object_set_new(lc, "command", cmd) < 0) {
			err = cocoon_error_set(COCOON_ENOMEM, "launch configuration: out of memory");
			goto done;
		}
		if (json_array_size(cmd) == 0) {
			err = cocoon_error_set(COCOON_EINVAL, "the image has neither Entrypoint nor Cmd and the launch "
			                       "configuration has no \"command\": say what cocoon-run should run");
			goto done;
		}
		*from_image = 1;
	}
	if (!(*out = json_dumps(lc, JSON_INDENT(2) | JSON_PRESERVE_ORDER))) {
		err = cocoon_error_set(COCOON_ENOMEM, "launch configuration: out of memory");
		goto done;
	}
	if ((err = cocoon_run_config_parse(&rc, *out, strlen(*out))) != 0) {
		free(*out);
		*out = NULL;
	}
done:
	cocoon_run_config_free(rc);
	json_decref(lc);
	return err;
}

static int make_layer(cocoon_oci_wrap_result *r, const char *layout, const uint8_t *bin, size_t bin_len,
                      const char *launch, time_t mtime)
{
	const oci_layer_entry e[] = {
		{ .path = "cocoon", .mode = 0755 },
		{ .path = "cocoon/bin", .mode = 0755 },
		{ .path = "cocoon/bin/cocoon-run", .data = bin, .len = bin_len, .mode = 0755 },
		{ .path = "cocoon/launch.json", .data = (const uint8_t *)launch, .len = strlen(launch), .mode = 0644 },
	};
	uint8_t *tar = NULL, *gz = NULL;
	size_t tar_len = 0, gz_len = 0;
	int err;

	if ((err = oci_layer_build(&tar, &tar_len, &gz, &gz_len, e, sizeof(e) / sizeof(e[0]), mtime)) == 0 &&
	    (err = oci_digest(r->layer_diff_id, tar, tar_len)) == 0)
		err = oci_blob_write(r->layer_digest, layout, gz, gz_len);
	r->layer_size = gz_len;
	free(tar);
	free(gz);
	return err;
}

static json_t *strv_json(const char *const *v)
{
	json_t *a = json_array();
	int bad = 0;
	for (size_t i = 0; a && v[i]; i++)
		append(&bad, a, json_string(v[i]));
	if (bad) {
		json_decref(a);
		return NULL;
	}
	return a;
}

/* Entrypoint -> cocoon-run, Cmd dropped, originals in labels, the layer in rootfs and history. */
static int new_config(json_t **out, const json_t *orig, const cocoon_oci_wrap_result *r, time_t mtime)
{
	static const char *const entry[] = { COCOON_OCI_RUN_PATH, "--config", COCOON_OCI_LAUNCH_PATH, NULL };
	json_t *c = json_deep_copy(orig), *cc, *labels, *hist, *h = json_object();
	const json_t *oe, *ocmd;
	char when[32];
	int bad = !c || !h;

	if (bad)
		goto done;
	if (!json_is_object(cc = json_object_get(c, "config")))
		set(&bad, c, "config", cc = json_object());
	if (bad)
		goto done;
	oe = json_object_get(json_object_get(orig, "config"), "Entrypoint");
	ocmd = json_object_get(json_object_get(orig, "config"), "Cmd");
	if (!json_is_object(labels = json_object_get(cc, "Labels")))
		set(&bad, cc, "Labels", labels = json_object());
	if (bad)
		goto done;
	/* The originals as JSON text: labels are strings, and null must stay distinguishable from []. */
	{
		char *te = json_dumps(oe ? oe : json_null(), JSON_COMPACT | JSON_ENCODE_ANY);
		char *tc = json_dumps(ocmd ? ocmd : json_null(), JSON_COMPACT | JSON_ENCODE_ANY);
		set(&bad, labels, COCOON_OCI_LABEL_ENTRYPOINT, te ? json_string(te) : NULL);
		set(&bad, labels, COCOON_OCI_LABEL_CMD, tc ? json_string(tc) : NULL);
		free(te);
		free(tc);
	}
	set(&bad, cc, "Entrypoint", strv_json(entry));
	if (json_object_get(cc, "Cmd") && json_object_del(cc, "Cmd") != 0)
		bad = 1;
	append(&bad, json_object_get(json_object_get(c, "rootfs"), "diff_ids"), json_string(r->layer_diff_id));
	cocoon_time_format(when, sizeof(when), mtime);
	set(&bad, h, "created", json_string(when));
	set(&bad, h, "created_by", json_string("cocoon wrap: " COCOON_OCI_RUN_PATH " and " COCOON_OCI_LAUNCH_PATH));
	if (!json_is_array(hist = json_object_get(c, "history")))
		set(&bad, c, "history", hist = json_array());
	if (!bad && json_array_append(hist, h) < 0)
		bad = 1;
done:
	json_decref(h);
	if (bad) {
		json_decref(c);
		return cocoon_error_set(COCOON_ENOMEM, "image config: out of memory");
	}
	*out = c;
	return 0;
}

static int new_manifest(json_t **out, const json_t *orig, const char *config_digest, size_t config_size,
                        const cocoon_oci_wrap_result *r)
{
	json_t *m = json_deep_copy(orig), *cd = json_object(), *ld = json_object();
	int bad = !m || !cd || !ld;

	if (!bad) {
		set(&bad, cd, "mediaType", json_string(OCI_MT_CONFIG));
		set(&bad, cd, "digest", json_string(config_digest));
		set(&bad, cd, "size", json_integer((json_int_t)config_size));
		set(&bad, m, "config", cd);
		cd = NULL;
		set(&bad, ld, "mediaType", json_string(OCI_MT_LAYER_GZIP));
		set(&bad, ld, "digest", json_string(r->layer_digest));
		set(&bad, ld, "size", json_integer((json_int_t)r->layer_size));
		append(&bad, json_object_get(m, "layers"), ld);
		ld = NULL;
	}
	json_decref(cd);
	json_decref(ld);
	if (bad) {
		json_decref(m);
		return cocoon_error_set(COCOON_ENOMEM, "manifest: out of memory");
	}
	*out = m;
	return 0;
}

/* index.json with every entry tagged to_tag replaced by the new manifest. */
static int new_index(json_t **out, const json_t *orig, const cocoon_oci_wrap_result *r, const char *to_tag)
{
	json_t *idx = json_deep_copy(orig), *list = json_array(), *d = json_object(), *an = json_object(), *v;
	int bad = !idx || !list || !d || !an;
	size_t i;

	if (!bad) {
		json_array_foreach(json_object_get(orig, "manifests"), i, v) {
			const char *name = ref_name(v);
			if ((!name || strcmp(name, to_tag) != 0) && json_array_append(list, v) < 0)
				bad = 1;
		}
		set(&bad, d, "mediaType", json_string(OCI_MT_MANIFEST));
		set(&bad, d, "digest", json_string(r->manifest_digest));
		set(&bad, d, "size", json_integer((json_int_t)r->manifest_size));
		set(&bad, an, OCI_REF_NAME, json_string(to_tag));
		set(&bad, d, "annotations", an);
		an = NULL;
		append(&bad, list, d);
		d = NULL;
		set(&bad, idx, "manifests", list);
		list = NULL;
	}
	json_decref(list);
	json_decref(d);
	json_decref(an);
	if (bad) {
		json_decref(idx);
		return cocoon_error_set(COCOON_ENOMEM, "index.json: out of memory");
	}
	*out = idx;
	return 0;
}

/* Serialises j and stores it as a blob. */
static int put_json_blob(char digest[COCOON_OCI_DIGEST_SIZE], size_t *size, const char *layout, const json_t *j)
{
	char *text = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	int err;

	if (!text)
		return cocoon_error_set(COCOON_ENOMEM, "OCI: out of memory serialising JSON");
	*size = strlen(text);
	err = oci_blob_write(digest, layout, (const uint8_t *)text, *size);
	free(text);
	return err;
}

static int valid_tag(const char *t)
{
	size_t n = t ? strlen(t) : 0;
	if (n == 0 || n > 128 || !((t[0] >= 'a' && t[0] <= 'z') || (t[0] >= 'A' && t[0] <= 'Z') ||
	                           (t[0] >= '0' && t[0] <= '9') || t[0] == '_'))
		return 0;
	for (size_t i = 1; i < n; i++)
		if (!((t[i] >= 'a' && t[i] <= 'z') || (t[i] >= 'A' && t[i] <= 'Z') || (t[i] >= '0' && t[i] <= '9') ||
		      t[i] == '_' || t[i] == '.' || t[i] == '-'))
			return 0;
	return 1;
}

static int check_options(const cocoon_oci_wrap_options *o)
{
	if (!o || o->version != COCOON_OCI_WRAP_OPTIONS_VERSION)
		return cocoon_error_set(COCOON_EINVAL, "wrap: options missing or not initialised with "
		                        "COCOON_OCI_WRAP_OPTIONS_INIT");
	if (!o->layout || !o->from_tag || !*o->from_tag || !o->launch_config || !o->run_binary)
		return cocoon_error_set(COCOON_EINVAL, "wrap: layout, source tag, launch configuration and "
		                        "cocoon-run binary are all required");
	if (!valid_tag(o->to_tag))
		return cocoon_error_set(COCOON_EINVAL, "wrap: tag \"%.64s\" is not [A-Za-z0-9_][A-Za-z0-9._-]{0,127}",
		                        o->to_tag ? o->to_tag : "");
	return 0;
}

int cocoon_oci_wrap(cocoon_oci_wrap_result *out, const cocoon_oci_wrap_options *o)
{
	json_t *index = NULL, *manifest = NULL, *config = NULL, *nconfig = NULL, *nmanifest = NULL, *nindex = NULL;
	cocoon_oci_wrap_result r = { 0 };
	char *launch = NULL, path[4200], *text = NULL;
	uint8_t *bin = NULL;
	size_t bin_len = 0, n_layers = 0, cfg_size = 0, man_size = 0;
	char cfg_digest[COCOON_OCI_DIGEST_SIZE];
	oci_desc md, cd;
	int err;

	if (out)
		memset(out, 0, sizeof(*out));
	if (!out)
		return cocoon_error_set(COCOON_EINVAL, "wrap: no result given");
	if ((err = check_options(o)) != 0 || (err = load_index(&index, o->layout)) != 0 ||
	    (err = oci_index_find(&md, index, o->from_tag)) != 0 ||
	    (err = load_blob_json(&manifest, o->layout, &md, "manifest")) != 0 ||
	    (err = oci_manifest_check(&cd, &n_layers, manifest)) != 0 ||
	    (err = load_blob_json(&config, o->layout, &cd, "image config")) != 0 ||
	    (err = oci_config_check(config, n_layers)) != 0 ||
	    (err = make_launch(&launch, &r.command_from_image, o, json_object_get(config, "config"))) != 0)
		goto done;
	if ((err = cocoon_file_read(&bin, &bin_len, o->run_binary)) != 0)
		goto done;
	if (bin_len < 4 || memcmp(bin, "\177ELF", 4) != 0 || bin_len > COCOON_OCI_MAX_RUN_BINARY) {
		err = cocoon_error_set(COCOON_EINVAL, "%s is not an ELF executable of at most %d bytes", o->run_binary,
		                       COCOON_OCI_MAX_RUN_BINARY);
		goto done;
	}
	if ((err = make_layer(&r, o->layout, bin, bin_len, launch, o->mtime)) != 0 ||
	    (err = new_config(&nconfig, config, &r, o->mtime)) != 0 ||
	    (err = put_json_blob(cfg_digest, &cfg_size, o->layout, nconfig)) != 0 ||
	    (err = new_manifest(&nmanifest, manifest, cfg_digest, cfg_size, &r)) != 0 ||
	    (err = put_json_blob(r.manifest_digest, &man_size, o->layout, nmanifest)) != 0)
		goto done;
	memcpy(r.config_digest, cfg_digest, sizeof(cfg_digest));
	r.manifest_size = man_size;
	if ((err = new_index(&nindex, index, &r, o->to_tag)) != 0)
		goto done;
	if (!(text = json_dumps(nindex, JSON_COMPACT | JSON_PRESERVE_ORDER))) {
		err = cocoon_error_set(COCOON_ENOMEM, "index.json: out of memory");
		goto done;
	}
	snprintf(path, sizeof(path), "%s/index.json", o->layout);
	if ((err = oci_file_replace(path, (const uint8_t *)text, strlen(text))) != 0)
		goto done;
	*out = r;
done:
	free(text);
	free(bin);
	free(launch);
	json_decref(index);
	json_decref(manifest);
	json_decref(config);
	json_decref(nconfig);
	json_decref(nmanifest);
	json_decref(nindex);
	return err;
}
