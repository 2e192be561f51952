/*
 * Unit tests for cocoon-webhook's pure parts: RFC 6901 escaping, the JSON Patch
 * diff, and the pod policy's fixed point and denials, called directly through
 * the webhook_review / webhook_mutate_pod seam (no server, no I/O).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "webhook.h"

static webhook_config cfg(void)
{
	webhook_config c = WEBHOOK_CONFIG_INIT;
	c.image = "registry.example.com/cocoon:1";
	return c;
}

static void test_pointer_escaping(void **state)
{
	char *p = webhook_pointer_join("/spec/limits", "kubernetes.azure.com/sgx~epc");
	(void)state;
	assert_string_equal(p, "/spec/limits/kubernetes.azure.com~1sgx~0epc");
	free(p);
	p = webhook_pointer_join("", "");
	assert_string_equal(p, "/");
	free(p);
}

static void expect_patch(const char *a, const char *b, const char *want)
{
	json_t *ja = json_loads(a, 0, NULL), *jb = json_loads(b, 0, NULL), *w = json_loads(want, 0, NULL);
	json_t *p = webhook_diff(ja, jb);
	char *got = json_dumps(p, JSON_COMPACT);
	if (!json_equal(p, w))
		fail_msg("diff(%s, %s) = %s, want %s", a, b, got, want);
	free(got);
	json_decref(ja);
	json_decref(jb);
	json_decref(w);
	json_decref(p);
}

static void test_diff(void **state)
{
	(void)state;
	expect_patch("{\"a\":1}", "{\"a\":1}", "[]");
	expect_patch("{\"a\":1,\"b\":2}", "{\"a\":3,\"c\":{\"d/e\":1}}",
	             "[{\"op\":\"remove\",\"path\":\"/b\"},{\"op\":\"replace\",\"path\":\"/a\",\"value\":3},"
	             "{\"op\":\"add\",\"path\":\"/c\",\"value\":{\"d/e\":1}}]");
	expect_patch("{\"l\":{\"x/y\":\"1\"}}", "{\"l\":{\"x/y\":\"1\",\"k~/\":\"2\"}}",
	             "[{\"op\":\"add\",\"path\":\"/l/k~0~1\",\"value\":\"2\"}]");
	expect_patch("{\"v\":[1,2]}", "{\"v\":[1,2,3,4]}",
	             "[{\"op\":\"add\",\"path\":\"/v/-\",\"value\":3},{\"op\":\"add\",\"path\":\"/v/-\",\"value\":4}]");
	/* Insertion at the front is not a prefix: the array is replaced whole. */
	expect_patch("{\"v\":[1,2]}", "{\"v\":[0,1,2]}", "[{\"op\":\"replace\",\"path\":\"/v\",\"value\":[0,1,2]}]");
	expect_patch("{\"v\":[{\"a\":1},{\"a\":2}]}", "{\"v\":[{\"a\":1},{\"a\":5}]}",
	             "[{\"op\":\"replace\",\"path\":\"/v/1/a\",\"value\":5}]");
}

/* Runs the policy on pod (JSON text); returns 0/1/-1 and leaves the edited pod in *out. */
static int policy(const char *pod, json_t **out, char *reason, size_t n)
{
	webhook_config c = cfg();
	json_t *p = json_loads(pod, 0, NULL);
	assert_non_null(p);
	*out = p;
	return webhook_mutate_pod(p, &c, reason, n);
}

#define POD(labels, annotations, spec)                                                                            \
	"{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\",\"labels\":" labels ",\"annotations\":" \
	annotations "},\"spec\":" spec "}"
#define OPT "{\"cocoon.io/confidential\":\"true\"}"
#define CM "{\"cocoon.io/launch-configmap\":\"c\"}"
#define APP "{\"containers\":[{\"name\":\"app\",\"image\":\"a\",\"command\":[\"/a\"]}]}"

static void test_fixed_point(void **state)
{
	const char *pods[] = {
		POD(OPT, CM, APP),
		POD(OPT, "{\"cocoon.io/launch-configmap\":\"c\",\"cocoon.io/sgx-epc-mib\":\"8\","
		         "\"cocoon.io/sgx-quote-helper\":\"true\"}",
		    "{\"securityContext\":{\"supplementalGroups\":[7]},\"containers\":[{\"name\":\"app\",\"image\":\"a\","
		    "\"command\":[\"/a\"],\"args\":[\"x\"],\"env\":[{\"name\":\"E\",\"value\":\"1\"}]}]}"),
	};
	char reason[512];
	(void)state;
	for (size_t i = 0; i < sizeof(pods) / sizeof(*pods); i++) {
		json_t *once, *twice;
		assert_int_equal(policy(pods[i], &once, reason, sizeof(reason)), 0);
		twice = json_deep_copy(once);
		{
			webhook_config c = cfg();
			assert_int_equal(webhook_mutate_pod(twice, &c, reason, sizeof(reason)), 0);
		}
		assert_true(json_equal(once, twice));
		json_decref(once);
		json_decref(twice);
	}
}

/* On reinvocation the API server has defaulted what the webhook added: still a fixed point. */
static void test_defaulted_is_fixed_point(void **state)
{
	char reason[512];
	json_t *once, *ic, *vol;
	webhook_config c = cfg();
	size_t i;
	(void)state;
	assert_int_equal(policy(POD(OPT, CM, APP), &once, reason, sizeof(reason)), 0);
	ic = json_array_get(json_object_get(json_object_get(once, "spec"), "initContainers"), 0);
	assert_int_equal(json_object_set_new(ic, "terminationMessagePath", json_string("/dev/termination-log")), 0);
	assert_int_equal(json_object_set_new(ic, "imagePullPolicy", json_string("IfNotPresent")), 0);
	json_array_foreach(json_object_get(json_object_get(once, "spec"), "volumes"), i, vol)
		if (json_object_get(vol, "configMap"))
			assert_int_equal(json_object_set_new(json_object_get(vol, "configMap"), "defaultMode", json_integer(420)), 0);
	assert_int_equal(webhook_mutate_pod(once, &c, reason, sizeof(reason)), 0);
	/* ...but not when something that changes behaviour was added to the reserved init container. */
	assert_int_equal(json_object_set_new(ic, "args", json_pack("[s]", "--elsewhere")), 0);
	assert_int_equal(webhook_mutate_pod(once, &c, reason, sizeof(reason)), 1);
	assert_non_null(strstr(reason, "reserved for cocoon"));
	json_decref(once);
}

static void expect_denied(const char *pod, const char *needle)
{
	char reason[512] = "";
	json_t *p;
	int rc = policy(pod, &p, reason, sizeof(reason));
	json_decref(p);
	if (rc != 1 || !strstr(reason, needle))
		fail_msg("want a denial containing \"%s\", got rc %d: %s", needle, rc, reason);
}

static void test_denials(void **state)
{
	(void)state;
	expect_denied(POD("{\"cocoon.io/confidential\":\"True\"}", CM, APP), "must be \"true\" or \"false\"");
	expect_denied(POD(OPT, "{\"cocoon.io/launch-configmap\":\"c\",\"cocoon.io/sgx-epc-mib\":\"0\"}", APP),
	              "whole number of MiB");
	expect_denied(POD(OPT, "{\"cocoon.io/launch-configmap\":\"c\",\"cocoon.io/sgx-epc-mib\":\"016\"}", APP),
	              "whole number of MiB");
	expect_denied(POD(OPT, "{\"cocoon.io/launch-configmap\":\"c\",\"cocoon.io/sgx-epc-mib\":\"1048577\"}", APP),
	              "whole number of MiB");
	expect_denied(POD(OPT, "{\"cocoon.io/launch-configmap\":\"c\",\"cocoon.io/sgx-quote-helper\":\"true\"}", APP),
	              "needs an SGX pod");
	expect_denied(POD(OPT, "{\"cocoon.io/launch-configmap\":\"c\",\"cocoon.io/launch-config\":\"{}\"}", APP),
	              "not both");
	expect_denied(POD(OPT, "{\"cocoon.io/launch-config\":\"{\\\"k\\\": \\\"s3cr3t\"}", APP), "not valid JSON");
	{
		/* The reason (sent back and logged) carries the position, never the annotation's text. */
		char reason[512];
		json_t *p;
		assert_int_equal(policy(POD(OPT, "{\"cocoon.io/launch-config\":\"{\\\"k\\\": \\\"s3cr3t\"}", APP), &p,
		                        reason, sizeof(reason)), 1);
		assert_null(strstr(reason, "s3cr3t"));
		assert_non_null(strstr(reason, "column"));
		json_decref(p);
	}
	expect_denied(POD(OPT, "{\"cocoon.io/launch-config\":\"[1]\"}", APP), "must hold a JSON object");
	expect_denied(POD(OPT, CM, "{\"containers\":[{\"name\":\"app\",\"image\":\"a\",\"command\":[]}]}"), "sets no command");
	expect_denied(POD(OPT, CM, "{\"containers\":[{\"name\":\"app\",\"image\":\"a\",\"command\":[\"/a\",1]}]}"),
	              "lists of strings");
	expect_denied(POD(OPT, CM, "{\"containers\":[]}"), "no containers");
	/* Wrong shapes are denials with a reason, not internal errors. */
	expect_denied(POD(OPT, "{\"cocoon.io/launch-configmap\":\"c\",\"cocoon.io/sgx-epc-mib\":\"8\"}",
	                  "{\"containers\":[{\"name\":\"app\",\"image\":\"a\",\"command\":[\"/a\"],\"resources\":"
	                  "{\"limits\":5}}]}"),
	              "app: limits is not an object");
	expect_denied(POD(OPT, CM, "{\"volumes\":{},\"containers\":[{\"name\":\"app\",\"image\":\"a\",\"command\":[\"/a\"]}]}"),
	              "volumes is not a list");
	expect_denied(POD(OPT, "{\"cocoon.io/launch-configmap\":\"c\",\"cocoon.io/sgx-epc-mib\":\"8\","
	                       "\"cocoon.io/sgx-quote-helper\":\"true\"}",
	                  "{\"securityContext\":{\"supplementalGroups\":\"5791\"},\"containers\":[{\"name\":\"app\","
	                  "\"image\":\"a\",\"command\":[\"/a\"]}]}"),
	              "supplementalGroups is not a list");
	expect_denied(POD(OPT, "{\"cocoon.io/launch-configmap\":\"c\",\"cocoon.io/sgx-epc-mib\":\"8\"}",
	                  "{\"containers\":[{\"name\":\"app\",\"image\":\"a\",\"command\":[\"/a\"],\"resources\":{\"limits\":"
	                  "{\"kubernetes.azure.com/sgx_epc_mem_in_MiB\":\"9\"}}}]}"),
	              "different from the pod's annotation");
	expect_denied(POD(OPT, "{\"cocoon.io/launch-configmap\":\"c\",\"cocoon.io/sgx-epc-mib\":\"8\","
	                       "\"cocoon.io/sgx-quote-helper\":\"true\"}",
	                  "{\"containers\":[{\"name\":\"app\",\"image\":\"a\",\"command\":[\"/a\"],\"env\":[{\"name\":"
	                  "\"SGX_AESM_ADDR\",\"value\":\"0\"}]}]}"),
	              "SGX_AESM_ADDR");
	expect_denied(POD(OPT, CM, "{\"initContainers\":[{\"name\":\"x\",\"image\":\"a\",\"volumeMounts\":[{\"name\":"
	                           "\"cocoon-bin\",\"mountPath\":\"/x\"}]}]," "\"containers\":[{\"name\":\"app\",\"image\":"
	                           "\"a\",\"command\":[\"/a\"]}]}"),
	              "belongs to cocoon");
	expect_denied(POD(OPT, CM, "{\"containers\":[{\"name\":\"app\",\"image\":\"a\",\"command\":[\"/a\"],"
	                           "\"volumeMounts\":[{\"name\":\"d\",\"mountPath\":\"/cocoon\"}]}],\"volumes\":[{\"name\":"
	                           "\"d\",\"emptyDir\":{}}]}"),
	              "where cocoon mounts");
	expect_denied(POD(OPT, CM, "{\"containers\":[{\"name\":\"app\",\"image\":\"a\",\"command\":[\"/a\"],"
	                           "\"volumeMounts\":[{\"name\":\"h\",\"mountPath\":\"/run/cocoon/secrets/x\"}]}],"
	                           "\"volumes\":[{\"name\":\"h\",\"hostPath\":{\"path\":\"/\"}}]}"),
	              "over cocoon's secrets directory");
}

static void test_not_over_secrets(void **state)
{
	/* /run/cocoon-other shares a prefix with /run/cocoon/secrets but not a path component. */
	char reason[512];
	json_t *p;
	(void)state;
	assert_int_equal(policy(POD(OPT, CM, "{\"containers\":[{\"name\":\"app\",\"image\":\"a\",\"command\":[\"/a\"],"
	                                     "\"volumeMounts\":[{\"name\":\"h\",\"mountPath\":\"/run/cocoon/secretsX\"}]}],"
	                                     "\"volumes\":[{\"name\":\"h\",\"hostPath\":{\"path\":\"/srv\"}}]}"),
	                        &p, reason, sizeof(reason)),
	                 0);
	json_decref(p);
}

static json_t *review(const char *body, int *status)
{
	webhook_config c = cfg();
	webhook_reply r;
	json_t *o;
	webhook_review(&r, &c, body, strlen(body));
	*status = r.status;
	o = json_loads(r.body, 0, NULL);
	free(r.body);
	return o;
}

static void test_review(void **state)
{
	int status;
	json_t *o;
	(void)state;
	/* A Deployment review (mis-configured rules) and a pod UPDATE are allowed untouched. */
	o = review("{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{\"uid\":\"u\","
	           "\"kind\":{\"group\":\"apps\",\"version\":\"v1\",\"kind\":\"Deployment\"},\"operation\":\"CREATE\","
	           "\"object\":{}}}", &status);
	assert_int_equal(status, 200);
	assert_true(json_is_true(json_object_get(json_object_get(o, "response"), "allowed")));
	assert_null(json_object_get(json_object_get(o, "response"), "patch"));
	json_decref(o);
	o = review("{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{\"uid\":\"u\","
	           "\"kind\":{\"group\":\"\",\"version\":\"v1\",\"kind\":\"Pod\"},\"operation\":\"CREATE\","
	           "\"object\":" POD(OPT, CM, APP) "}}", &status);
	assert_int_equal(status, 200);
	assert_string_equal(json_string_value(json_object_get(json_object_get(o, "response"), "patchType")), "JSONPatch");
	json_decref(o);
	o = review("{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{\"uid\":\"u\","
	           "\"kind\":{\"group\":\"\",\"version\":\"v1\",\"kind\":\"Pod\"},\"operation\":\"CREATE\",\"object\":7}}",
	           &status);
	assert_int_equal(status, 400);
	json_decref(o);
	o = review("[]", &status);
	assert_int_equal(status, 400);
	assert_non_null(strstr(json_string_value(json_object_get(o, "message")), "apiVersion"));
	json_decref(o);
	o = review("{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"apiVersion\":\"x\"}", &status);
	assert_int_equal(status, 400); /* duplicate keys are rejected, not resolved */
	json_decref(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pointer_escaping), cmocka_unit_test(test_diff), cmocka_unit_test(test_fixed_point),
		cmocka_unit_test(test_defaulted_is_fixed_point),
		cmocka_unit_test(test_denials), cmocka_unit_test(test_not_over_secrets), cmocka_unit_test(test_review),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
