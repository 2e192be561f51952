/* Kubernetes API credentials and requests over libcurl; see kube.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <curl/curl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include "common/util.h"
#include "kube.h"

#define MAX_BODY ((size_t)16 * 1024 * 1024)
#define MAX_TOKEN 16384

static int dup_str(char **dst, const char *s)
{
	*dst = strdup(s);
	return *dst ? 0 : cocoon_error_set(COCOON_ENOMEM, "out of memory");
}

static int readable(const char *path)
{
	return access(path, R_OK) == 0;
}

/* Plain HTTP only to loopback (kubectl proxy in development); anything else must be TLS. */
static int check_server(const char *url, const char *what)
{
	const char *host;
	size_t hlen;

	if (strncmp(url, "https://", 8) == 0)
		return url[8] ? 0 : cocoon_error_set(COCOON_EINVAL, "%s: '%s' has no host", what, url);
	if (strncmp(url, "http://", 7) != 0)
		return cocoon_error_set(COCOON_EINVAL, "%s: '%.200s' must be an https:// URL", what, url);
	host = url + 7;
	hlen = host[0] == '[' ? strcspn(host, "]") + 1 : strcspn(host, ":/");
	if ((hlen == 9 && strncmp(host, "127.0.0.1", 9) == 0) || (hlen == 9 && strncmp(host, "localhost", 9) == 0) ||
	    (hlen == 5 && strncmp(host, "[::1]", 5) == 0))
		return 0;
	return cocoon_error_set(COCOON_EINVAL,
	                        "%s: '%.200s' uses plain http to a non-loopback host; use https (http is allowed "
	                        "only for 127.0.0.1, localhost and [::1])",
	                        what, url);
}

static int set_server(cocoon_kube_config *c, const char *url, const char *what)
{
	size_t len = strlen(url);
	int rc;

	if ((rc = check_server(url, what)) != 0)
		return rc;
	if ((rc = dup_str(&c->server, url)) != 0)
		return rc;
	while (len > 0 && c->server[len - 1] == '/')
		c->server[--len] = '\0';
	return 0;
}

int cocoon_kube_config_in_cluster(cocoon_kube_config *out, const char *sa_dir, const char *server)
{
	char path[4096], url[512];
	int rc;

	memset(out, 0, sizeof(*out));
	if (server) {
		rc = set_server(out, server, "--api-server");
	} else {
		const char *host = getenv("KUBERNETES_SERVICE_HOST"), *port = getenv("KUBERNETES_SERVICE_PORT");
		if (!host || !host[0] || !port || !port[0])
			return cocoon_error_set(COCOON_EINVAL,
			                        "not running in a pod: KUBERNETES_SERVICE_HOST/PORT are unset; pass "
			                        "--api-server or --kubeconfig");
		if (strspn(port, "0123456789") != strlen(port) || strlen(port) > 5 || strlen(host) > 255)
			return cocoon_error_set(COCOON_EINVAL, "KUBERNETES_SERVICE_HOST/PORT are malformed");
		snprintf(url, sizeof(url), strchr(host, ':') ? "https://[%s]:%s" : "https://%s:%s", host, port);
		rc = set_server(out, url, "KUBERNETES_SERVICE_HOST");
	}
	if (rc != 0)
		goto done;
	snprintf(path, sizeof(path), "%s/token", sa_dir);
	if (!readable(path)) {
		rc = cocoon_error_set(COCOON_EINVAL,
		                      "service account token %s is not readable: mount the service account token "
		                      "(automountServiceAccountToken) or pass --kubeconfig",
		                      path);
		goto done;
	}
	if ((rc = dup_str(&out->token_file, path)) != 0)
		goto done;
	snprintf(path, sizeof(path), "%s/ca.crt", sa_dir);
	if (!readable(path)) {
		rc = cocoon_error_set(COCOON_EINVAL, "service account CA %s is not readable", path);
		goto done;
	}
	rc = dup_str(&out->ca_file, path);
done:
	if (rc != 0)
		cocoon_kube_config_free(out);
	return rc;
}

static int b64_decode(uint8_t **out, size_t *out_len, const char *in, const char *what)
{
	size_t n = 0, len = strlen(in), pad = 0;
	char *clean = malloc(len + 1);
	uint8_t *buf = NULL;
	int got, rc = 0;

	*out = NULL;
	if (!clean)
		return cocoon_error_set(COCOON_ENOMEM, "out of memory");
	for (size_t i = 0; i < len; i++)
		if (in[i] != '\n' && in[i] != '\r' && in[i] != ' ')
			clean[n++] = in[i];
	clean[n] = '\0';
	if (n == 0 || n % 4 != 0) {
		rc = cocoon_error_set(COCOON_EINVAL, "%s is not valid base64 (length %zu)", what, n);
		goto done;
	}
	pad = (clean[n - 1] == '=') + (clean[n - 2] == '=');
	buf = malloc(n / 4 * 3 + 1);
	if (!buf) {
		rc = cocoon_error_set(COCOON_ENOMEM, "out of memory");
		goto done;
	}
	got = EVP_DecodeBlock(buf, (const unsigned char *)clean, (int)n);
	if (got < 0 || (size_t)got < pad) {
		rc = cocoon_error_set(COCOON_EINVAL, "%s is not valid base64", what);
		goto done;
	}
	*out_len = (size_t)got - pad;
	buf[*out_len] = 0;
	*out = buf;
	buf = NULL;
done:
	cocoon_zeroize(clean, n);
	free(clean);
	if (buf) {
		cocoon_zeroize(buf, n / 4 * 3);
		free(buf);
	}
	return rc;
}

/* The "name"d entry's inner object (e.g. clusters[].cluster). */
static json_t *named(json_t *root, const char *list, const char *name, const char *inner)
{
	size_t i;
	json_t *e;

	json_array_foreach(json_object_get(root, list), i, e) {
		const char *n = json_string_value(json_object_get(e, "name"));
		if (n && strcmp(n, name) == 0)
			return json_object_get(e, inner);
	}
	return NULL;
}

/* kubeconfig paths are relative to the kubeconfig's directory. */
static int rel_path(char **out, const char *kubeconfig, const char *p)
{
	const char *slash = strrchr(kubeconfig, '/');
	size_t dlen = slash ? (size_t)(slash - kubeconfig) : 1;
	char *s;

	if (p[0] == '/' || !slash)
		return dup_str(out, p);
	s = malloc(dlen + strlen(p) + 2);
	if (!s)
		return cocoon_error_set(COCOON_ENOMEM, "out of memory");
	memcpy(s, kubeconfig, dlen);
	s[dlen] = '/';
	strcpy(s + dlen + 1, p);
	*out = s;
	return 0;
}

static int kc_user(cocoon_kube_config *out, const char *path, json_t *user)
{
	const char *s;
	int rc = 0;

	if (json_object_get(user, "exec") || json_object_get(user, "auth-provider"))
		return cocoon_error_set(COCOON_EUNSUPPORTED,
		                        "--kubeconfig %s: exec and auth-provider credentials are not supported; use a "
		                        "token or a client certificate",
		                        path);
	if ((s = json_string_value(json_object_get(user, "token"))) != NULL && (rc = dup_str(&out->token, s)) != 0)
		return rc;
	if ((s = json_string_value(json_object_get(user, "tokenFile"))) != NULL &&
	    (rc = rel_path(&out->token_file, path, s)) != 0)
		return rc;
	if ((s = json_string_value(json_object_get(user, "client-certificate-data"))) != NULL &&
	    (rc = b64_decode(&out->cert_pem, &out->cert_len, s, "client-certificate-data")) != 0)
		return rc;
	if ((s = json_string_value(json_object_get(user, "client-key-data"))) != NULL &&
	    (rc = b64_decode(&out->key_pem, &out->key_len, s, "client-key-data")) != 0)
		return rc;
	if ((s = json_string_value(json_object_get(user, "client-certificate"))) != NULL &&
	    (rc = rel_path(&out->cert_file, path, s)) != 0)
		return rc;
	if ((s = json_string_value(json_object_get(user, "client-key"))) != NULL &&
	    (rc = rel_path(&out->key_file, path, s)) != 0)
		return rc;
	if ((out->cert_pem || out->cert_file) != (out->key_pem || out->key_file))
		return cocoon_error_set(COCOON_EINVAL, "--kubeconfig %s: a client certificate needs its key, and back",
		                        path);
	return 0;
}

static int kc_load_error(const char *path, const json_error_t *err)
{
	return cocoon_error_set(COCOON_EINVAL,
	                        "--kubeconfig %s: line %d: %s (the kubeconfig must be JSON: kubectl config view "
	                        "--raw --minify --flatten -o json)",
	                        path, err->line, err->text);
}

/* Takes the reference to root. */
static int kc_from_json(cocoon_kube_config *out, const char *path, json_t *root)
{
	json_t *ctx, *cluster, *user;
	const char *cur, *s;
	int rc = 0;

	cur = json_string_value(json_object_get(root, "current-context"));
	if (!cur || !cur[0]) {
		json_t *all = json_object_get(root, "contexts");
		if (json_array_size(all) == 1)
			cur = json_string_value(json_object_get(json_array_get(all, 0), "name"));
	}
	ctx = cur ? named(root, "contexts", cur, "context") : NULL;
	if (!ctx) {
		rc = cocoon_error_set(COCOON_EINVAL, "--kubeconfig %s: no current-context to use", path);
		goto done;
	}
	s = json_string_value(json_object_get(ctx, "cluster"));
	cluster = s ? named(root, "clusters", s, "cluster") : NULL;
	s = json_string_value(json_object_get(ctx, "user"));
	user = s ? named(root, "users", s, "user") : NULL;
	if (!cluster || !(s = json_string_value(json_object_get(cluster, "server")))) {
		rc = cocoon_error_set(COCOON_EINVAL, "--kubeconfig %s: context '%s' has no cluster with a server", path,
		                      cur);
		goto done;
	}
	if ((rc = set_server(out, s, "--kubeconfig server")) != 0)
		goto done;
	if (json_is_true(json_object_get(cluster, "insecure-skip-tls-verify"))) {
		rc = cocoon_error_set(COCOON_EINVAL,
		                      "--kubeconfig %s: insecure-skip-tls-verify is refused; give the cluster CA", path);
		goto done;
	}
	if ((s = json_string_value(json_object_get(cluster, "certificate-authority-data"))) != NULL &&
	    (rc = b64_decode(&out->ca_pem, &out->ca_len, s, "certificate-authority-data")) != 0)
		goto done;
	if ((s = json_string_value(json_object_get(cluster, "certificate-authority"))) != NULL &&
	    (rc = rel_path(&out->ca_file, path, s)) != 0)
		goto done;
	if (user)
		rc = kc_user(out, path, user);
done:
	json_decref(root);
	if (rc != 0)
		cocoon_kube_config_free(out);
	return rc;
}

int cocoon_kube_config_from_file(cocoon_kube_config *out, const char *path)
{
	json_error_t err;
	json_t *root;

	memset(out, 0, sizeof(*out));
	root = json_load_file(path, 0, &err);
	if (!root)
		return kc_load_error(path, &err);
	return kc_from_json(out, path, root);
}

int cocoon_kube_config_parse(cocoon_kube_config *out, const char *path, const char *text, size_t len)
{
	json_error_t err;
	json_t *root;

	memset(out, 0, sizeof(*out));
	root = json_loadb(text, len, 0, &err);
	if (!root)
		return kc_load_error(path, &err);
	return kc_from_json(out, path, root);
}

static void free_secret(void *p, size_t n)
{
	if (p) {
		cocoon_zeroize(p, n);
		free(p);
	}
}

void cocoon_kube_config_free(cocoon_kube_config *c)
{
	free(c->server);
	free(c->token_file);
	if (c->token)
		free_secret(c->token, strlen(c->token));
	free(c->ca_file);
	free(c->ca_pem);
	free(c->cert_file);
	free(c->key_file);
	free(c->cert_pem);
	free_secret(c->key_pem, c->key_len);
	memset(c, 0, sizeof(*c));
}

typedef struct {
	cocoon_buf b;
	int overflow;
	const atomic_int *stop;
} sink;

static size_t on_write(char *ptr, size_t size, size_t nmemb, void *ud)
{
	sink *s = ud;
	size_t n = size * nmemb;

	if (n > MAX_BODY - s->b.len) {
		s->overflow = 1;
		return 0;
	}
	return cocoon_buf_append(&s->b, ptr, n) == 0 ? n : 0;
}

static int on_progress(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	sink *s = ud;

	(void)dt;
	(void)dn;
	(void)ut;
	(void)un;
	return s->stop && atomic_load(s->stop) ? 1 : 0;
}

/* "Authorization: Bearer <token>" in a buffer the caller zeroizes. */
static int auth_header(char **out, const cocoon_kube_config *c)
{
	static const char prefix[] = "Authorization: Bearer ";
	uint8_t *tok = NULL;
	size_t len = 0, full;
	int rc;

	*out = NULL;
	if (c->token_file) {
		if ((rc = cocoon_file_read(&tok, &len, c->token_file)) != 0) {
			char why[sizeof(cocoon_error_last()->message)];
			snprintf(why, sizeof(why), "%s", cocoon_error_last()->message);
			return cocoon_error_set(rc, "cannot read the bearer token: %s", why);
		}
	} else if (c->token) {
		len = strlen(c->token);
		tok = (uint8_t *)strdup(c->token);
		if (!tok)
			return cocoon_error_set(COCOON_ENOMEM, "out of memory");
	} else {
		return 0;
	}
	full = len;
	while (len > 0 && (tok[len - 1] == '\n' || tok[len - 1] == '\r' || tok[len - 1] == ' '))
		len--;
	if (len == 0 || len > MAX_TOKEN || memchr(tok, '\n', len) || memchr(tok, '\r', len)) {
		free_secret(tok, full);
		return cocoon_error_set(COCOON_EINVAL, "the bearer token is empty, too long or spans lines");
	}
	*out = malloc(sizeof(prefix) + len);
	if (*out) {
		memcpy(*out, prefix, sizeof(prefix) - 1);
		memcpy(*out + sizeof(prefix) - 1, tok, len);
		(*out)[sizeof(prefix) - 1 + len] = '\0';
	}
	free_secret(tok, full);
	return *out ? 0 : cocoon_error_set(COCOON_ENOMEM, "out of memory");
}

int cocoon_kube_request(cocoon_kube_response *out, const cocoon_kube_config *c, const char *method,
                        const char *path, const char *content_type, const char *body, unsigned timeout_s,
                        const atomic_int *stop)
{
	char errbuf[CURL_ERROR_SIZE] = "", ctype[128], *auth = NULL, *url = NULL;
	struct curl_slist *hdrs = NULL, *h;
	struct curl_blob ca, cert, key;
	sink s = { { 0 }, 0, stop };
	CURL *curl = NULL;
	CURLcode cc;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = auth_header(&auth, c)) != 0)
		return rc;
	rc = COCOON_ENOMEM;
	url = malloc(strlen(c->server) + strlen(path) + 1);
	curl = curl_easy_init();
	if (!url || !curl) {
		cocoon_error_set(rc, "out of memory starting an API request");
		goto done;
	}
	strcpy(url, c->server);
	strcat(url, path);
	snprintf(ctype, sizeof(ctype), "Content-Type: %s", content_type ? content_type : "application/json");
	{
		const char *want[3] = { "Accept: application/json", ctype, auth };
		for (size_t i = 0; i < 3; i++) {
			struct curl_slist *n;
			if (!want[i])
				continue;
			n = curl_slist_append(hdrs, want[i]);
			if (!n) {
				cocoon_error_set(rc, "out of memory building request headers");
				goto done;
			}
			hdrs = n;
		}
	}
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "https,http");
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, (long)timeout_s);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 5L);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(curl, CURLOPT_USERAGENT, "cocoon-sgx-plugin");
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &s);
	curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &s);
	if (c->ca_file)
		curl_easy_setopt(curl, CURLOPT_CAINFO, c->ca_file);
	if (c->ca_pem) {
		ca.data = c->ca_pem;
		ca.len = c->ca_len;
		ca.flags = CURL_BLOB_NOCOPY;
		curl_easy_setopt(curl, CURLOPT_CAINFO_BLOB, &ca);
	}
	if (c->cert_file) {
		curl_easy_setopt(curl, CURLOPT_SSLCERT, c->cert_file);
		curl_easy_setopt(curl, CURLOPT_SSLKEY, c->key_file);
	}
	if (c->cert_pem) {
		/* NOCOPY: curl must not keep its own copy of the key we zeroize. */
		cert.data = c->cert_pem;
		cert.len = c->cert_len;
		cert.flags = CURL_BLOB_NOCOPY;
		key.data = c->key_pem;
		key.len = c->key_len;
		key.flags = CURL_BLOB_NOCOPY;
		curl_easy_setopt(curl, CURLOPT_SSLCERTTYPE, "PEM");
		curl_easy_setopt(curl, CURLOPT_SSLCERT_BLOB, &cert);
		curl_easy_setopt(curl, CURLOPT_SSLKEYTYPE, "PEM");
		curl_easy_setopt(curl, CURLOPT_SSLKEY_BLOB, &key);
	}
	if (strcmp(method, "GET") != 0) {
		curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body ? body : "");
		curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)(body ? strlen(body) : 0));
	}
	cc = curl_easy_perform(curl);
	if (cc != CURLE_OK) {
		rc = cocoon_error_set(COCOON_EIO, "%s %s%s: %s%s%s", method, c->server, path, curl_easy_strerror(cc),
		                      errbuf[0] ? ": " : "", errbuf);
		if (s.overflow)
			rc = cocoon_error_set(COCOON_EIO, "%s %s%s: response larger than %zu bytes", method, c->server,
			                      path, MAX_BODY);
		goto done;
	}
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &out->status);
	if (cocoon_buf_append(&s.b, "", 0) != 0) {
		rc = COCOON_ENOMEM;
		goto done;
	}
	out->body = (char *)s.b.data;
	out->len = s.b.len;
	s.b.data = NULL;
	rc = 0;
done:
	for (h = hdrs; h; h = h->next)
		cocoon_zeroize(h->data, strlen(h->data));
	curl_slist_free_all(hdrs);
	if (auth)
		free_secret(auth, strlen(auth));
	curl_easy_cleanup(curl);
	cocoon_buf_free(&s.b);
	free(url);
	return rc;
}

void cocoon_kube_response_free(cocoon_kube_response *r)
{
	free(r->body);
	memset(r, 0, sizeof(*r));
}

int cocoon_kube_quantity_parse(uint64_t *out, const char *q)
{
	static const struct {
		const char *suffix;
		uint64_t mult;
	} units[] = {
		{ "", 1 }, { "k", 1000ull }, { "M", 1000000ull }, { "G", 1000000000ull }, { "T", 1000000000000ull },
		{ "P", 1000000000000000ull }, { "E", 1000000000000000000ull }, { "Ki", 1ull << 10 }, { "Mi", 1ull << 20 },
		{ "Gi", 1ull << 30 }, { "Ti", 1ull << 40 }, { "Pi", 1ull << 50 }, { "Ei", 1ull << 60 },
	};
	uint64_t v = 0;
	size_t n = strspn(q, "0123456789");

	if (n == 0 || n > 20)
		return cocoon_error_set(COCOON_EFORMAT, "quantity '%.40s' is not a whole number", q);
	for (size_t i = 0; i < n; i++) {
		unsigned d = (unsigned)(q[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return cocoon_error_set(COCOON_EFORMAT, "quantity '%.40s' overflows", q);
		v = v * 10 + d;
	}
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(q + n, units[i].suffix) == 0) {
			if (v != 0 && units[i].mult > UINT64_MAX / v)
				return cocoon_error_set(COCOON_EFORMAT, "quantity '%.40s' overflows", q);
			*out = v * units[i].mult;
			return 0;
		}
	}
	return cocoon_error_set(COCOON_EFORMAT, "quantity '%.40s' has an unsupported suffix", q);
}
