/* MAA claim-rule policies: parsing the documented samples, versions, syntax errors, hash, defaults. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "testutil.h"
#include "common/util.h"
#include "cocoon/policy.h"

/* ---- helpers ---- */

static cocoon_policy *parse_ok(const char *text)
{
	cocoon_policy *p = NULL;
	int err = cocoon_policy_parse(&p, text, strlen(text));
	if (err != 0)
		fail_msg("parse failed: %s: %s\n---\n%s", cocoon_error_name(err), cocoon_error_last()->message, text);
	assert_non_null(p);
	return p;
}

/* The parse fails with EFORMAT and a message containing want. */
static void parse_fails_len(const char *text, size_t len, const char *want)
{
	cocoon_policy *p = (cocoon_policy *)0x1;
	int err = cocoon_policy_parse(&p, text, len);
	const char *msg = cocoon_error_last()->message;
	if (err != COCOON_EFORMAT || !strstr(msg, want))
		fail_msg("expected EFORMAT containing \"%s\", got %s: \"%s\"", want, cocoon_error_name(err), msg);
	assert_null(p);
}

static void parse_fails(const char *text, const char *want)
{
	parse_fails_len(text, strlen(text), want);
}

static void assert_version(const char *text, unsigned int major, unsigned int minor)
{
	cocoon_policy *p = parse_ok(text);
	unsigned int ma = 9, mi = 9;
	assert_int_equal(cocoon_policy_version(&ma, &mi, p), 0);
	assert_int_equal(ma, major);
	assert_int_equal(mi, minor);
	cocoon_policy_free(p);
}

/* ---- the samples of Microsoft's documentation ---- */

static void test_doc_samples(void **state)
{
	(void)state;
	static const char *const samples[] = {
		/* policy-examples.md: sample custom SGX policy (placeholders filled in) */
		"version= 1.0;\n"
		"authorizationrules\n"
		"{\n"
		"       [ type==\"x-ms-sgx-is-debuggable\", value==false ]\n"
		"        && [ type==\"x-ms-sgx-product-id\", value==1 ]\n"
		"        && [ type==\"x-ms-sgx-svn\", value>= 0 ]\n"
		"        && [ type==\"x-ms-sgx-mrsigner\", value==\"abcd\"]\n"
		"    => permit();\n"
		"};\n"
		"issuancerules {\n"
		"c:[type==\"x-ms-sgx-mrsigner\"] => issue(type=\"custom-name\", value=c.value);\n"
		"};\n",
		/* policy-examples.md: default SGX policy, version 1.1 */
		"version= 1.1;\n"
		"configurationrules{\n"
		"\t=> issueproperty(type=\"x-ms-sgx-tcbidentifier\", value=\"azuredefault\");\n"
		"};\n"
		"authorizationrules{\n"
		"\t=> permit();\n"
		"};\n"
		"issuancerules{\n"
		"\tc:[type==\"x-ms-sgx-is-debuggable\"] => issue(type=\"is-debuggable\", value=c.value);\n"
		"\tc:[type==\"x-ms-attestation-type\"] => issue(type=\"tee\", value=c.value);\n"
		"};\n",
		/* policy-examples.md: several enclaves, no issuance section */
		"version= 1.0;\n"
		"authorizationrules \n"
		"{\n"
		"\t[ type==\"x-ms-sgx-is-debuggable\", value==true ]&&\n"
		"\t[ type==\"x-ms-sgx-mrsigner\", value==\"mrsigner1\"] => permit(); \n"
		"\t[ type==\"x-ms-sgx-is-debuggable\", value==true ]&& \n"
		"\t[ type==\"x-ms-sgx-mrsigner\", value==\"mrsigner2\"] => permit(); \n"
		"};\n",
		/* The policy inside the signed JWS sample of policy-examples.md (one line, old claim names) */
		"version=1.0;authorizationrules {c:[type==\"$is-debuggable\"] && [value==true] => deny();=> permit();};"
		"issuancerules {    c:[type==\"$is-debuggable\"] => issue(type=\"NotDebuggable\", value=c.value);"
		"    c:[type==\"$tee\"] => issue(type=\"tee\", value=c.value);};",
		/* Older default policy: capitalised keyword */
		"Version= 1.0;\nauthorizationrules\n{\n\tc:[type==\"$is-debuggable\"] => permit();\n};\n",
		/* policy-version-1-1.md: TPM sample with spaces around '=' in arguments */
		"version=1.1;\n\n"
		"configurationrules{\n"
		"=> issueproperty(type = \"required_pcr_mask\", value = 15);\n"
		"=> issueproperty(type = \"require_valid_aik_cert\", value = false);\n"
		"};\n\n"
		"authorizationrules { \n    => permit();\n};\n\n\n"
		"issuancerules\n{\n"
		"[type==\"aikValidated\", value==true]&& \n"
		"[type==\"secureBootEnabled\", value==true] &&\n"
		"[type==\"bootDebuggingDisabled\", value==true] && \n"
		"[type==\"notSafeMode\", value==true] => issue(type=\"PlatformAttested\", value=true);\n"
		"};\n",
		/* claim-rule-grammar.md: identifiers referenced by later conditions and by the action */
		"version=1.0;\n"
		"issuancerules {\n"
		"F1:[type==\"OSName\", issuer==\"CustomClaim\"] &&\n"
		"[type==\"OSName\", issuer==\"AttestationService\", value==F1.value]\n"
		"=> issueproperty(type=\"report_validity_in_minutes\", value=1440);\n"
		"F1:[type==\"OSName\", issuer==\"CustomClaim\"] &&\n"
		"C2:[type==\"OSName\", issuer==\"AttestationService\", value==F1.value]\n"
		"=> issue(claim = C2);\n"
		"};\n",
		/* claim-rule-functions.md: absence test (functions removed) with comments */
		"version=1.2;\n"
		"// Absence of a claim\n"
		"authorizationrules { => permit(); };\n"
		"issuancerules {\n"
		"  /* default when the policy issued nothing */\n"
		"  ![type==\"secureBootEnabled\", issuer==\"AttestationPolicy\"] => issue(type=\"secureBootEnabled\", value=false);\n"
		"  => add(type=\"Claim3\", value=300);\n"
		"};\n",
		/* author-sign-policy.md: deny without conditions, empty issuance section */
		"version=1.0;\nauthorizationrules\n{\n=>deny();\n};\n\nissuancerules\n{\n};\n",
	};
	for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++)
		cocoon_policy_free(parse_ok(samples[i]));
}

static void test_versions(void **state)
{
	(void)state;
	assert_version("version=1.0;", 1, 0);
	assert_version("version = 1.1 ;", 1, 1);
	assert_version("VERSION=1.2;authorizationrules{=>permit();};", 1, 2);
	/* a UTF-8 byte-order mark is ignored */
	assert_version("\xEF\xBB\xBFversion=1.2;", 1, 2);
	parse_fails("version=2.0;", "policy:1:9: unsupported policy version '2.0'; cocoon supports 1.0, 1.1 and 1.2");
	parse_fails("version=1.3;", "policy:1:9: unsupported policy version '1.3'");
	parse_fails("version=0.9;", "unsupported policy version '0.9'");
	parse_fails("version=1;", "policy:1:9: expected a version MAJOR.MINOR such as 1.0 but found '1'");
	parse_fails("version=-1.0;", "expected a version MAJOR.MINOR");
	parse_fails("version=1.0", "policy:1:12: expected ';' after the version but found end of input");
	parse_fails("authorizationrules { => permit(); };",
	            "policy:1:1: expected 'version=1.0;' (or 1.1, 1.2) at the start of the policy but found "
	            "'authorizationrules'");
	parse_fails("", "policy:1:1: expected 'version=1.0;'");
	parse_fails("version=1.0;\nconfigurationrules { => issueproperty(type=\"a\", value=1); };",
	            "policy:2:1: configurationrules needs version=1.1 or later");
	parse_fails("version=1.1;\nissuancerules { ![type==\"a\"] => issue(type=\"a\", value=1); };",
	            "policy:2:17: '![...]' (claim absence) needs version=1.2");
}

/* ---- syntax errors: line:column and the offending token ---- */

static void test_errors_structure(void **state)
{
	(void)state;
	/* missing semicolon after a rule */
	parse_fails("version=1.0;\nauthorizationrules {\n\t=> permit()\n};\n",
	            "policy:4:1: expected ';' after the rule but found '}'");
	/* a condition that is not closed */
	parse_fails("version=1.0;\nauthorizationrules {\n\t[type==\"x-ms-sgx-svn\", value>=1 => permit();\n};\n",
	            "policy:3:34: expected ',' or ']' but found '=>'");
	/* unknown section */
	parse_fails("version=1.0;\nauthorisationrules { => permit(); };\n",
	            "policy:2:1: unknown section 'authorisationrules'; sections are configurationrules, "
	            "authorizationrules and issuancerules");
	/* section not closed with '};' */
	parse_fails("version=1.0;\nauthorizationrules { => permit(); }\nissuancerules { };\n",
	            "policy:3:1: expected ';' after '}' of authorizationrules but found 'issuancerules'");
	parse_fails("version=1.0;\nauthorizationrules { => permit();\nissuancerules { };\n",
	            "policy:3:1: expected '};' to close authorizationrules but found 'issuancerules'");
	parse_fails("version=1.0;\nauthorizationrules { => permit();",
	            "policy:2:34: expected a rule or '}' to close authorizationrules but found end of input");
	/* order and repetition of sections */
	parse_fails("version=1.1;\nissuancerules { };\nauthorizationrules { };\n",
	            "policy:3:1: section 'authorizationrules' must come before 'issuancerules'");
	parse_fails("version=1.0;\nauthorizationrules { };\nauthorizationrules { };\n",
	            "policy:3:1: section 'authorizationrules' appears twice");
	/* a rule outside any section */
	parse_fails("version=1.0;\n=> permit();\n",
	            "policy:2:1: expected a section (configurationrules, authorizationrules or issuancerules) but "
	            "found '=>'");
	/* an action without '=>' */
	parse_fails("version=1.0;\nauthorizationrules { permit(); };\n",
	            "policy:2:28: expected ':' after the condition name but found '('");
	parse_fails("version=1.0;\nauthorizationrules { [type==\"a\"] permit(); };\n",
	            "policy:2:34: expected '&&' or '=>' but found 'permit'");
	parse_fails("version=1.0;\nauthorizationrules { [type==\"a\"] & [type==\"b\"] => permit(); };\n",
	            "policy:2:34: unexpected '&'; conditions are joined with '&&'");
	parse_fails("version=1.0;\nauthorizationrules { [] => permit(); };\n",
	            "policy:2:22: empty condition '[]'");
	parse_fails("version=1.1;\nconfigurationrules { [type==\"a\"] => issueproperty(type=\"a\", value=1); };\n",
	            "policy:2:22: expected '=>' but found '['; configuration rules have no conditions");
}

static void test_errors_lexical(void **state)
{
	(void)state;
	/* unterminated string: reported where it starts */
	parse_fails("version=1.0;\nauthorizationrules {\n\t[type==\"x-ms-sgx-svn] => permit();\n};\n",
	            "policy:3:9: unterminated string literal; add the closing '\"' on the same line");
	parse_fails("version=1.0;\n/* never closed\nauthorizationrules { };\n",
	            "policy:2:1: unterminated comment '/*'; close it with '*/'");
	parse_fails("version=1.0;\nauthorizationrules { [type==\"a\\q\"] => permit(); };\n",
	            "policy:2:31: unknown escape in string literal");
	/* typographic quotes copied from old documentation */
	parse_fails("version=1.0;\nauthorizationrules { c:[type==\xE2\x80\x9D$is-debuggable\xE2\x80\x9D] => permit(); };\n",
	            "policy:2:31: unexpected typographic quote U+201D; use ASCII '\"'");
	parse_fails("version=1.0;\nauthorizationrules { [type==\"a\"] => permit(); } # };\n",
	            "policy:2:49: unexpected character '#'");
	parse_fails("version=1.0;\nauthorizationrules { [type==\"a\", value==99999999999999999999] => permit(); };\n",
	            "policy:2:41: integer out of range");
	parse_fails("version=1.0;\nauthorizationrules { [type==\"a\", value==1.5] => permit(); };\n",
	            "policy:2:41: fractional number '1.5' is not supported");
	/* bytes that are not text */
	parse_fails_len("version=1.0;\n\x00", 14, "policy:2:1: control character 0x00 is not allowed");
	parse_fails("version=1.0;\nauthorizationrules { [type==\"\xC3\x28\"] => permit(); };\n",
	            "policy:2:30: invalid UTF-8 byte 0xC3");
	parse_fails("version=1.0;\nauthorizationrules { [type==\"\xED\xA0\x80\"] => permit(); };\n",
	            "invalid UTF-8 byte 0xED");
	parse_fails("version=1.0;\nauthorizationrules { [type==\"\xC0\xAF\"] => permit(); };\n", "invalid UTF-8 byte 0xC0");
}

static void test_errors_conditions(void **state)
{
	(void)state;
	/* '=' instead of '==' (a typo in Microsoft's own sample) */
	parse_fails("version=1.0;\nauthorizationrules {\n\tc:[type=\"secureBootEnabled\"] => permit();\n};\n",
	            "policy:3:9: expected a comparison operator but found '='; use '==' to compare");
	/* tokens are read lazily: the first bad token the parser reaches is reported */
	parse_fails("version=1.0;\nauthorizationrules { [type=~\"a\"] => permit(); };\n",
	            "policy:2:27: expected a comparison operator but found '='");
	parse_fails("version=1.0;\nauthorizationrules { [type~\"a\"] => permit(); };\n",
	            "policy:2:27: unexpected character '~'");
	parse_fails("version=1.0;\nauthorizationrules { [type===\"a\"] => permit(); };\n",
	            "policy:2:29: expected a value (string, integer, true, false or ID.value) but found '='");
	parse_fails("version=1.0;\nauthorizationrules { [name==\"a\"] => permit(); };\n",
	            "policy:2:23: expected a claim property (type, value, valueType or issuer) but found 'name'");
	parse_fails("version=1.0;\nauthorizationrules { [type==\"a\", value<\"5\"] => permit(); };\n",
	            "policy:2:40: operator '<' needs an integer; strings and booleans allow only == and !=");
	parse_fails("version=1.0;\nauthorizationrules { [type>=\"a\"] => permit(); };\n",
	            "operator '>=' compares integers and applies only to 'value', not 'type'");
	parse_fails("version=1.0;\nauthorizationrules { [type==5] => permit(); };\n",
	            "policy:2:29: property 'type' is compared with a string literal");
	parse_fails("version=1.0;\nauthorizationrules { [type==\"a\", issuer==\"Policy\"] => permit(); };\n",
	            "issuer is one of \"AttestationService\", \"AttestationPolicy\" or \"CustomClaim\"");
	parse_fails("version=1.0;\nauthorizationrules { [type==\"a\", valueType==\"Int\"] => permit(); };\n",
	            "valueType is one of \"String\", \"Integer\" or \"Boolean\"");
	parse_fails("version=1.0;\nauthorizationrules { [type==\"a\", value==yes] => permit(); };\n",
	            "policy:2:41: unknown value 'yes'; use a quoted string, an integer, true, false or ID.value");
	parse_fails("version=1.0;\nauthorizationrules { [type==\"a\", value==c.value] => permit(); };\n",
	            "policy:2:41: unknown identifier 'c'; bind it with 'c:[...]' in an earlier condition");
	/* a condition cannot refer to itself or a later one */
	parse_fails("version=1.0;\nauthorizationrules { c:[type==\"a\", value==c.value] => permit(); };\n",
	            "unknown identifier 'c'");
	parse_fails("version=1.0;\nauthorizationrules { c:[type==\"a\"] && c:[type==\"b\"] => permit(); };\n",
	            "policy:2:39: identifier 'c' is already bound in this rule");
	parse_fails("version=1.2;\nauthorizationrules { !c:[type==\"a\"] => permit(); };\n",
	            "policy:2:23: a negated condition '![...]' matches no claim, so it cannot bind an identifier");
	parse_fails("version=1.0;\nauthorizationrules { [type==\"a\", value==c.name] => permit(); };\n",
	            "unknown identifier 'c'");
	parse_fails("version=1.0;\nauthorizationrules { c:[type==\"a\"] && [value==c.name] => permit(); };\n",
	            "policy:2:49: expected a claim property after '.' but found 'name'");
}

static void test_errors_actions(void **state)
{
	(void)state;
	parse_fails("version=1.0;\nauthorizationrules { => allow(); };\n",
	            "policy:2:25: expected an action (permit, deny, add, issue or issueproperty) but found 'allow'");
	parse_fails("version=1.0;\nauthorizationrules { => issue(type=\"a\", value=1); };\n",
	            "policy:2:25: action 'issue' is not allowed in authorizationrules");
	parse_fails("version=1.0;\nissuancerules { => permit(); };\n",
	            "policy:2:20: action 'permit' is not allowed in issuancerules");
	parse_fails("version=1.1;\nconfigurationrules { => issue(type=\"a\", value=1); };\n",
	            "action 'issue' is not allowed in configurationrules");
	parse_fails("version=1.0;\nauthorizationrules { => permit(1); };\n",
	            "policy:2:32: expected ')' but found '1'; permit() takes no arguments");
	/* unknown and unsupported functions */
	parse_fails("version=1.0;\nissuancerules { c:[type==\"a\"] => issue(type=\"b\", value=Foo(c.value)); };\n",
	            "policy:2:56: unknown function 'Foo'");
	parse_fails("version=1.2;\nissuancerules { c:[type==\"a\"] => add(type=\"b\", value=JmesPath(c.value, \"x\")); };\n",
	            "policy:2:54: function 'JmesPath' (MAA policy 1.2) is not supported by cocoon");
	/* arguments */
	parse_fails("version=1.0;\nissuancerules { => issue(type=\"a\"); };\n",
	            "policy:2:20: issue() takes either claim=ID or both type=... and value=...");
	parse_fails("version=1.0;\nissuancerules { c:[type==\"a\"] => issue(claim=c, type=\"b\"); };\n",
	            "issue() takes either claim=ID or both type=... and value=...");
	parse_fails("version=1.0;\nissuancerules { => issue(type=\"a\", type=\"b\", value=1); };\n",
	            "policy:2:36: argument 'type' given twice");
	parse_fails("version=1.0;\nissuancerules { => issue(type=\"a\" value=1); };\n",
	            "policy:2:35: expected ',' or ')' but found 'value'");
	parse_fails("version=1.0;\nissuancerules { => issue(type==\"a\", value=1); };\n",
	            "policy:2:30: expected '=' but found '=='; arguments are written name=value");
	parse_fails("version=1.0;\nissuancerules { => issue(type=\"\", value=1); };\n",
	            "policy:2:31: type= takes a non-empty string literal or ID.type");
	parse_fails("version=1.0;\nissuancerules { c:[type==\"a\"] => issue(type=c.value, value=1); };\n",
	            "type= takes a non-empty string literal or ID.type");
	parse_fails("version=1.0;\nissuancerules { => issue(claim=c); };\n",
	            "policy:2:32: expected the identifier of a condition of this rule after 'claim=' but found 'c'");
	parse_fails("version=1.0;\nissuancerules { => issue(name=\"a\", value=1); };\n",
	            "expected an argument of issue() (claim=ID, or type=... and value=...) but found 'name'");
}

static void test_limits(void **state)
{
	(void)state;
	cocoon_buf b = { 0 };
	char *big;

	/* more conditions than allowed in one rule */
	assert_int_equal(cocoon_buf_printf(&b, "version=1.0;\nauthorizationrules {\n"), 0);
	for (int i = 0; i < COCOON_POLICY_MAX_CONDITIONS + 1; i++)
		assert_int_equal(cocoon_buf_printf(&b, "%s[type==\"t%d\"]", i ? " && " : "", i), 0);
	assert_int_equal(cocoon_buf_printf(&b, " => permit();\n};\n"), 0);
	parse_fails((const char *)b.data, "rule has more than 32 conditions");
	cocoon_buf_free(&b);

	/* more property tests than allowed in one condition */
	assert_int_equal(cocoon_buf_printf(&b, "version=1.0;\nauthorizationrules { ["), 0);
	for (int i = 0; i < COCOON_POLICY_MAX_PROPERTIES + 1; i++)
		assert_int_equal(cocoon_buf_printf(&b, "%stype!=\"t%d\"", i ? ", " : "", i), 0);
	assert_int_equal(cocoon_buf_printf(&b, "] => permit(); };\n"), 0);
	parse_fails((const char *)b.data, "condition has more than 16 property tests");
	cocoon_buf_free(&b);

	/* more rules than allowed */
	assert_int_equal(cocoon_buf_printf(&b, "version=1.0;\nauthorizationrules {\n"), 0);
	for (int i = 0; i < COCOON_POLICY_MAX_RULES + 1; i++)
		assert_int_equal(cocoon_buf_printf(&b, "=>permit();\n"), 0);
	assert_int_equal(cocoon_buf_printf(&b, "};\n"), 0);
	parse_fails((const char *)b.data, "policy:4099:1: more than 4096 rules");
	cocoon_buf_free(&b);

	/* text and string length */
	big = malloc(COCOON_POLICY_MAX_LEN + 2);
	assert_non_null(big);
	memset(big, ' ', COCOON_POLICY_MAX_LEN + 1);
	big[COCOON_POLICY_MAX_LEN + 1] = '\0';
	parse_fails(big, "policy: text is 1048577 bytes; the limit is 1048576");
	strcpy(big, "version=1.0;authorizationrules{[type==\"");
	memset(big + 39, 'a', COCOON_POLICY_MAX_STRING + 1);
	strcpy(big + 39 + COCOON_POLICY_MAX_STRING + 1, "\"]=>permit();};");
	parse_fails(big, "policy:1:39: string literal longer than 65536 bytes");
	free(big);

	/* an identifier longer than 256 characters */
	assert_int_equal(cocoon_buf_printf(&b, "version=1.0;\nauthorizationrules { "), 0);
	for (int i = 0; i < 300; i++)
		assert_int_equal(cocoon_buf_append(&b, "x", 1), 0);
	assert_int_equal(cocoon_buf_printf(&b, ":[type==\"a\"] => permit(); };"), 0);
	parse_fails((const char *)b.data, "policy:2:22: identifier longer than 256 characters");
	cocoon_buf_free(&b);
}

static void test_arguments(void **state)
{
	(void)state;
	cocoon_policy *p = NULL;
	unsigned int a, b;

	assert_int_equal(cocoon_policy_parse(NULL, "version=1.0;", 12), COCOON_EINVAL);
	assert_int_equal(cocoon_policy_parse(&p, NULL, 5), COCOON_EINVAL);
	assert_int_equal(cocoon_policy_version(&a, &b, NULL), COCOON_EINVAL);
	/* text need not be NUL-terminated: only len bytes are read */
	assert_int_equal(cocoon_policy_parse(&p, "version=1.1;garbage", 12), 0);
	assert_int_equal(cocoon_policy_version(&a, &b, p), 0);
	assert_int_equal(b, 1);
	cocoon_policy_free(p);
	cocoon_policy_free(NULL);
}

/* ---- x-ms-policy-hash ---- */

static void test_hash(void **state)
{
	(void)state;
	char h[44];
	cocoon_buf b = { 0 };
	const char *small = "version=1.0;authorizationrules{=> permit();};";

	/* Expected values computed independently as base64url(sha256(base64url(text))) with Python. */
	assert_int_equal(cocoon_policy_hash(h, "", 0), 0);
	assert_string_equal(h, "47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU");
	assert_int_equal(cocoon_policy_hash(h, small, strlen(small)), 0);
	assert_string_equal(h, "f27ukcU8ep-KS3CyP8TKmdiiu4Xyd5aLzghwveJ-4b4");
	/* Longer than one internal chunk, and one byte past a chunk boundary. */
	for (int i = 0; i < 400; i++)
		assert_int_equal(cocoon_buf_printf(&b, "c:[type==\"t%d\"] => issue(claim=c);\n", i), 0);
	assert_int_equal(b.len, 14290);
	assert_int_equal(cocoon_policy_hash(h, (const char *)b.data, b.len), 0);
	assert_string_equal(h, "hH50wzSgM74uJdrP-Vl9bZvIW3MA_myAZoKYeQFHSec");
	assert_int_equal(cocoon_policy_hash(h, (const char *)b.data, 3073), 0);
	assert_string_equal(h, "CTAh2YD3kLkUlzWafTi-ZvcHKtDwyHf4NgYUpaV2vQY");
	assert_int_equal(strlen(h), 43);
	cocoon_buf_free(&b);
	assert_int_equal(cocoon_policy_hash(NULL, small, 3), COCOON_EINVAL);
	assert_int_equal(cocoon_policy_hash(h, NULL, 3), COCOON_EINVAL);
}

static void test_defaults_parse(void **state)
{
	(void)state;
	const cocoon_tee tees[] = { COCOON_TEE_SGX, COCOON_TEE_SNP, COCOON_TEE_TDX };
	for (size_t i = 0; i < 3; i++) {
		const char *text = cocoon_policy_default(tees[i]);
		assert_non_null(text);
		cocoon_policy_free(parse_ok(text));
	}
	assert_null(cocoon_policy_default(COCOON_TEE_UNKNOWN));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_doc_samples),
		cmocka_unit_test(test_versions),
		cmocka_unit_test(test_errors_structure),
		cmocka_unit_test(test_errors_lexical),
		cmocka_unit_test(test_errors_conditions),
		cmocka_unit_test(test_errors_actions),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_arguments),
		cmocka_unit_test(test_hash),
		cmocka_unit_test(test_defaults_parse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
