/* JWKS from a file or an http(s) URL, fetched with OpenSSL's own HTTP client. */
#include <stdlib.h>
#include <string.h>
#include <openssl/err.h>
#include <openssl/http.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include "common/util.h"
#include "token/token_int.h"

typedef struct {
	SSL_CTX *ctx;
	const char *host;
	int tls;
} tls_arg;

/* OSSL_HTTP's hook: wrap the connected socket BIO in TLS, and unwrap it when done. */
static BIO *tls_cb(BIO *bio, void *arg, int connect, int detail)
{
	tls_arg *a = arg;
	if (!a->tls)
		return bio;
	if (connect && detail) {
		SSL *ssl = NULL;
		BIO *sbio = BIO_new_ssl(a->ctx, 1);
		if (!sbio)
			return NULL;
		BIO_get_ssl(sbio, &ssl);
		/* SNI and RFC 6125 host name checking against the URL's host. */
		if (!ssl || !SSL_set_tlsext_host_name(ssl, a->host) || !SSL_set1_host(ssl, a->host)) {
			BIO_free(sbio);
			return NULL;
		}
		return BIO_push(sbio, bio);
	}
	if (!connect) {
		BIO *inner;
		BIO_ssl_shutdown(bio);
		inner = BIO_pop(bio);
		BIO_free(bio);
		return inner;
	}
	return bio;
}

int cocoon_http_get(uint8_t **out, size_t *len, const char *url, const char *ca_file, int timeout_seconds,
                    size_t max)
{
	char *host = NULL;
	int use_ssl = 0, n, err = 0;
	tls_arg arg = { 0 };
	BIO *resp = NULL;

	*out = NULL;
	*len = 0;
	if (!OSSL_HTTP_parse_url(url, &use_ssl, NULL, &host, NULL, NULL, NULL, NULL, NULL)) {
		err = cocoon_error_set_openssl(COCOON_EINVAL, "'%.200s' is not an http:// or https:// URL", url);
		goto done;
	}
	arg.tls = use_ssl;
	arg.host = host;
	if (use_ssl) {
		if (!(arg.ctx = SSL_CTX_new(TLS_client_method())) ||
		    !SSL_CTX_set_min_proto_version(arg.ctx, TLS1_2_VERSION)) {
			err = cocoon_error_set_openssl(COCOON_EINTERNAL, "TLS client setup");
			goto done;
		}
		SSL_CTX_set_verify(arg.ctx, SSL_VERIFY_PEER, NULL);
		n = ca_file ? SSL_CTX_load_verify_locations(arg.ctx, ca_file, NULL)
		            : SSL_CTX_set_default_verify_paths(arg.ctx);
		if (n != 1) {
			err = cocoon_error_set_openssl(COCOON_EIO, "cannot load the CA certificates %s", ca_file ? ca_file
			                               : "of the system store");
			goto done;
		}
	}
	resp = OSSL_HTTP_get(url, NULL, NULL, NULL, NULL, tls_cb, &arg, 0, NULL, NULL, 0, max,
	                     timeout_seconds > 0 ? timeout_seconds : 10);
	if (!resp) {
		err = cocoon_error_set_openssl(COCOON_EIO, "GET %.200s failed", url);
		goto done;
	}
	/* A non-ASN.1 response is streamed: read it to the end, never past max. */
	if (!(*out = malloc(max + 1))) {
		err = cocoon_error_set(COCOON_ENOMEM, "out of memory");
		goto done;
	}
	for (;;) {
		n = BIO_read(resp, *out + *len, (int)(max + 1 - *len > 65536 ? 65536 : max + 1 - *len));
		if (n <= 0) {
			if (BIO_should_retry(resp))
				continue;
			break;
		}
		*len += (size_t)n;
		if (*len > max) {
			err = cocoon_error_set(COCOON_EFORMAT, "GET %.200s: the response exceeds %zu bytes", url, max);
			goto done;
		}
	}
	(*out)[*len] = '\0';
done:
	if (err) {
		free(*out);
		*out = NULL;
		*len = 0;
	}
	BIO_free_all(resp);
	SSL_CTX_free(arg.ctx);
	OPENSSL_free(host);
	return err;
}

int cocoon_jwks_load(cocoon_jwks **out, const char *file_or_url, const char *ca_file, int timeout_seconds)
{
	uint8_t *doc = NULL;
	size_t len = 0;
	int err;

	*out = NULL;
	if (strncmp(file_or_url, "http://", 7) == 0 || strncmp(file_or_url, "https://", 8) == 0)
		err = cocoon_http_get(&doc, &len, file_or_url, ca_file, timeout_seconds, COCOON_TOKEN_MAX_LEN);
	else
		err = cocoon_file_read(&doc, &len, file_or_url);
	if (err)
		goto done;
	err = cocoon_jwks_parse(out, (const char *)doc, len);
done:
	free(doc);
	return err;
}
