/*
 * Evaluator for compiled MAA policies. A condition holds when at least one
 * claim satisfies all its property tests; a rule's action runs once for each
 * combination of claims that satisfies its conditions (as in the ADFS claim
 * language MAA derives from). Work is bounded by COCOON_POLICY_MAX_STEPS
 * because draft policies come from unauthenticated clients.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "common/util.h"
#include "policy/policy_int.h"

typedef enum { ISSUER_SERVICE = 0, ISSUER_POLICY } claim_issuer;

typedef struct {
	const char *type;   /* borrowed from the incoming object, the policy or another claim */
	size_t type_len;
	json_t *value;      /* owned reference: string, integer or boolean */
	claim_issuer issuer;
} claim;

typedef struct {
	claim *v;
	size_t n, cap;
	size_t visible;     /* claims that existed when the current rule started */
	long steps;
	const policy_rule *rule;
	size_t bind[COCOON_POLICY_MAX_CONDITIONS];
	json_t *issued, *props;
} evalctx;

/* A claim property reduced to something comparable. */
typedef enum { PV_STR, PV_INT, PV_BOOL } pv_kind;
typedef struct {
	pv_kind kind;
	const char *s;
	size_t len;
	long long i;
} pval;

static const char *value_type_name(const json_t *v)
{
	return json_is_integer(v) ? "Integer" : json_is_boolean(v) ? "Boolean" : "String";
}

static const char *issuer_name(claim_issuer i)
{
	return i == ISSUER_POLICY ? "AttestationPolicy" : "AttestationService";
}

static void pv_json(pval *out, const json_t *v)
{
	memset(out, 0, sizeof(*out));
	if (json_is_integer(v)) {
		out->kind = PV_INT;
		out->i = json_integer_value(v);
	} else if (json_is_boolean(v)) {
		out->kind = PV_BOOL;
		out->i = json_is_true(v);
	} else {
		out->kind = PV_STR;
		out->s = json_string_value(v);
		out->len = json_string_length(v);
	}
}

static void pv_str(pval *out, const char *s)
{
	memset(out, 0, sizeof(*out));
	out->kind = PV_STR;
	out->s = s;
	out->len = strlen(s);
}

static void claim_prop(pval *out, const claim *c, policy_prop p)
{
	switch (p) {
	case PROP_TYPE:
		memset(out, 0, sizeof(*out));
		out->kind = PV_STR;
		out->s = c->type;
		out->len = c->type_len;
		break;
	case PROP_VALUE: pv_json(out, c->value); break;
	case PROP_VALUETYPE: pv_str(out, value_type_name(c->value)); break;
	case PROP_ISSUER: pv_str(out, issuer_name(c->issuer)); break;
	}
}

static void operand_prop(pval *out, const evalctx *x, const policy_operand *o)
{
	if (o->is_ref)
		claim_prop(out, &x->v[x->bind[o->ref_cond]], o->ref_prop);
	else
		pv_json(out, o->lit);
}

static int pv_equal(const pval *a, const pval *b)
{
	if (a->kind != b->kind)
		return 0;
	if (a->kind == PV_STR)
		return a->len == b->len && memcmp(a->s, b->s, a->len) == 0;
	return a->i == b->i;
}

/* Integer orderings are false unless both sides are integers; != is the negation of ==. */
static int test_holds(const evalctx *x, const policy_test *t, const claim *c)
{
	pval l, r;

	claim_prop(&l, c, t->prop);
	operand_prop(&r, x, &t->rhs);
	switch (t->op) {
	case OP_EQ: return pv_equal(&l, &r);
	case OP_NE: return !pv_equal(&l, &r);
	default: break;
	}
	if (l.kind != PV_INT || r.kind != PV_INT)
		return 0;
	switch (t->op) {
	case OP_LT: return l.i < r.i;
	case OP_LE: return l.i <= r.i;
	case OP_GT: return l.i > r.i;
	default: return l.i >= r.i;
	}
}

static int cond_holds(const evalctx *x, const policy_cond *c, const claim *cl)
{
	for (size_t i = 0; i < c->ntests; i++)
		if (!test_holds(x, &c->tests[i], cl))
			return 0;
	return 1;
}

static int step(evalctx *x, long n)
{
	x->steps += n;
	if (x->steps <= COCOON_POLICY_MAX_STEPS)
		return 0;
	return cocoon_error_set(COCOON_EINVAL,
	                        "policy: rule at line %u exceeded the evaluation limit of %ld claim comparisons; "
	                        "reduce the number of conditions or claims it combines",
	                        x->rule ? x->rule->line : 0, (long)COCOON_POLICY_MAX_STEPS);
}

/* Takes ownership of value, even on failure. */
static int claim_push(evalctx *x, const char *type, json_t *value, claim_issuer issuer)
{
	if (x->n >= COCOON_POLICY_MAX_CLAIMS) {
		json_decref(value);
		return cocoon_error_set(COCOON_EINVAL, "policy: more than %d claims (rule at line %u)",
		                        COCOON_POLICY_MAX_CLAIMS, x->rule ? x->rule->line : 0);
	}
	if (x->n == x->cap) {
		size_t cap = x->cap ? 2 * x->cap : 64;
		claim *v = realloc(x->v, cap * sizeof(*v));
		if (!v) {
			json_decref(value);
			return cocoon_error_set(COCOON_ENOMEM, "policy: out of memory");
		}
		x->v = v;
		x->cap = cap;
	}
	x->v[x->n].type = type;
	x->v[x->n].type_len = strlen(type);
	x->v[x->n].value = value;
	x->v[x->n].issuer = issuer;
	x->n++;
	return 0;
}

/* Adds an issued claim; a repeated type collects its distinct values in an array. */
static int issued_add(evalctx *x, const char *type, json_t *value)
{
	json_t *cur = json_object_get(x->issued, type), *arr;
	int err;

	if (!cur)
		goto set;
	if (json_is_array(cur)) {
		size_t n = json_array_size(cur);
		if ((err = step(x, (long)n)) < 0)
			return err;
		for (size_t i = 0; i < n; i++)
			if (json_equal(json_array_get(cur, i), value))
				return 0;
		if (json_array_append(cur, value))
			goto nomem;
		return 0;
	}
	if (json_equal(cur, value))
		return 0;
	if (!(arr = json_pack("[OO]", cur, value)))
		goto nomem;
	if (json_object_set_new(x->issued, type, arr))
		goto nomem;
	return 0;
set:
	if (json_object_set(x->issued, type, value))
		goto nomem;
	return 0;
nomem:
	return cocoon_error_set(COCOON_ENOMEM, "policy: out of memory");
}

static int run_action(evalctx *x, const policy_rule *r)
{
	const policy_action *a = &r->act;
	const char *type;
	json_t *value;
	int err;

	if (a->has_claim) {
		const claim *c = &x->v[x->bind[a->claim_cond]];
		type = c->type;
		value = json_incref(c->value);
	} else {
		type = a->type.is_ref ? x->v[x->bind[a->type.ref_cond]].type : json_string_value(a->type.lit);
		if (!a->value.is_ref) {
			value = json_incref(a->value.lit);
		} else {
			const claim *c = &x->v[x->bind[a->value.ref_cond]];
			switch (a->value.ref_prop) {
			case PROP_VALUE: value = json_incref(c->value); break;
			case PROP_TYPE: value = json_string(c->type); break;
			case PROP_VALUETYPE: value = json_string(value_type_name(c->value)); break;
			default: value = json_string(issuer_name(c->issuer)); break;
			}
			if (!value)
				return cocoon_error_set(COCOON_ENOMEM, "policy: out of memory");
		}
	}
	/* The claim list holds the reference that keeps value (and a type borrowed from it) alive. */
	if ((err = claim_push(x, type, value, ISSUER_POLICY)) < 0)
		return err;
	if (a->kind == ACT_ISSUE)
		return issued_add(x, type, value);
	if (a->kind == ACT_ISSUEPROPERTY && json_object_set(x->props, type, value))
		return cocoon_error_set(COCOON_ENOMEM, "policy: out of memory");
	return 0;
}

/*
 * Enumerates the claim combinations that satisfy conditions level.. of the
 * current rule. With stop_at_first, returns 1 at the first one; otherwise
 * runs the action for each. Recursion depth is at most MAX_CONDITIONS.
 */
static int match_from(evalctx *x, size_t level, int stop_at_first)
{
	const policy_rule *r = x->rule;
	const policy_cond *c;
	int rc;

	if (level == r->nconds)
		return stop_at_first ? 1 : run_action(x, r);
	c = &r->conds[level];
	if (c->negated) {
		for (size_t i = 0; i < x->visible; i++) {
			if ((rc = step(x, 1)) < 0)
				return rc;
			if (cond_holds(x, c, &x->v[i]))
				return 0;
		}
		return match_from(x, level + 1, stop_at_first);
	}
	for (size_t i = 0; i < x->visible; i++) {
		if ((rc = step(x, 1)) < 0)
			return rc;
		if (!cond_holds(x, c, &x->v[i]))
			continue;
		x->bind[level] = i;
		if ((rc = match_from(x, level + 1, stop_at_first)) != 0)
			return rc;
	}
	return 0;
}

/* Runs one rule over the claims present when it starts. */
static int rule_run(evalctx *x, const policy_rule *r, int stop_at_first)
{
	x->rule = r;
	x->visible = x->n;
	return match_from(x, 0, stop_at_first);
}

static int incoming_one(evalctx *x, const char *type, json_t *v, int in_array)
{
	char *text;
	json_t *s;

	if (json_is_null(v))
		return 0;
	if (json_is_string(v) || json_is_integer(v) || json_is_boolean(v))
		return claim_push(x, type, json_incref(v), ISSUER_SERVICE);
	if (json_is_real(v))
		return cocoon_error_set(COCOON_EINVAL,
		                        "policy: incoming claim '%s' is a real number; claim values are strings, "
		                        "integers or booleans",
		                        type);
	if (json_is_array(v) && !in_array) {
		size_t i;
		json_t *e;
		int err;
		json_array_foreach(v, i, e)
			if ((err = incoming_one(x, type, e, 1)) < 0)
				return err;
		return 0;
	}
	/* Objects (and nested arrays) are string claims holding their JSON text, as in MAA. */
	if (!(text = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS)))
		return cocoon_error_set(COCOON_ENOMEM, "policy: out of memory serialising claim '%s'", type);
	s = json_string(text);
	free(text);
	if (!s)
		return cocoon_error_set(COCOON_ENOMEM, "policy: out of memory");
	return claim_push(x, type, s, ISSUER_SERVICE);
}

static void explain(cocoon_policy_outcome *out, const char *fmt, ...) COCOON_PRINTF(2, 3);
static void explain(cocoon_policy_outcome *out, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(out->denied_by, sizeof(out->denied_by), fmt, ap);
	va_end(ap);
}

int cocoon_policy_evaluate(cocoon_policy_outcome *out, const cocoon_policy *p, const json_t *incoming)
{
	evalctx x;
	const policy_section *sec;
	const policy_rule *deny = NULL;
	const char *key;
	json_t *val;
	int permitted = 0, err = 0;

	memset(&x, 0, sizeof(x));
	if (!out)
		return cocoon_error_set(COCOON_EINVAL, "cocoon_policy_evaluate: out is required");
	memset(out, 0, sizeof(*out));
	if (!p || !json_is_object(incoming))
		return cocoon_error_set(COCOON_EINVAL,
		                        "cocoon_policy_evaluate: a policy and an incoming claims object are required");
	if (!(x.issued = json_object()) || !(x.props = json_object())) {
		err = cocoon_error_set(COCOON_ENOMEM, "policy: out of memory");
		goto done;
	}
	/* jansson's iteration API takes a non-const object; nothing is modified. */
	json_object_foreach((json_t *)incoming, key, val)
		if ((err = incoming_one(&x, key, val, 0)) < 0)
			goto done;

	sec = &p->sec[SEC_CONFIGURATION];
	for (size_t i = 0; i < sec->n; i++)
		if ((err = rule_run(&x, &sec->rules[i], 0)) < 0)
			goto done;

	/* Deny overrides permit: every rule runs until a deny() fires. */
	sec = &p->sec[SEC_AUTHORIZATION];
	for (size_t i = 0; i < sec->n && !deny; i++) {
		const policy_rule *r = &sec->rules[i];
		int decides = r->act.kind == ACT_PERMIT || r->act.kind == ACT_DENY;
		if ((err = rule_run(&x, r, decides)) < 0)
			goto done;
		if (decides && err == 1) {
			if (r->act.kind == ACT_DENY)
				deny = r;
			else
				permitted = 1;
		}
		err = 0;
	}
	if (deny) {
		out->denied_line = deny->line;
		explain(out, "rule at line %u: %s", deny->line, deny->text);
		permitted = 0;
	} else if (!permitted) {
		explain(out, "%s", p->sec[SEC_AUTHORIZATION].present
		                           ? "no authorization rule permitted"
		                           : "no authorization rule permitted (the policy has no authorizationrules)");
	}

	if (permitted) {
		sec = &p->sec[SEC_ISSUANCE];
		for (size_t i = 0; i < sec->n; i++)
			if ((err = rule_run(&x, &sec->rules[i], 0)) < 0)
				goto done;
	}
	out->permitted = permitted;
	out->issued = x.issued;
	out->properties = x.props;
	x.issued = x.props = NULL;
done:
	for (size_t i = 0; i < x.n; i++)
		json_decref(x.v[i].value);
	free(x.v);
	json_decref(x.issued);
	json_decref(x.props);
	if (err < 0)
		memset(out, 0, sizeof(*out));
	return err < 0 ? err : 0;
}

void cocoon_policy_outcome_free(cocoon_policy_outcome *o)
{
	if (!o)
		return;
	json_decref(o->issued);
	json_decref(o->properties);
	memset(o, 0, sizeof(*o));
}
