/*
 * Parsing Intel PCS/PCCS v4 response headers: the URL-encoded PEM issuer
 * chains (TCB-Info-Issuer-Chain, SGX-PCK-CRL-Issuer-Chain,
 * SGX-Enclave-Identity-Issuer-Chain, and their v3/v1 names as fallbacks
 * chosen by the caller) and Cache-Control. Untrusted input: the chain must
 * decode to exactly two PEM certificates with nothing after them, as
 * go-tdx-guest requires; whether they are Intel's is the verifier's job.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include "cocoon/collateral.h"
#include "collateral/http.h"
#include "common/util.h"

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Percent-decoding only: '+' stays '+', because base64 uses it and PCS escapes it as %2B anyway. */
static int url_decode(char **out, size_t *out_len, const char *s, size_t n, const char *name)
{
	char *p = malloc(n + 1);
	size_t o = 0;

	*out = NULL;
	if (!p)
		return cocoon_error_set(COCOON_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\0') {
			free(p);
			return cocoon_error_set(COCOON_EFORMAT, "header %s: NUL at byte %zu", name, i);
		}
		if (s[i] != '%') {
			p[o++] = s[i];
			continue;
		}
		if (i + 2 >= n || hexval(s[i + 1]) < 0 || hexval(s[i + 2]) < 0) {
			free(p);
			return cocoon_error_set(COCOON_EFORMAT, "header %s: bad percent-escape at byte %zu", name, i);
		}
		p[o++] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
		i += 2;
		/* PEM is text: a NUL would make the C string and the counted bytes disagree. */
		if (p[o - 1] == '\0') {
			free(p);
			return cocoon_error_set(COCOON_EFORMAT, "header %s: %%00 at byte %zu", name, i - 2);
		}
	}
	p[o] = '\0';
	*out = p;
	*out_len = o;
	return 0;
}

/* Exactly two certificates and nothing but whitespace after the second (checked on the text: the PEM reader skips junk). */
static int check_two_certs(const char *pem, size_t len, const char *name)
{
	static const char END[] = "-----END CERTIFICATE-----";
	const char *p = pem, *e = pem + len;
	BIO *b;
	int n = 0, err = 0;
	X509 *x;

	if (len > INT32_MAX)
		return cocoon_error_set(COCOON_EFORMAT, "header %s: %zu bytes is too long", name, len);
	if (!(b = BIO_new_mem_buf(pem, (int)len)))
		return cocoon_error_set(COCOON_ENOMEM, "out of memory");
	while (n < 3 && (x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
		X509_free(x);
		n++;
	}
	BIO_free(b);
	if (n != 2)
		return cocoon_error_set(COCOON_EFORMAT, "header %s: expected two PEM certificates (signer, then root), "
		                        "found %d", name, n);
	for (int i = 0; i < 2 && p; i++) {
		const char *q = memmem(p, (size_t)(e - p), END, sizeof(END) - 1);
		p = q ? q + sizeof(END) - 1 : NULL;
	}
	for (; p && p < e && !err; p++)
		if (*p != '\n' && *p != '\r' && *p != ' ' && *p != '\t')
			err = cocoon_error_set(COCOON_EFORMAT, "header %s: data after the second certificate", name);
	return err;
}

int cocoon_pcs_issuer_chain(char **chain, size_t *chain_len, const char *headers, size_t headers_len,
                            const char *chain_header)
{
	const char *v;
	size_t vl;
	int err;

	if (!chain || !chain_len || (!headers && headers_len))
		return cocoon_error_set(COCOON_EINVAL, "cocoon_pcs_issuer_chain: NULL argument");
	*chain = NULL;
	*chain_len = 0;
	if (!chain_header)
		return 0;
	if (coll_http_header(&v, &vl, headers ? headers : "", headers_len, chain_header) != 0)
		return cocoon_error_set(COCOON_EFORMAT, "the response has no %s header", chain_header);
	if ((err = url_decode(chain, chain_len, v, vl, chain_header)) != 0)
		return err;
	if ((err = check_two_certs(*chain, *chain_len, chain_header)) != 0) {
		free(*chain);
		*chain = NULL;
		*chain_len = 0;
	}
	return err;
}

long cocoon_http_max_age(const char *headers, size_t headers_len)
{
	const char *v, *p;
	size_t vl;
	long age = 0;
	char buf[256];

	if (!headers || coll_http_header(&v, &vl, headers, headers_len, "Cache-Control") != 0 || vl >= sizeof(buf))
		return -1;
	memcpy(buf, v, vl);
	buf[vl] = '\0';
	if (strcasestr(buf, "no-store") || strcasestr(buf, "no-cache"))
		return -1;
	if (!(p = strcasestr(buf, "max-age=")))
		return -1;
	p += 8;
	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (age > 100000000L)
			return -1;
		age = age * 10 + (*p - '0');
	}
	return age;
}
