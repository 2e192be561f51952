/*
 * Weak default for the SNP claims writer so that the DCAP-only parts of the
 * library link on their own; src/lib/snp provides the real definition.
 *
 * The declaration comes from the public header: the linker gives a symbol the
 * most restrictive visibility of all its definitions, so a hidden weak default
 * would hide the public function in libcocoon.so.
 */
#include "cocoon/snp.h"

__attribute__((weak)) int cocoon_snp_claims_to_json(void *json_object, const cocoon_snp_claims *c)
{
	(void)json_object;
	(void)c;
	return 0;
}
