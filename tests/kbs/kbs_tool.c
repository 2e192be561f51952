/*
 * Test driver for the KBS library, so shell tests can put it against
 * independent tools (the jose CLI):
 *   kbs_tool enc PUBLIC.jwk PLAINTEXT   prints the resource JWE cocoon's broker would send
 *   kbs_tool dec PRIVATE.jwk JWE        prints the plaintext (EC keys in jose's JWK form)
 * Exit 0 on success, 1 on a library error (message on stderr), 2 on usage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include "cocoon/kbs.h"
#include "common/util.h"

static json_t *load_json(const char *path)
{
	json_error_t e;
	json_t *v = json_load_file(path, JSON_REJECT_DUPLICATES, &e);
	if (!v)
		fprintf(stderr, "kbs_tool: %s: %s\n", path, e.text);
	return v;
}

int main(int argc, char **argv)
{
	EVP_PKEY *key = NULL;
	json_t *jwk;
	uint8_t *data = NULL, *out = NULL;
	size_t len = 0, out_len = 0;
	char *jwe = NULL;
	int err;

	if (argc != 4 || (strcmp(argv[1], "enc") != 0 && strcmp(argv[1], "dec") != 0)) {
		fprintf(stderr, "usage: kbs_tool enc PUBLIC.jwk PLAINTEXT | dec PRIVATE.jwk JWE\n");
		return 2;
	}
	if (!(jwk = load_json(argv[2])) || cocoon_file_read(&data, &len, argv[3]) != 0)
		return 1;
	if (strcmp(argv[1], "enc") == 0) {
		if ((err = cocoon_kbs_jwk_to_key(&key, jwk)) == 0 && (err = cocoon_kbs_jwe_encrypt(&jwe, key, data, len)) == 0)
			printf("%s\n", jwe);
	} else {
		if ((err = cocoon_kbs_jwk_to_private_key(&key, jwk)) == 0 &&
		    (err = cocoon_kbs_jwe_decrypt(&out, &out_len, (const char *)data, len, key)) == 0)
			fwrite(out, 1, out_len, stdout);
	}
	if (err)
		fprintf(stderr, "kbs_tool: %s: %s\n", cocoon_error_name(err), cocoon_error_last()->message);
	if (out)
		cocoon_zeroize(out, out_len);
	free(out);
	free(jwe);
	free(data);
	EVP_PKEY_free(key);
	json_decref(jwk);
	return err ? 1 : 0;
}
