/* MAA claim-rule policies: evaluation semantics, explanations, issuance and limits. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "testutil.h"
#include "common/util.h"
#include "cocoon/policy.h"

#define MRSIGNER "c3d0a1dc4c6b5a2f7d1a0e8f5b3c9d2e1f0a4b6c8d7e5f3a2b1c0d9e8f7a6b5c"
#define MRENCLAVE "0f5e6d7c8b9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c"

/* ---- helpers ---- */

/* Incoming claims of a typical SGX enclave, as cocoon-attestd passes them. */
static json_t *sgx_claims(int debuggable, int svn)
{
	json_t *c = json_pack("{s:b,s:i,s:i,s:s,s:s,s:s}", "x-ms-sgx-is-debuggable", debuggable, "x-ms-sgx-product-id",
	                      1, "x-ms-sgx-svn", svn, "x-ms-sgx-mrsigner", MRSIGNER, "x-ms-sgx-mrenclave", MRENCLAVE,
	                      "x-ms-attestation-type", "sgx");
	assert_non_null(c);
	return c;
}

static cocoon_policy *compile(const char *text)
{
	cocoon_policy *p = NULL;
	int err = cocoon_policy_parse(&p, text, strlen(text));
	if (err != 0)
		fail_msg("parse failed: %s\n---\n%s", cocoon_error_last()->message, text);
	return p;
}

/* Evaluates text over claims (consumed) and checks the verdict. */
static void eval(cocoon_policy_outcome *o, const char *text, json_t *claims, int want_permitted)
{
	cocoon_policy *p = compile(text);
	int err = cocoon_policy_evaluate(o, p, claims);
	if (err != 0)
		fail_msg("evaluate failed: %s", cocoon_error_last()->message);
	if (o->permitted != want_permitted)
		fail_msg("permitted=%d, want %d (denied_by: %s)\n---\n%s", o->permitted, want_permitted, o->denied_by,
		         text);
	assert_non_null(o->issued);
	assert_non_null(o->properties);
	cocoon_policy_free(p);
	json_decref(claims);
}

static int permits(const char *text, json_t *claims)
{
	cocoon_policy_outcome o;
	cocoon_policy *p = compile(text);
	assert_int_equal(cocoon_policy_evaluate(&o, p, claims), 0);
	int permitted = o.permitted;
	cocoon_policy_outcome_free(&o);
	cocoon_policy_free(p);
	json_decref(claims);
	return permitted;
}

/* An authorization-only policy around one rule body. */
static char *auth(const char *rule)
{
	static char buf[4096];
	snprintf(buf, sizeof(buf), "version=1.0;\nauthorizationrules {\n\t%s\n};\n", rule);
	return buf;
}

static void assert_json(const json_t *got, const char *want)
{
	json_error_t e;
	json_t *w = json_loads(want, 0, &e);
	assert_non_null(w);
	if (!json_equal(got, w)) {
		char *s = json_dumps(got, JSON_COMPACT);
		fail_msg("got %s, want %s", s, want);
	}
	json_decref(w);
}

/* ---- authorization ---- */

static const char custom_sgx[] =
	"version= 1.0;\n"
	"authorizationrules\n"
	"{\n"
	"       [ type==\"x-ms-sgx-is-debuggable\", value==false ]\n"
	"        && [ type==\"x-ms-sgx-product-id\", value==1 ]\n"
	"        && [ type==\"x-ms-sgx-svn\", value>= 2 ]\n"
	"        && [ type==\"x-ms-sgx-mrsigner\", value==\"" MRSIGNER "\"]\n"
	"    => permit();\n"
	"};\n"
	"issuancerules {\n"
	"c:[type==\"x-ms-sgx-mrsigner\"] => issue(type=\"signer\", value=c.value);\n"
	"};\n";

static void test_custom_sgx_policy(void **state)
{
	(void)state;
	cocoon_policy_outcome o;

	eval(&o, custom_sgx, sgx_claims(0, 3), 1);
	assert_string_equal(o.denied_by, "");
	assert_int_equal(o.denied_line, 0);
	assert_json(o.issued, "{\"signer\":\"" MRSIGNER "\"}");
	cocoon_policy_outcome_free(&o);

	/* a debuggable enclave: no rule permits, and issuance does not run */
	eval(&o, custom_sgx, sgx_claims(1, 3), 0);
	assert_string_equal(o.denied_by, "no authorization rule permitted");
	assert_int_equal(o.denied_line, 0);
	assert_json(o.issued, "{}");
	cocoon_policy_outcome_free(&o);

	/* an SVN below the minimum */
	eval(&o, custom_sgx, sgx_claims(0, 1), 0);
	cocoon_policy_outcome_free(&o);

	/* a missing claim makes its condition false */
	json_t *c = sgx_claims(0, 3);
	json_object_del(c, "x-ms-sgx-mrsigner");
	eval(&o, custom_sgx, c, 0);
	cocoon_policy_outcome_free(&o);
}

static void test_deny_explained(void **state)
{
	(void)state;
	cocoon_policy_outcome o;
	const char *text =
		"version=1.0;\n"
		"authorizationrules {\n"
		"\t// debug enclaves never pass\n"
		"\tc:[type == \"x-ms-sgx-is-debuggable\",\n"
		"\t   value == true] => deny();\n"
		"\t=> permit();\n"
		"};\n";

	eval(&o, text, sgx_claims(1, 3), 0);
	assert_int_equal(o.denied_line, 4);
	assert_string_equal(o.denied_by, "rule at line 4: c:[type==\"x-ms-sgx-is-debuggable\", value==true] => deny();");
	cocoon_policy_outcome_free(&o);

	eval(&o, text, sgx_claims(0, 3), 1);
	cocoon_policy_outcome_free(&o);

	/* deny overrides a permit that fired earlier */
	const char *late =
		"version=1.0;\n"
		"authorizationrules {\n"
		"\t=> permit();\n"
		"\t[type==\"x-ms-sgx-svn\", value<2] => deny();\n"
		"};\n";
	eval(&o, late, sgx_claims(0, 1), 0);
	assert_int_equal(o.denied_line, 4);
	assert_string_equal(o.denied_by, "rule at line 4: [type==\"x-ms-sgx-svn\", value<2] => deny();");
	cocoon_policy_outcome_free(&o);
	eval(&o, late, sgx_claims(0, 2), 1);
	cocoon_policy_outcome_free(&o);

	/* a policy without authorizationrules never permits, and says so */
	eval(&o, "version=1.0;\nissuancerules { => issue(type=\"a\", value=1); };", sgx_claims(0, 1), 0);
	assert_string_equal(o.denied_by, "no authorization rule permitted (the policy has no authorizationrules)");
	assert_json(o.issued, "{}");
	cocoon_policy_outcome_free(&o);

	/* the signed JWS sample of Microsoft's documentation: deny debuggable, else permit */
	const char *jws_sample = "version=1.0;authorizationrules {c:[type==\"$is-debuggable\"] && [value==true] => deny();"
	                         "=> permit();};";
	assert_false(permits(jws_sample, json_pack("{s:b}", "$is-debuggable", 1)));
	assert_true(permits(jws_sample, json_pack("{s:b}", "$is-debuggable", 0)));
}

static void test_long_rule_explanation(void **state)
{
	(void)state;
	cocoon_policy_outcome o;
	cocoon_buf b = { 0 };

	assert_int_equal(cocoon_buf_printf(&b, "version=1.0;\nauthorizationrules {\n[type==\"x-ms-sgx-svn\""), 0);
	for (int i = 0; i < 15; i++)
		assert_int_equal(cocoon_buf_printf(&b, ", value!=%d000000000", 100 + i), 0);
	assert_int_equal(cocoon_buf_printf(&b, "] && [type==\"%0300d\"] => deny();\n=> permit();\n};\n", 0), 0);
	eval(&o, (const char *)b.data, json_pack("{s:i,s:b}", "x-ms-sgx-svn", 1, "000", 1), 1);
	cocoon_policy_outcome_free(&o);
	json_t *c = json_pack("{s:i}", "x-ms-sgx-svn", 1);
	char zeros[301];
	memset(zeros, '0', 300);
	zeros[300] = '\0';
	json_object_set_new(c, zeros, json_true());
	eval(&o, (const char *)b.data, c, 0);
	assert_int_equal(o.denied_line, 3);
	assert_true(strlen(o.denied_by) < sizeof(o.denied_by));
	assert_non_null(strstr(o.denied_by, "rule at line 3: [type==\"x-ms-sgx-svn\", value!=100000000000,"));
	assert_non_null(strstr(o.denied_by, "..."));
	cocoon_policy_outcome_free(&o);
	cocoon_buf_free(&b);
}

/* ---- operators and value types ---- */

static void test_integer_operators(void **state)
{
	(void)state;
	static const struct {
		const char *test;
		int holds;
	} cases[] = {
		{ "value==5", 1 }, { "value==4", 0 }, { "value!=4", 1 }, { "value!=5", 0 },
		{ "value<6", 1 },  { "value<5", 0 },  { "value<=5", 1 }, { "value<=4", 0 },
		{ "value>4", 1 },  { "value>5", 0 },  { "value>=5", 1 }, { "value>=6", 0 },
		{ "value>-1", 1 }, { "value<-9223372036854775807", 0 },
	};
	char rule[256];
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(rule, sizeof(rule), "[type==\"x-ms-sgx-svn\", %s] => permit();", cases[i].test);
		if (permits(auth(rule), sgx_claims(0, 5)) != cases[i].holds)
			fail_msg("svn 5, %s: want %d", cases[i].test, cases[i].holds);
	}
	/* 64-bit extremes */
	assert_true(permits(auth("[type==\"n\", value==-9223372036854775808] => permit();"),
	                    json_pack("{s:I}", "n", (json_int_t)INT64_MIN)));
	assert_true(permits(auth("[type==\"n\", value>=9223372036854775807] => permit();"),
	                    json_pack("{s:I}", "n", (json_int_t)INT64_MAX)));
}

static void test_string_and_boolean_values(void **state)
{
	(void)state;
	/* exact, case-sensitive string comparison */
	assert_true(permits(auth("[type==\"x-ms-sgx-mrsigner\", value==\"" MRSIGNER "\"] => permit();"), sgx_claims(0, 1)));
	assert_false(permits(auth("[type==\"x-ms-sgx-mrsigner\", value==\"C3D0\"] => permit();"), sgx_claims(0, 1)));
	assert_true(permits(auth("[type==\"x-ms-sgx-mrsigner\", value!=\"C3D0\"] => permit();"), sgx_claims(0, 1)));
	assert_false(permits(auth("[type==\"X-MS-SGX-MRSIGNER\"] => permit();"), sgx_claims(0, 1)));
	/* escapes inside literals */
	assert_true(permits(auth("[type==\"q\", value==\"a\\\"b\\\\c\\/d\\te\"] => permit();"),
	                    json_pack("{s:s}", "q", "a\"b\\c/d\te")));
	/* booleans */
	assert_true(permits(auth("[type==\"x-ms-sgx-is-debuggable\", value==false] => permit();"), sgx_claims(0, 1)));
	assert_true(permits(auth("[type==\"x-ms-sgx-is-debuggable\", value!=true] => permit();"), sgx_claims(0, 1)));
	assert_false(permits(auth("[type==\"x-ms-sgx-is-debuggable\", value==TRUE] => permit();"), sgx_claims(0, 1)));
	/* no implicit conversion between types: != is the negation of == */
	assert_false(permits(auth("[type==\"x-ms-sgx-svn\", value==\"5\"] => permit();"), sgx_claims(0, 5)));
	assert_true(permits(auth("[type==\"x-ms-sgx-svn\", value!=\"5\"] => permit();"), sgx_claims(0, 5)));
	assert_false(permits(auth("[type==\"x-ms-sgx-is-debuggable\", value==0] => permit();"), sgx_claims(0, 5)));
	assert_false(permits(auth("[type==\"x-ms-sgx-mrsigner\", value>0] => permit();"), sgx_claims(0, 5)));
}

static void test_value_type_and_issuer(void **state)
{
	(void)state;
	assert_true(permits(auth("[type==\"x-ms-sgx-svn\", valueType==\"Integer\"] => permit();"), sgx_claims(0, 1)));
	assert_true(permits(auth("[type==\"x-ms-sgx-is-debuggable\", valueType==\"Boolean\"] => permit();"),
	                    sgx_claims(0, 1)));
	assert_true(permits(auth("[type==\"x-ms-sgx-mrsigner\", valueType==\"String\"] => permit();"), sgx_claims(0, 1)));
	assert_false(permits(auth("[type==\"x-ms-sgx-svn\", valueType!=\"Integer\"] => permit();"), sgx_claims(0, 1)));
	/* incoming claims come from the service; claims the policy adds carry AttestationPolicy */
	assert_true(permits(auth("[type==\"x-ms-sgx-svn\", issuer==\"AttestationService\"] => permit();"),
	                    sgx_claims(0, 1)));
	assert_false(permits(auth("[issuer==\"CustomClaim\"] => permit();"), sgx_claims(0, 1)));
	const char *added = "version=1.0;\nauthorizationrules {\n"
	                    "\tc:[type==\"x-ms-sgx-svn\"] => add(type=\"svn-copy\", value=c.value);\n"
	                    "\t[type==\"svn-copy\", issuer==\"AttestationPolicy\", value==7] => permit();\n"
	                    "};\n";
	assert_true(permits(added, sgx_claims(0, 7)));
	assert_false(permits(added, sgx_claims(0, 6)));
}

static void test_conditions_and_references(void **state)
{
	(void)state;
	/* && needs every condition; each may be met by a different claim */
	const char *both = "[type==\"x-ms-sgx-is-debuggable\", value==false] && [type==\"x-ms-sgx-svn\", value>=3] => permit();";
	assert_true(permits(auth(both), sgx_claims(0, 3)));
	assert_false(permits(auth(both), sgx_claims(1, 3)));
	assert_false(permits(auth(both), sgx_claims(0, 2)));
	/* a reference compares against the claim bound by an earlier condition */
	const char *same = "a:[type==\"expected\"] && [type==\"actual\", value==a.value] => permit();";
	assert_true(permits(auth(same), json_pack("{s:s,s:s}", "expected", "x", "actual", "x")));
	assert_false(permits(auth(same), json_pack("{s:s,s:s}", "expected", "x", "actual", "y")));
	/* with several candidates, any combination that satisfies all conditions counts */
	assert_true(permits(auth(same), json_pack("{s:[s,s],s:s}", "expected", "p", "x", "actual", "x")));
	/* ordering against a reference */
	const char *min = "m:[type==\"min-svn\"] && [type==\"x-ms-sgx-svn\", value>=m.value] => permit();";
	assert_true(permits(auth(min), json_pack("{s:i,s:i}", "min-svn", 4, "x-ms-sgx-svn", 4)));
	assert_false(permits(auth(min), json_pack("{s:i,s:i}", "min-svn", 5, "x-ms-sgx-svn", 4)));
	/* references to other properties */
	assert_true(permits(auth("a:[type==\"k\"] && [type==\"names\", value==a.type] => permit();"),
	                    json_pack("{s:i,s:s}", "k", 1, "names", "k")));
	assert_true(permits(auth("a:[type==\"k\"] && [type==\"t\", value==a.valueType] => permit();"),
	                    json_pack("{s:i,s:s}", "k", 1, "t", "Integer")));
	/* a condition list without conditions always runs its action */
	assert_true(permits(auth("=> permit();"), json_object()));
}

static void test_negation(void **state)
{
	(void)state;
	const char *text = "version=1.2;\nauthorizationrules {\n\t![type==\"x-ms-sgx-is-debuggable\", value==true] => permit();\n};\n";
	assert_true(permits(text, sgx_claims(0, 1)));
	assert_false(permits(text, sgx_claims(1, 1)));
	assert_true(permits(text, json_object()));
	/* absence relative to a bound claim */
	const char *rel = "version=1.2;\nauthorizationrules {\n"
	                  "\ta:[type==\"allowed\"] && ![type==\"actual\", value!=a.value] => permit();\n};\n";
	assert_true(permits(rel, json_pack("{s:s,s:[s,s]}", "allowed", "x", "actual", "x", "x")));
	assert_false(permits(rel, json_pack("{s:s,s:[s,s]}", "allowed", "x", "actual", "x", "y")));
}

/* ---- issuance ---- */

static void test_issuance(void **state)
{
	(void)state;
	cocoon_policy_outcome o;
	const char *text =
		"version=1.2;\n"
		"authorizationrules { => permit(); };\n"
		"issuancerules {\n"
		"\tc:[type==\"x-ms-sgx-svn\"] => issue(type=\"svn\", value=c.value);\n"
		"\tc:[type==\"x-ms-sgx-mrenclave\"] => issue(claim=c);\n"
		"\t=> issue(type=\"level\", value=100);\n"
		"\t=> issue(type=\"flag\", value=true);\n"
		"\tc:[type==\"x-ms-sgx-svn\"] => issue(type=\"svn-type\", value=c.valueType);\n"
		"\t// claims issued above are visible to later rules, with issuer AttestationPolicy\n"
		"\tc:[type==\"level\", issuer==\"AttestationPolicy\", value>=100] => issue(type=\"high\", value=true);\n"
		"\t// add() feeds later rules without reaching the token\n"
		"\t=> add(type=\"internal\", value=\"x\");\n"
		"\t[type==\"internal\"] => issue(type=\"saw-internal\", value=true);\n"
		"\t=> issueproperty(type=\"report_validity_in_minutes\", value=60);\n"
		"\t![type==\"absent\"] => issue(type=\"absent\", value=false);\n"
		"};\n";

	eval(&o, text, sgx_claims(0, 9), 1);
	assert_json(o.issued, "{\"svn\":9,\"x-ms-sgx-mrenclave\":\"" MRENCLAVE "\",\"level\":100,\"flag\":true,"
	                      "\"svn-type\":\"Integer\",\"high\":true,\"saw-internal\":true,\"absent\":false}");
	assert_json(o.properties, "{\"report_validity_in_minutes\":60}");
	/* issuance order is kept */
	assert_string_equal(json_object_iter_key(json_object_iter(o.issued)), "svn");
	cocoon_policy_outcome_free(&o);
}

static void test_issuance_multi_valued(void **state)
{
	(void)state;
	cocoon_policy_outcome o;
	const char *text =
		"version=1.0;\n"
		"authorizationrules { [type==\"svns\", value>=1] => permit(); };\n"
		"issuancerules {\n"
		"\tc:[type==\"svns\"] => issue(claim=c);\n"
		"\t// every combination runs the action; identical claims are issued once\n"
		"\ta:[type==\"svns\"] && b:[type==\"svns\"] => issue(type=\"pairs\", value=a.value);\n"
		"\tc:[type==\"one\"] => issue(type=\"svns\", value=c.value);\n"
		"};\n";

	eval(&o, text, json_pack("{s:[i,i,i],s:i}", "svns", 3, 1, 3, "one", 7), 1);
	assert_json(o.issued, "{\"svns\":[3,1,7],\"pairs\":[3,1]}");
	cocoon_policy_outcome_free(&o);
}

static void test_configuration_rules(void **state)
{
	(void)state;
	cocoon_policy_outcome o;
	const char *text =
		"version=1.1;\n"
		"configurationrules {\n"
		"\t=> issueproperty(type=\"require_valid_aik_cert\", value=false);\n"
		"\t=> issueproperty(type=\"required_pcr_mask\", value=15);\n"
		"};\n"
		"authorizationrules {\n"
		"\t[type==\"required_pcr_mask\", value==15, issuer==\"AttestationPolicy\"] => permit();\n"
		"};\n"
		"issuancerules {\n"
		"\t=> issueproperty(type=\"required_pcr_mask\", value=7);\n"
		"};\n";

	/* properties are visible as claims, and the last issueproperty wins */
	eval(&o, text, json_object(), 1);
	assert_json(o.properties, "{\"require_valid_aik_cert\":false,\"required_pcr_mask\":7}");
	assert_json(o.issued, "{}");
	cocoon_policy_outcome_free(&o);
}

static void test_rule_sees_only_earlier_claims(void **state)
{
	(void)state;
	cocoon_policy_outcome o;
	/* a rule that adds claims of the type it matches must not feed on its own output */
	const char *text =
		"version=1.0;\n"
		"authorizationrules { => permit(); };\n"
		"issuancerules {\n"
		"\tc:[type==\"a\"] => issue(type=\"a\", value=c.value);\n"
		"\tc:[type==\"a\"] => add(type=\"a\", value=c.value);\n"
		"\tc:[type==\"a\", issuer==\"AttestationPolicy\"] => issue(type=\"count\", value=c.value);\n"
		"};\n";
	eval(&o, text, json_pack("{s:i}", "a", 1), 1);
	assert_json(o.issued, "{\"a\":1,\"count\":1}");
	cocoon_policy_outcome_free(&o);
}

/* ---- incoming claims ---- */

static void test_incoming_shapes(void **state)
{
	(void)state;
	cocoon_policy_outcome o;
	cocoon_policy *p = compile("version=1.0;\nauthorizationrules { => permit(); };\n"
	                           "issuancerules { c:[type==\"obj\"] => issue(claim=c); c:[type==\"n\"] => issue(claim=c); };");
	json_t *in;

	/* objects become their compact JSON text; null means absent */
	in = json_pack("{s:{s:i,s:s},s:n}", "obj", "z", 1, "a", "b", "n");
	assert_int_equal(cocoon_policy_evaluate(&o, p, in), 0);
	assert_json(o.issued, "{\"obj\":\"{\\\"a\\\":\\\"b\\\",\\\"z\\\":1}\"}");
	cocoon_policy_outcome_free(&o);
	json_decref(in);
	assert_true(permits("version=1.0;\nauthorizationrules { [type==\"o\", value==\"[1,2]\"] => permit(); };",
	                    json_pack("{s:[[i,i]]}", "o", 1, 2)));

	/* real numbers are not claim values */
	in = json_pack("{s:f}", "ratio", 0.5);
	o.permitted = 1;
	assert_int_equal(cocoon_policy_evaluate(&o, p, in), COCOON_EINVAL);
	assert_non_null(strstr(cocoon_error_last()->message, "incoming claim 'ratio' is a real number"));
	assert_int_equal(o.permitted, 0);
	assert_null(o.issued);
	json_decref(in);
	in = json_pack("{s:[i,f]}", "ratios", 1, 0.5);
	assert_int_equal(cocoon_policy_evaluate(&o, p, in), COCOON_EINVAL);
	assert_non_null(strstr(cocoon_error_last()->message, "incoming claim 'ratios' is a real number"));
	json_decref(in);

	/* bad arguments */
	in = json_array();
	assert_int_equal(cocoon_policy_evaluate(&o, p, in), COCOON_EINVAL);
	assert_non_null(strstr(cocoon_error_last()->message, "an incoming claims object are required"));
	assert_int_equal(cocoon_policy_evaluate(NULL, p, in), COCOON_EINVAL);
	json_decref(in);
	in = json_object();
	assert_int_equal(cocoon_policy_evaluate(&o, NULL, in), COCOON_EINVAL);
	json_decref(in);
	cocoon_policy_outcome_free(NULL);
	cocoon_policy_free(p);
}

/* ---- limits ---- */

static void test_evaluation_budget(void **state)
{
	(void)state;
	cocoon_policy_outcome o;
	cocoon_policy *p;
	cocoon_buf b = { 0 };
	json_t *in = json_object(), *many = json_array();
	int err;

	/* 6 conditions over 100 claims would be 10^12 combinations */
	for (int i = 0; i < 100; i++)
		json_array_append_new(many, json_integer(i));
	json_object_set_new(in, "x", many);
	assert_int_equal(cocoon_buf_printf(&b, "version=1.0;\nauthorizationrules { => permit(); };\nissuancerules {\n"), 0);
	assert_int_equal(cocoon_buf_printf(&b, "[type==\"x\"] && [type==\"x\"] && [type==\"x\"] && [type==\"x\"] && "
	                                       "[type==\"x\"] && c:[type==\"x\"] => issue(type=\"y\", value=c.value);\n};\n"),
	                 0);
	p = compile((const char *)b.data);
	err = cocoon_policy_evaluate(&o, p, in);
	assert_int_equal(err, COCOON_EINVAL);
	assert_non_null(strstr(cocoon_error_last()->message,
	                       "policy: rule at line 4 exceeded the evaluation limit of 4194304 claim comparisons"));
	assert_null(o.issued);
	cocoon_policy_free(p);
	json_decref(in);
	cocoon_buf_free(&b);
}

static void test_claim_limit(void **state)
{
	(void)state;
	cocoon_policy_outcome o;
	cocoon_policy *p;
	json_t *in = json_object(), *many = json_array();

	/* each rule doubles the claims of type x until the limit is hit */
	for (int i = 0; i < 1024; i++)
		json_array_append_new(many, json_integer(i));
	json_object_set_new(in, "x", many);
	p = compile("version=1.0;\nauthorizationrules { => permit(); };\nissuancerules {\n"
	            "c:[type==\"x\"] => add(type=\"x\", value=c.value);\nc:[type==\"x\"] => add(type=\"x\", value=c.value);\n"
	            "c:[type==\"x\"] => add(type=\"x\", value=c.value);\nc:[type==\"x\"] => add(type=\"x\", value=c.value);\n"
	            "c:[type==\"x\"] => add(type=\"x\", value=c.value);\nc:[type==\"x\"] => add(type=\"x\", value=c.value);\n"
	            "c:[type==\"x\"] => add(type=\"x\", value=c.value);\n};\n");
	assert_int_equal(cocoon_policy_evaluate(&o, p, in), COCOON_EINVAL);
	assert_non_null(strstr(cocoon_error_last()->message, "policy: more than 65536 claims (rule at line 10)"));
	cocoon_policy_free(p);
	json_decref(in);
}

/* ---- default policies ---- */

static void test_default_policies(void **state)
{
	(void)state;
	cocoon_policy_outcome o;

	eval(&o, cocoon_policy_default(COCOON_TEE_SGX), sgx_claims(1, 2), 1);
	assert_json(o.issued, "{\"is-debuggable\":true,\"sgx-mrsigner\":\"" MRSIGNER "\",\"sgx-mrenclave\":\"" MRENCLAVE
	                      "\",\"product-id\":1,\"svn\":2,\"tee\":\"sgx\"}");
	cocoon_policy_outcome_free(&o);

	eval(&o, cocoon_policy_default(COCOON_TEE_SNP),
	     json_pack("{s:b,s:i,s:s,s:s}", "x-ms-sevsnpvm-is-debuggable", 0, "x-ms-sevsnpvm-vmpl", 0,
	               "x-ms-sevsnpvm-launchmeasurement", "ab", "unrelated", "u"),
	     1);
	assert_json(o.issued, "{\"x-ms-sevsnpvm-is-debuggable\":false,\"x-ms-sevsnpvm-launchmeasurement\":\"ab\","
	                      "\"x-ms-sevsnpvm-vmpl\":0}");
	cocoon_policy_outcome_free(&o);

	eval(&o, cocoon_policy_default(COCOON_TEE_TDX),
	     json_pack("{s:s,s:s,s:b}", "tdx_mrtd", "cd", "attester_tcb_status", "UpToDate", "tdx_td_attributes_debug", 0),
	     1);
	assert_json(o.issued, "{\"attester_tcb_status\":\"UpToDate\",\"tdx_mrtd\":\"cd\",\"tdx_td_attributes_debug\":false}");
	cocoon_policy_outcome_free(&o);
}

/* One compiled policy is shared by concurrent evaluations. */
#include <pthread.h>
static cocoon_policy *shared_policy;
static void *eval_thread(void *arg)
{
	long ok = 0;
	(void)arg;
	for (int i = 0; i < 200; i++) {
		cocoon_policy_outcome o;
		json_t *in = sgx_claims(i & 1, 3);
		if (cocoon_policy_evaluate(&o, shared_policy, in) == 0 && o.permitted == !(i & 1))
			ok++;
		cocoon_policy_outcome_free(&o);
		json_decref(in);
	}
	return (void *)ok;
}

static void test_concurrent_evaluation(void **state)
{
	(void)state;
	pthread_t t[4];
	void *ok;

	shared_policy = compile(custom_sgx);
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, eval_thread, NULL), 0);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(t[i], &ok), 0);
		assert_int_equal((long)ok, 200);
	}
	cocoon_policy_free(shared_policy);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_custom_sgx_policy),
		cmocka_unit_test(test_deny_explained),
		cmocka_unit_test(test_long_rule_explanation),
		cmocka_unit_test(test_integer_operators),
		cmocka_unit_test(test_string_and_boolean_values),
		cmocka_unit_test(test_value_type_and_issuer),
		cmocka_unit_test(test_conditions_and_references),
		cmocka_unit_test(test_negation),
		cmocka_unit_test(test_issuance),
		cmocka_unit_test(test_issuance_multi_valued),
		cmocka_unit_test(test_configuration_rules),
		cmocka_unit_test(test_rule_sees_only_earlier_claims),
		cmocka_unit_test(test_incoming_shapes),
		cmocka_unit_test(test_evaluation_budget),
		cmocka_unit_test(test_claim_limit),
		cmocka_unit_test(test_default_policies),
		cmocka_unit_test(test_concurrent_evaluation),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
