/*
 * Weak default for the SNP claims writer so that the DCAP-only parts of the
 * library link on their own; src/lib/snp provides the real definition.
 */
#include "cocoon/snp_claims.h"

int cocoon_snp_claims_to_json(void *json_object, const cocoon_snp_claims *c);

__attribute__((weak)) int cocoon_snp_claims_to_json(void *json_object, const cocoon_snp_claims *c)
{
	(void)json_object;
	(void)c;
	return 0;
}
