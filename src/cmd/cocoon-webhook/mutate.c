/*
 * The pod policy. A pod that opts in (label cocoon.io/confidential: "true")
 * is checked for ways out of the confidential boundary (privileged
 * containers, hostPID, a hostPath over the secrets directory) and then edited
 * in place: an init container installs cocoon-run into an in-memory emptyDir,
 * each app container's command becomes `cocoon-run --config … -- <command>
 * <args>`, and SGX pods get their EPC and, on request, the quote helper. The
 * edit is a fixed point: a pod that already carries it is left as it is, and
 * a pod that carries something else under the names the webhook owns is
 * denied, never overwritten. Nothing here guesses an entrypoint.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "webhook.h"

typedef struct {
	const webhook_config *cfg;
	char *reason;
	size_t reason_len;
	char bin_dir[512], cfg_dir[512], run_path[512], cfg_path[512];
	long long epc_mib;  /* 0: not an SGX pod */
	int quote_helper;
} pod_ctx;

/* Denial: fills the reason, returns 1 so callers can `return deny(...)`. */
static int deny(pod_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int deny(pod_ctx *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->reason, c->reason_len, fmt, ap);
	va_end(ap);
	return 1;
}

static const char *str_at(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static int set(json_t *o, const char *k, json_t *v)
{
	return v && json_object_set_new(o, k, v) == 0 ? 0 : -1;
}

static int append(json_t *a, json_t *v)
{
	return v && json_array_append_new(a, v) == 0 ? 0 : -1;
}

/* *out = o[k] of the given JSON type, created empty when absent. 0, 1 (denied: o[k] has another
 * type; where names o for the reason) or -1 (out of memory). */
static int child_at(pod_ctx *c, json_t **out, json_t *o, const char *k, int want_array, const char *where)
{
	json_t *a = json_object_get(o, k);
	if (a) {
		*out = a;
		if (want_array ? json_is_array(a) : json_is_object(a))
			return 0;
		return deny(c, "%s: %s is not %s", where, k, want_array ? "a list" : "an object");
	}
	if (set(o, k, want_array ? json_array() : json_object()) != 0)
		return -1;
	*out = json_object_get(o, k);
	return 0;
}

static json_t *find_named(const json_t *a, const char *name)
{
	size_t i;
	json_t *v;
	json_array_foreach(a, i, v) {
		const char *n = str_at(v, "name");
		if (n && strcmp(n, name) == 0)
			return v;
	}
	return NULL;
}

/* mount ⊆ dir or dir ⊆ mount, comparing whole path components. */
static int paths_overlap(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	while (la > 1 && a[la - 1] == '/')
		la--;
	while (lb > 1 && b[lb - 1] == '/')
		lb--;
	if (la > lb) {
		const char *t = a;
		size_t tl = la;
		a = b, la = lb, b = t, lb = tl;
	}
	/* a is the shorter: it must be a prefix of b ending at a component boundary. */
	if (strncmp(a, b, la) != 0)
		return 0;
	return la == lb || b[la] == '/' || (la == 1 && a[0] == '/');
}

static const char *const CONTAINER_LISTS[] = { "initContainers", "containers", "ephemeralContainers" };
static const char *const CONTAINER_KINDS[] = { "init container", "container", "ephemeral container" };
static int is_owned_volume(const char *n)
{
	return strcmp(n, WEBHOOK_VOL_BIN) == 0 || strcmp(n, WEBHOOK_VOL_CONFIG) == 0 || strcmp(n, WEBHOOK_VOL_AESMD) == 0;
}

/* Ways out of the boundary, and mounts of the webhook's volumes where it did not put them. */
static int check_escapes(pod_ctx *c, const json_t *spec)
{
	const json_t *vols = json_object_get(spec, "volumes");

	if (json_is_true(json_object_get(spec, "hostPID")))
		return deny(c, "the pod sets hostPID: true, which lets it read the memory and environment of every "
		            "process on the node; remove hostPID from a confidential pod");
	for (size_t l = 0; l < sizeof(CONTAINER_LISTS) / sizeof(*CONTAINER_LISTS); l++) {
		size_t i, j;
		json_t *ct, *m;
		json_array_foreach(json_object_get(spec, CONTAINER_LISTS[l]), i, ct) {
			const char *name = str_at(ct, "name");
			if (!name)
				name = "?";
			if (json_is_true(json_object_get(json_object_get(ct, "securityContext"), "privileged")))
				return deny(c, "%s \"%.100s\" is privileged, which gives it the node's devices and memory; "
				            "remove securityContext.privileged from a confidential pod", CONTAINER_KINDS[l], name);
			json_array_foreach(json_object_get(ct, "volumeMounts"), j, m) {
				const char *vn = str_at(m, "name"), *mp = str_at(m, "mountPath");
				const json_t *v = vn ? find_named(vols, vn) : NULL;
				if (v && mp && json_object_get(v, "hostPath") && paths_overlap(mp, c->cfg->secrets_dir))
					return deny(c, "%s \"%.100s\" mounts hostPath volume \"%.100s\" at %.200s, over cocoon's "
					            "secrets directory %s, where the node could read or plant secrets; mount "
					            "it elsewhere", CONTAINER_KINDS[l], name, vn, mp, c->cfg->secrets_dir);
				if (vn && is_owned_volume(vn) && l != 1 &&
				    !(l == 0 && strcmp(name, WEBHOOK_INIT_NAME) == 0))
					return deny(c, "%s \"%.100s\" mounts volume \"%s\", which belongs to cocoon (it holds "
					            "the launcher or its config); rename the volume", CONTAINER_KINDS[l], name, vn);
			}
		}
	}
	if (find_named(json_object_get(spec, "containers"), WEBHOOK_INIT_NAME) ||
	    find_named(json_object_get(spec, "ephemeralContainers"), WEBHOOK_INIT_NAME))
		return deny(c, "container name \"%s\" is reserved for cocoon's init container; rename the container",
		            WEBHOOK_INIT_NAME);
	return 0;
}

/* "N" with 1 <= N <= WEBHOOK_MAX_EPC_MIB, plain decimal. */
static int parse_mib(const char *s, long long *out)
{
	long long v = 0;
	if (!s || !*s || *s == '0' || strlen(s) > 8)
		return -1;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		v = v * 10 + (*p - '0');
	}
	if (v > WEBHOOK_MAX_EPC_MIB)
		return -1;
	*out = v;
	return 0;
}

/* The annotations that shape the edit: SGX, quote helper, and where the launch config comes from. */
static int read_annotations(pod_ctx *c, const json_t *ann, json_t **config_vol)
{
	const char *epc = str_at(ann, WEBHOOK_ANN_EPC_MIB), *qh = str_at(ann, WEBHOOK_ANN_QUOTE_HELPER);
	const char *inline_cfg = str_at(ann, WEBHOOK_ANN_LAUNCH_CONFIG), *cm = str_at(ann, WEBHOOK_ANN_LAUNCH_CONFIGMAP);
	json_t *parsed;

	if (json_object_get(ann, WEBHOOK_ANN_EPC_MIB) && parse_mib(epc, &c->epc_mib) != 0)
		return deny(c, "annotation %s must be a whole number of MiB from 1 to %d, not \"%.40s\"",
		            WEBHOOK_ANN_EPC_MIB, WEBHOOK_MAX_EPC_MIB, epc ? epc : "(not a string)");
	if (json_object_get(ann, WEBHOOK_ANN_QUOTE_HELPER)) {
		if (!qh || (strcmp(qh, "true") != 0 && strcmp(qh, "false") != 0))
			return deny(c, "annotation %s must be \"true\" or \"false\"", WEBHOOK_ANN_QUOTE_HELPER);
		c->quote_helper = strcmp(qh, "true") == 0;
		if (c->quote_helper && !c->epc_mib)
			return deny(c, "annotation %s needs an SGX pod: set %s too", WEBHOOK_ANN_QUOTE_HELPER,
			            WEBHOOK_ANN_EPC_MIB);
	}
	if (json_object_get(ann, WEBHOOK_ANN_LAUNCH_CONFIG) && json_object_get(ann, WEBHOOK_ANN_LAUNCH_CONFIGMAP))
		return deny(c, "set one of the annotations %s and %s, not both", WEBHOOK_ANN_LAUNCH_CONFIG,
		            WEBHOOK_ANN_LAUNCH_CONFIGMAP);
	if (json_object_get(ann, WEBHOOK_ANN_LAUNCH_CONFIG)) {
		json_error_t e = { 0 };
		char why[JSON_ERROR_TEXT_LENGTH];
		if (!inline_cfg || !(parsed = json_loads(inline_cfg, JSON_REJECT_DUPLICATES, &e))) {
			webhook_json_error_text(why, sizeof(why), inline_cfg ? e.text : "not a string");
			return deny(c, "annotation %s is not valid JSON (%s at line %d, column %d); it must hold "
			            "cocoon-run's launch config", WEBHOOK_ANN_LAUNCH_CONFIG, why, e.line, e.column);
		}
		if (!json_is_object(parsed)) {
			json_decref(parsed);
			return deny(c, "annotation %s must hold a JSON object (cocoon-run's launch config)",
			            WEBHOOK_ANN_LAUNCH_CONFIG);
		}
		json_decref(parsed);
		/* The downward API turns the annotation into the file cocoon-run reads. */
		*config_vol = json_pack("{s:s,s:{s:[{s:s,s:{s:s}}]}}", "name", WEBHOOK_VOL_CONFIG, "downwardAPI", "items",
		                        "path", WEBHOOK_CONFIGMAP_KEY, "fieldRef", "fieldPath",
		                        "metadata.annotations['" WEBHOOK_ANN_LAUNCH_CONFIG "']");
		return *config_vol ? 0 : -1;
	}
	if (!cm && json_object_get(ann, WEBHOOK_ANN_LAUNCH_CONFIGMAP))
		return deny(c, "annotation %s must name a ConfigMap", WEBHOOK_ANN_LAUNCH_CONFIGMAP);
	if (!cm || !*cm)
		cm = c->cfg->default_configmap;
	if (!cm || !*cm)
		return deny(c, "the pod names no launch config: set annotation %s to the name of a ConfigMap with key "
		            "%s, or %s to the config itself", WEBHOOK_ANN_LAUNCH_CONFIGMAP, WEBHOOK_CONFIGMAP_KEY,
		            WEBHOOK_ANN_LAUNCH_CONFIG);
	*config_vol = json_pack("{s:s,s:{s:s,s:[{s:s,s:s}]}}", "name", WEBHOOK_VOL_CONFIG, "configMap", "name", cm,
	                        "items", "key", WEBHOOK_CONFIGMAP_KEY, "path", WEBHOOK_CONFIGMAP_KEY);
	return *config_vol ? 0 : -1;
}

/* Fields the API server fills in by defaulting after a patch (seen again on reinvocation). */
static int is_defaulted_field(const char *k)
{
	static const char *const KEYS[] = { "terminationMessagePath", "terminationMessagePolicy", "imagePullPolicy",
		                            "defaultMode", "apiVersion" };
	for (size_t i = 0; i < sizeof(KEYS) / sizeof(*KEYS); i++)
		if (strcmp(k, KEYS[i]) == 0)
			return 1;
	return 0;
}

/* have is what the webhook adds (want) plus at most API-server defaults: anything else
 * (args, env, another mount) could change what the reserved object does. */
static int matches(const json_t *have, const json_t *want)
{
	const char *k;
	json_t *v;
	size_t i;

	if (json_is_object(want)) {
		if (!json_is_object(have))
			return 0;
		json_object_foreach((json_t *)want, k, v)
			if (!json_object_get(have, k) || !matches(json_object_get(have, k), v))
				return 0;
		json_object_foreach((json_t *)have, k, v)
			if (!json_object_get(want, k) && !is_defaulted_field(k))
				return 0;
		return 1;
	}
	if (json_is_array(want)) {
		if (!json_is_array(have) || json_array_size(have) != json_array_size(want))
			return 0;
		json_array_foreach(want, i, v)
			if (!matches(json_array_get(have, i), v))
				return 0;
		return 1;
	}
	return json_equal((json_t *)have, (json_t *)want);
}

/* Puts want into array o[k] (by name) unless a matching element is there; a different one of that name is denied. */
static int ensure_named(pod_ctx *c, json_t *o, const char *k, json_t *want, int at_front, const char *what)
{
	json_t *a = NULL, *have;
	const char *name = str_at(want, "name");
	int rc;

	if (!want || !name) {
		json_decref(want);
		return -1;
	}
	if ((rc = child_at(c, &a, o, k, 1, what))) {
		json_decref(want);
		return rc;
	}
	if ((have = find_named(a, name))) {
		rc = matches(have, want) ? 0
		     : deny(c, "%s \"%s\" is reserved for cocoon and differs from the one the webhook adds; remove it "
		            "or rename yours", what, name);
		json_decref(want);
		return rc;
	}
	return (at_front ? json_array_insert_new(a, 0, want) : json_array_append_new(a, want)) == 0 ? 0 : -1;
}

static json_t *init_container(const pod_ctx *c)
{
	json_t *ic = json_pack("{s:s,s:s,s:[s,s,s],s:[{s:s,s:s}],s:{s:b,s:b,s:b,s:{s:[s]},s:{s:s}},"
	                       "s:{s:{s:s,s:s},s:{s:s}}}",
	                       "name", WEBHOOK_INIT_NAME, "image", c->cfg->image, "command", c->cfg->install_command,
	                       "--install", c->run_path, "volumeMounts", "name", WEBHOOK_VOL_BIN, "mountPath",
	                       c->bin_dir, "securityContext", "runAsNonRoot", 1, "readOnlyRootFilesystem", 1,
	                       "allowPrivilegeEscalation", 0, "capabilities", "drop", "ALL", "seccompProfile", "type",
	                       "RuntimeDefault", "resources", "requests", "cpu", "10m", "memory", "16Mi", "limits",
	                       "memory", "64Mi");
	if (ic && c->cfg->image_pull_policy && set(ic, "imagePullPolicy", json_string(c->cfg->image_pull_policy)) != 0) {
		json_decref(ic);
		return NULL;
	}
	return ic;
}

/* A resource value the pod already has equals want when it is the same decimal, as a string or a number. */
static int quantity_is(const json_t *v, long long want)
{
	char buf[32];
	snprintf(buf, sizeof(buf), "%lld", want);
	return (json_is_string(v) && strcmp(json_string_value(v), buf) == 0) ||
	       (json_is_integer(v) && json_integer_value(v) == want);
}

static int add_epc(pod_ctx *c, json_t *ct, const char *name)
{
	json_t *res = NULL, *lim = NULL, *req;
	const char *key = c->cfg->epc_resource;
	char buf[32];
	int rc;

	if ((rc = child_at(c, &res, ct, "resources", 0, name)) || (rc = child_at(c, &lim, res, "limits", 0, name)))
		return rc;
	req = json_object_get(res, "requests");
	if ((json_object_get(lim, key) && !quantity_is(json_object_get(lim, key), c->epc_mib)) ||
	    (json_object_get(req, key) && !quantity_is(json_object_get(req, key), c->epc_mib)))
		return deny(c, "container \"%.100s\" asks for a %s different from the pod's annotation %s: %lld; "
		            "drop the container's own value", name, key, WEBHOOK_ANN_EPC_MIB, c->epc_mib);
	if (json_object_get(lim, key))
		return 0;
	snprintf(buf, sizeof(buf), "%lld", c->epc_mib);
	return set(lim, key, json_string(buf));
}

static int add_aesm_env(pod_ctx *c, json_t *ct, const char *name)
{
	json_t *env = NULL, *have;
	int rc;

	if ((rc = child_at(c, &env, ct, "env", 1, name)))
		return rc;
	if ((have = find_named(env, "SGX_AESM_ADDR"))) {
		const char *v = str_at(have, "value");
		return v && strcmp(v, "1") == 0 && json_object_size(have) == 2 ? 0
		       : deny(c, "container \"%.100s\" sets SGX_AESM_ADDR, which the quote helper needs to be \"1\"", name);
	}
	return append(env, json_pack("{s:s,s:s}", "name", "SGX_AESM_ADDR", "value", "1"));
}

/* A mount the webhook adds: an equal one may be there, another one at the same path may not. */
static int add_mount(pod_ctx *c, json_t *ct, const char *name, const char *vol, const char *path)
{
	json_t *mounts = NULL, *m, *want;
	size_t i;
	int rc;

	if ((rc = child_at(c, &mounts, ct, "volumeMounts", 1, name)))
		return rc;
	json_array_foreach(mounts, i, m) {
		const char *mp = str_at(m, "mountPath");
		if (mp && paths_overlap(mp, path) && !(str_at(m, "name") && strcmp(str_at(m, "name"), vol) == 0))
			return deny(c, "container \"%.100s\" mounts something at %.200s, where cocoon mounts %s; "
			            "move that mount", name, mp, vol);
	}
	if (!(want = json_pack("{s:s,s:s,s:b}", "name", vol, "mountPath", path, "readOnly", 1)))
		return -1;
	return ensure_named(c, ct, "volumeMounts", want, 0, "volume mount");
}

/* The command starts with exactly what wrap_command puts in front. */
static int is_wrapped(const pod_ctx *c, const json_t *cmd)
{
	const char *w[4] = { c->run_path, "--config", c->cfg_path, "--" };
	if (json_array_size(cmd) < 5)
		return 0;
	for (size_t k = 0; k < 4; k++) {
		const char *s = json_string_value(json_array_get(cmd, k));
		if (!s || strcmp(s, w[k]) != 0)
			return 0;
	}
	return 1;
}

/* cocoon-run --config FILE -- <command> <args>, unless it is that already. */
static int wrap_command(pod_ctx *c, json_t *ct, const char *name)
{
	json_t *cmd = json_object_get(ct, "command"), *args = json_object_get(ct, "args"), *n, *v;
	size_t i;

	if (!json_is_array(cmd) || json_array_size(cmd) == 0)
		return deny(c, "container \"%.100s\" sets no command, so its entrypoint lives only in the image and "
		            "cannot be wrapped safely; set command (and args) in the pod spec, or use an image made with "
		            "`cocoon wrap` (it starts cocoon-run itself) without the %s label", name,
		            WEBHOOK_LABEL_CONFIDENTIAL);
	if (args && !json_is_array(args))
		return deny(c, "container \"%.100s\": args is not a list", name);
	if (is_wrapped(c, cmd))
		return 0;
	if (!(n = json_pack("[s,s,s,s]", c->run_path, "--config", c->cfg_path, "--")))
		return -1;
	if (json_array_extend(n, cmd) != 0 || (args && json_array_extend(n, args) != 0))
		goto oom;
	json_array_foreach(n, i, v)
		if (!json_is_string(v)) {
			json_decref(n);
			return deny(c, "container \"%.100s\": command and args must be lists of strings", name);
		}
	if (json_object_set_new(ct, "command", n) != 0)
		return -1;
	if (args && json_object_del(ct, "args") != 0)
		return -1;
	return 0;
oom:
	json_decref(n);
	return -1;
}

static int edit_container(pod_ctx *c, json_t *ct)
{
	const char *name = str_at(ct, "name");
	int rc;

	if (!json_is_object(ct))
		return deny(c, "a container is not an object");
	if (!name)
		name = "?";
	if ((rc = wrap_command(c, ct, name)) || (rc = add_mount(c, ct, name, WEBHOOK_VOL_BIN, c->bin_dir)) ||
	    (rc = add_mount(c, ct, name, WEBHOOK_VOL_CONFIG, c->cfg_dir)))
		return rc;
	if (c->epc_mib && (rc = add_epc(c, ct, name)))
		return rc;
	if (c->quote_helper &&
	    ((rc = add_mount(c, ct, name, WEBHOOK_VOL_AESMD, c->cfg->aesmd_dir)) || (rc = add_aesm_env(c, ct, name))))
		return rc;
	return 0;
}

/* The quote helper's socket is 0660 with its own group: the pod joins that group. */
static int add_aesm_group(pod_ctx *c, json_t *spec)
{
	json_t *sc = NULL, *groups = NULL, *g;
	size_t i;
	int rc;

	if ((rc = child_at(c, &sc, spec, "securityContext", 0, "spec")) ||
	    (rc = child_at(c, &groups, sc, "supplementalGroups", 1, "spec.securityContext")))
		return rc;
	json_array_foreach(groups, i, g)
		if (json_is_integer(g) && json_integer_value(g) == c->cfg->aesmd_gid)
			return 0;
	return append(groups, json_integer(c->cfg->aesmd_gid));
}

static int edit_spec(pod_ctx *c, json_t *spec, json_t *config_vol)
{
	json_t *cts = json_object_get(spec, "containers"), *ct;
	size_t i;
	int rc;

	if (!json_is_array(cts) || json_array_size(cts) == 0) {
		json_decref(config_vol);
		return deny(c, "the pod has no containers");
	}
	if ((rc = ensure_named(c, spec, "volumes", config_vol, 0, "volume")) ||
	    (rc = ensure_named(c, spec, "volumes",
	                       json_pack("{s:s,s:{s:s,s:s}}", "name", WEBHOOK_VOL_BIN, "emptyDir", "medium", "Memory",
	                                 "sizeLimit", "64Mi"), 0, "volume")) ||
	    (rc = ensure_named(c, spec, "initContainers", init_container(c), 1, "init container")))
		return rc;
	if (c->quote_helper &&
	    ((rc = ensure_named(c, spec, "volumes",
	                        json_pack("{s:s,s:{s:s,s:s}}", "name", WEBHOOK_VOL_AESMD, "hostPath", "path",
	                                  c->cfg->aesmd_dir, "type", "DirectoryOrCreate"), 0, "volume")) ||
	     (rc = add_aesm_group(c, spec))))
		return rc;
	json_array_foreach(cts, i, ct)
		if ((rc = edit_container(c, ct)))
			return rc;
	return 0;
}

static int join(char *out, size_t n, const char *a, const char *b)
{
	return (size_t)snprintf(out, n, "%s%s", a, b) < n ? 0 : -1;
}

int webhook_mutate_pod(json_t *pod, const webhook_config *cfg, char *reason, size_t reason_len)
{
	pod_ctx c = { .cfg = cfg, .reason = reason, .reason_len = reason_len };
	json_t *meta = json_object_get(pod, "metadata"), *spec = json_object_get(pod, "spec"), *config_vol = NULL;
	const json_t *label = json_object_get(json_object_get(meta, "labels"), WEBHOOK_LABEL_CONFIDENTIAL);
	int rc;

	if (!label)
		return 0;
	if (!json_is_string(label) || (strcmp(json_string_value(label), "true") != 0 &&
	                               strcmp(json_string_value(label), "false") != 0))
		return deny(&c, "label %s must be \"true\" or \"false\"", WEBHOOK_LABEL_CONFIDENTIAL);
	if (strcmp(json_string_value(label), "true") != 0)
		return 0;
	if (!json_is_object(spec))
		return deny(&c, "the pod has no spec");
	if (join(c.bin_dir, sizeof(c.bin_dir), cfg->mount_dir, "/bin") ||
	    join(c.cfg_dir, sizeof(c.cfg_dir), cfg->mount_dir, "/config") ||
	    join(c.run_path, sizeof(c.run_path), c.bin_dir, "/cocoon-run") ||
	    join(c.cfg_path, sizeof(c.cfg_path), c.cfg_dir, "/" WEBHOOK_CONFIGMAP_KEY))
		return deny(&c, "the webhook's --mount-dir is too long");
	if ((rc = check_escapes(&c, spec)) || (rc = read_annotations(&c, json_object_get(meta, "annotations"), &config_vol)))
		return rc;
	return edit_spec(&c, spec, config_vol);
}
