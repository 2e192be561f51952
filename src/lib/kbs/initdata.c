/*
 * The init-data binding of an Attestation: the digest Trustee's attestation
 * service computes (attestation-service/src/lib.rs parse_init_data): the
 * hash named by the TOML document's top-level "algorithm" key, over the
 * whole document text. Only that one key is read, so this is a scanner for
 * the top-level key/value lines, not a TOML parser; anything it cannot read
 * with certainty is refused.
 */
#include <string.h>
#include "kbs/kbs_int.h"

/* The value of a top-level `algorithm = "..."` line into out (at most 15 chars). */
static int scan_algorithm(char out[16], const char *body)
{
	const char *line = body;
	int found = 0;

	while (line && *line) {
		const char *end = strchr(line, '\n'), *p = line, *v;
		size_t n = end ? (size_t)(end - line) : strlen(line), k;
		while (p < line + n && (*p == ' ' || *p == '\t'))
			p++;
		if (p < line + n && *p == '[')
			break;                      /* the first table ends the top level */
		if (p + 9 <= line + n && (strncmp(p, "algorithm", 9) == 0 || strncmp(p, "\"algorithm\"", 11) == 0)) {
			p += *p == '"' ? 11 : 9;
			while (p < line + n && (*p == ' ' || *p == '\t'))
				p++;
			if (p < line + n && *p == '=') {
				char q;
				if (found)
					return cocoon_error_set(COCOON_EFORMAT, "KBS init-data: \"algorithm\" is defined twice");
				for (p++; p < line + n && (*p == ' ' || *p == '\t'); p++)
					;
				if (p >= line + n || (*p != '"' && *p != '\''))
					return cocoon_error_set(COCOON_EFORMAT, "KBS init-data: \"algorithm\" must be a string");
				q = *p++;
				for (v = p, k = 0; p < line + n && *p != q && *p != '\\' && k < 15; p++, k++)
					;
				if (p >= line + n || *p != q)
					return cocoon_error_set(COCOON_EFORMAT, "KBS init-data: cannot read the \"algorithm\" string");
				memcpy(out, v, k);
				out[k] = '\0';
				found = 1;
			}
		}
		line = end ? end + 1 : NULL;
	}
	if (!found)
		return cocoon_error_set(COCOON_EFORMAT, "KBS init-data: no top-level \"algorithm\" key");
	return 0;
}

int cocoon_kbs_init_data_digest(uint8_t out[64], size_t *len, const cocoon_kbs_init_data *id)
{
	char alg[16];
	cocoon_kbs_hash h;
	unsigned int n = 0;
	int err;

	memset(out, 0, 64);
	*len = 0;
	if (!id || !id->format || !id->body)
		return cocoon_error_set(COCOON_EINVAL, "KBS init-data: none");
	if (strcmp(id->format, "toml") != 0)
		return cocoon_error_set(COCOON_EUNSUPPORTED, "KBS init-data: format \"%.16s\"; only \"toml\" is supported",
		                        id->format);
	if ((err = scan_algorithm(alg, id->body)) != 0)
		return err;
	if ((err = cocoon_kbs_hash_parse(&h, alg)) != 0)
		return cocoon_error_set(err, "KBS init-data: %s", cocoon_error_last()->message);
	if (EVP_Digest(id->body, strlen(id->body), out, &n,
	               h == COCOON_KBS_HASH_SHA256 ? EVP_sha256() : h == COCOON_KBS_HASH_SHA384 ? EVP_sha384() : EVP_sha512(),
	               NULL) != 1)
		return cocoon_error_set_openssl(COCOON_EINTERNAL, "KBS init-data: digest failed");
	*len = n;
	return 0;
}

void cocoon_kbs_init_data_regularize(uint8_t *field, size_t field_len, const uint8_t *digest, size_t digest_len)
{
	memset(field, 0, field_len);
	memcpy(field, digest, digest_len < field_len ? digest_len : field_len);
}
