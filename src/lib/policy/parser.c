/*
 * Parser for MAA claim-rule policies (grammar in docs/policy.md). It is a
 * flat recursive-descent parser without recursion: the grammar has no nested
 * constructs cocoon supports, so hostile input cannot exhaust the stack.
 * Every error names line:column and the offending token.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "common/util.h"
#include "policy/policy_int.h"

#define RULE_TEXT_MAX 400

typedef struct {
	policy_lexer lx;
	cocoon_policy *p;
	size_t total_rules;
} parser;

static const char *const section_names[SEC_COUNT] = { "configurationrules", "authorizationrules", "issuancerules" };

/* MAA 1.2 functions: recognised so the error can say they are unsupported rather than unknown. */
static const char *const maa_functions[] = { "JmesPath", "JsonToClaimValue", "IsSubsetOf", "AppendString",
	                                     "NegateBool", "ContainsOnlyValue" };

static const char *policy_prop_name(policy_prop p)
{
	switch (p) {
	case PROP_TYPE: return "type";
	case PROP_VALUE: return "value";
	case PROP_VALUETYPE: return "valueType";
	case PROP_ISSUER: return "issuer";
	}
	return "?";
}

static const char *policy_act_name(policy_act a)
{
	switch (a) {
	case ACT_PERMIT: return "permit";
	case ACT_DENY: return "deny";
	case ACT_ADD: return "add";
	case ACT_ISSUE: return "issue";
	case ACT_ISSUEPROPERTY: return "issueproperty";
	}
	return "?";
}

static const char *op_name(policy_op op)
{
	static const char *const names[] = { "==", "!=", "<", "<=", ">", ">=" };
	return names[op];
}

/* ---- errors ---- */

static int err_expected(parser *ps, const char *expected, const char *hint)
{
	char found[64];
	cocoon_policy_token_describe(found, sizeof(found), &ps->lx.tok);
	return cocoon_error_set(COCOON_EFORMAT, "policy:%u:%u: expected %s but found %s%s%s", ps->lx.tok.line,
	                        ps->lx.tok.col, expected, found, hint ? "; " : "", hint ? hint : "");
}

static int err_at(const policy_token *t, const char *what)
{
	return cocoon_error_set(COCOON_EFORMAT, "policy:%u:%u: %s", t->line, t->col, what);
}

static int expect(parser *ps, policy_tok_kind kind, const char *expected, const char *hint)
{
	if (ps->lx.tok.kind != kind)
		return err_expected(ps, expected, hint);
	return cocoon_policy_lexer_next(&ps->lx);
}

/* ---- input validation ---- */

/* Length of the valid UTF-8 sequence at p, or 0 (overlong, surrogate, > U+10FFFF, truncated). */
static size_t utf8_seq(const unsigned char *p, size_t avail)
{
	size_t n;
	unsigned char lo = 0x80, hi = 0xBF;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xC2 && p[0] <= 0xDF)
		n = 2;
	else if (p[0] >= 0xE0 && p[0] <= 0xEF) {
		n = 3;
		if (p[0] == 0xE0) lo = 0xA0;
		if (p[0] == 0xED) hi = 0x9F;
	} else if (p[0] >= 0xF0 && p[0] <= 0xF4) {
		n = 4;
		if (p[0] == 0xF0) lo = 0x90;
		if (p[0] == 0xF4) hi = 0x8F;
	} else
		return 0;
	if (avail < n || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if ((p[i] & 0xC0) != 0x80)
			return 0;
	return n;
}

/* Rejects invalid UTF-8 and control characters, naming line:column of the first bad byte. */
static int validate_text(const char *text, size_t len)
{
	const unsigned char *s = (const unsigned char *)text;
	unsigned int line = 1, col = 1;
	size_t i = 0;

	while (i < len) {
		size_t n = utf8_seq(s + i, len - i);
		if (n == 0)
			return cocoon_error_set(COCOON_EFORMAT,
			                        "policy:%u:%u: invalid UTF-8 byte 0x%02X; policies must be UTF-8 text", line,
			                        col, s[i]);
		if (n == 1 && ((s[i] < 0x20 && s[i] != '\t' && s[i] != '\n' && s[i] != '\r') || s[i] == 0x7F))
			return cocoon_error_set(COCOON_EFORMAT, "policy:%u:%u: control character 0x%02X is not allowed",
			                        line, col, s[i]);
		if (s[i] == '\n') {
			line++;
			col = 1;
		} else {
			col++;
		}
		i += n;
	}
	return 0;
}

/* ---- AST memory ---- */

static void operand_free(policy_operand *o)
{
	json_decref(o->lit);
	o->lit = NULL;
}

static void rule_free(policy_rule *r)
{
	for (size_t i = 0; i < r->nconds; i++) {
		free(r->conds[i].id);
		for (size_t j = 0; j < r->conds[i].ntests; j++)
			operand_free(&r->conds[i].tests[j].rhs);
	}
	free(r->conds);
	operand_free(&r->act.type);
	operand_free(&r->act.value);
	free(r->text);
	memset(r, 0, sizeof(*r));
}

void cocoon_policy_free(cocoon_policy *p)
{
	if (!p)
		return;
	for (int s = 0; s < SEC_COUNT; s++) {
		for (size_t i = 0; i < p->sec[s].n; i++)
			rule_free(&p->sec[s].rules[i]);
		free(p->sec[s].rules);
	}
	free(p);
}

/* ---- rule text for explanations ---- */

static int needs_space(policy_tok_kind prev, policy_tok_kind cur)
{
	return prev == TOK_ARROW || prev == TOK_AND || prev == TOK_COMMA || cur == TOK_ARROW || cur == TOK_AND;
}

/* Re-tokenizes an already-parsed rule into one canonical line (comments and layout dropped). */
static int rule_text(char **out, const char *text, size_t len, unsigned int line, unsigned int col)
{
	policy_lexer lx;
	cocoon_buf b = { 0 };
	policy_tok_kind prev = TOK_EOF;
	int err = 0;

	*out = NULL;
	cocoon_policy_lexer_init(&lx, text, len);
	lx.line = line;
	lx.col = col;
	while ((err = cocoon_policy_lexer_next(&lx)) == 0 && lx.tok.kind != TOK_EOF) {
		size_t n = lx.tok.len;
		if (b.len && needs_space(prev, lx.tok.kind) && (err = cocoon_buf_append(&b, " ", 1)) < 0)
			break;
		if (b.len + n > RULE_TEXT_MAX) {
			/* Keep the explanation short, cutting on a UTF-8 character boundary. */
			n = RULE_TEXT_MAX > b.len ? RULE_TEXT_MAX - b.len : 0;
			while (n > 0 && ((unsigned char)lx.tok.start[n] & 0xC0) == 0x80)
				n--;
			if ((err = cocoon_buf_append(&b, lx.tok.start, n)) < 0 || (err = cocoon_buf_append(&b, "...", 3)) < 0)
				break;
			break;
		}
		if ((err = cocoon_buf_append(&b, lx.tok.start, n)) < 0)
			break;
		prev = lx.tok.kind;
	}
	if (err < 0)
		goto done;
	if (!b.data && (err = cocoon_buf_append(&b, "", 0)) < 0)
		goto done;
	*out = (char *)b.data;
	b.data = NULL;
done:
	cocoon_policy_lexer_free(&lx);
	cocoon_buf_free(&b);
	return err;
}

/* ---- operands ---- */

static int find_binding(const policy_rule *r, size_t nbound, const char *name, size_t len, size_t *idx)
{
	for (size_t i = 0; i < nbound; i++) {
		const char *id = r->conds[i].id;
		if (id && strlen(id) == len && memcmp(id, name, len) == 0) {
			*idx = i;
			return 1;
		}
	}
	return 0;
}

static int parse_prop_name(parser *ps, policy_prop *out, const char *context)
{
	const policy_token *t = &ps->lx.tok;
	if (cocoon_policy_token_is(t, "type")) *out = PROP_TYPE;
	else if (cocoon_policy_token_is(t, "value")) *out = PROP_VALUE;
	else if (cocoon_policy_token_is(t, "valueType")) *out = PROP_VALUETYPE;
	else if (cocoon_policy_token_is(t, "issuer")) *out = PROP_ISSUER;
	else return err_expected(ps, context, "claim properties are type, value, valueType and issuer");
	return cocoon_policy_lexer_next(&ps->lx);
}

/* A literal (string, integer, true, false) or ID.prop with ID bound by one of the first nbound conditions. */
static int parse_operand(parser *ps, policy_operand *out, const policy_rule *r, size_t nbound)
{
	policy_token *t = &ps->lx.tok;
	char msg[512];
	int err;

	memset(out, 0, sizeof(*out));
	switch (t->kind) {
	case TOK_STRING:
		out->lit = json_stringn(t->sval, t->slen);
		break;
	case TOK_INT:
		out->lit = json_integer(t->ival);
		break;
	case TOK_DECIMAL:
		snprintf(msg, sizeof(msg), "fractional number '%.*s' is not supported; claim values are integers",
		         (int)(t->len > 40 ? 40 : t->len), t->start);
		return err_at(t, msg);
	case TOK_IDENT: {
		char name[257];
		policy_token id = *t;
		size_t n = t->len < sizeof(name) - 1 ? t->len : sizeof(name) - 1;

		if (cocoon_policy_token_is(t, "true") || cocoon_policy_token_is(t, "false")) {
			out->lit = json_boolean(cocoon_policy_token_is(t, "true"));
			break;
		}
		memcpy(name, t->start, n);
		name[n] = '\0';
		id.sval = NULL;
		if ((err = cocoon_policy_lexer_next(&ps->lx)) < 0)
			return err;
		if (t->kind == TOK_LPAREN) {
			for (size_t i = 0; i < sizeof(maa_functions) / sizeof(maa_functions[0]); i++)
				if (strcasecmp(name, maa_functions[i]) == 0) {
					snprintf(msg, sizeof(msg),
					         "function '%s' (MAA policy 1.2) is not supported by cocoon; "
					         "compare claims directly instead",
					         name);
					return err_at(&id, msg);
				}
			snprintf(msg, sizeof(msg), "unknown function '%.64s'", name);
			return err_at(&id, msg);
		}
		if (t->kind != TOK_DOT) {
			snprintf(msg, sizeof(msg),
			         "unknown value '%.64s'; use a quoted string, an integer, true, false or ID.value", name);
			return err_at(&id, msg);
		}
		if (!find_binding(r, nbound, name, n, &out->ref_cond)) {
			snprintf(msg, sizeof(msg),
			         "unknown identifier '%.64s'; bind it with '%.64s:[...]' in an earlier condition of the same rule",
			         name, name);
			return err_at(&id, msg);
		}
		out->is_ref = 1;
		if ((err = cocoon_policy_lexer_next(&ps->lx)) < 0)
			return err;
		return parse_prop_name(ps, &out->ref_prop, "a claim property after '.'");
	}
	default:
		return err_expected(ps, "a value (string, integer, true, false or ID.value)", NULL);
	}
	if (!out->lit)
		return cocoon_error_set(COCOON_ENOMEM, "policy: out of memory");
	return cocoon_policy_lexer_next(&ps->lx);
}

/* ---- conditions ---- */

static int one_of(const char *s, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(s, names[i]) == 0)
			return 1;
	return 0;
}

/* Type checks that can be made on literals at compile time. */
static int check_test(const policy_test *test, const policy_token *at)
{
	static const char *const value_types[] = { "String", "Integer", "Boolean" };
	static const char *const issuers[] = { "AttestationService", "AttestationPolicy", "CustomClaim" };
	char msg[256];
	const json_t *lit = test->rhs.lit;

	if (test->op >= OP_LT) {
		if (test->prop != PROP_VALUE) {
			snprintf(msg, sizeof(msg), "operator '%s' compares integers and applies only to 'value', not '%s'",
			         op_name(test->op), policy_prop_name(test->prop));
			return err_at(at, msg);
		}
		if (lit && !json_is_integer(lit)) {
			snprintf(msg, sizeof(msg), "operator '%s' needs an integer; strings and booleans allow only == and !=",
			         op_name(test->op));
			return err_at(at, msg);
		}
		return 0;
	}
	if (!lit || test->prop == PROP_VALUE)
		return 0;
	if (!json_is_string(lit)) {
		snprintf(msg, sizeof(msg), "property '%s' is compared with a string literal", policy_prop_name(test->prop));
		return err_at(at, msg);
	}
	if (test->prop == PROP_VALUETYPE && !one_of(json_string_value(lit), value_types, 3))
		return err_at(at, "valueType is one of \"String\", \"Integer\" or \"Boolean\"");
	if (test->prop == PROP_ISSUER && !one_of(json_string_value(lit), issuers, 3))
		return err_at(at, "issuer is one of \"AttestationService\", \"AttestationPolicy\" or \"CustomClaim\"");
	return 0;
}

static int parse_test(parser *ps, policy_rule *r, policy_test *test)
{
	policy_token *t = &ps->lx.tok;
	policy_token at;
	int err;

	if ((err = parse_prop_name(ps, &test->prop, "a claim property (type, value, valueType or issuer)")) < 0)
		return err;
	switch (t->kind) {
	case TOK_EQ: test->op = OP_EQ; break;
	case TOK_NE: test->op = OP_NE; break;
	case TOK_LT: test->op = OP_LT; break;
	case TOK_LE: test->op = OP_LE; break;
	case TOK_GT: test->op = OP_GT; break;
	case TOK_GE: test->op = OP_GE; break;
	case TOK_ASSIGN:
		return err_expected(ps, "a comparison operator", "use '==' to compare");
	default:
		return err_expected(ps, "a comparison operator (==, !=, <, <=, >, >=)", NULL);
	}
	if ((err = cocoon_policy_lexer_next(&ps->lx)) < 0)
		return err;
	at = *t;
	at.sval = NULL;
	/* The condition being parsed is r->nconds - 1: only earlier ones are bound. */
	if ((err = parse_operand(ps, &test->rhs, r, r->nconds - 1)) < 0)
		return err;
	return check_test(test, &at);
}

static int parse_condition(parser *ps, policy_rule *r)
{
	policy_token *t = &ps->lx.tok;
	policy_token open;
	policy_cond *c, *conds;
	char msg[512];
	int err;

	if (r->nconds >= COCOON_POLICY_MAX_CONDITIONS) {
		snprintf(msg, sizeof(msg), "rule has more than %d conditions", COCOON_POLICY_MAX_CONDITIONS);
		return err_at(t, msg);
	}
	conds = realloc(r->conds, (r->nconds + 1) * sizeof(*conds));
	if (!conds)
		return cocoon_error_set(COCOON_ENOMEM, "policy: out of memory");
	r->conds = conds;
	c = &r->conds[r->nconds++];
	memset(c, 0, sizeof(*c));

	if (t->kind == TOK_NOT) {
		if (ps->p->major == 1 && ps->p->minor < 2)
			return err_at(t, "'![...]' (claim absence) needs version=1.2");
		c->negated = 1;
		if ((err = cocoon_policy_lexer_next(&ps->lx)) < 0)
			return err;
		if (t->kind == TOK_IDENT)
			return err_at(t, "a negated condition '![...]' matches no claim, so it cannot bind an identifier");
	} else if (t->kind == TOK_IDENT) {
		size_t dup;
		if (cocoon_policy_token_is(t, "true") || cocoon_policy_token_is(t, "false"))
			return err_at(t, "'true' and 'false' cannot name a condition");
		if (find_binding(r, r->nconds - 1, t->start, t->len, &dup)) {
			snprintf(msg, sizeof(msg), "identifier '%.*s' is already bound in this rule", (int)t->len, t->start);
			return err_at(t, msg);
		}
		if (!(c->id = strndup(t->start, t->len)))
			return cocoon_error_set(COCOON_ENOMEM, "policy: out of memory");
		if ((err = cocoon_policy_lexer_next(&ps->lx)) < 0)
			return err;
		if ((err = expect(ps, TOK_COLON, "':' after the condition name",
		                  "a rule is written 'ID:[...] && [...] => action(...);'")) < 0)
			return err;
	}
	open = *t;
	open.sval = NULL;
	if ((err = expect(ps, TOK_LBRACKET, "'['", NULL)) < 0)
		return err;
	if (t->kind == TOK_RBRACKET)
		return err_at(&open, "empty condition '[]'; test at least one of type, value, valueType or issuer");
	for (;;) {
		if (c->ntests >= COCOON_POLICY_MAX_PROPERTIES) {
			snprintf(msg, sizeof(msg), "condition has more than %d property tests", COCOON_POLICY_MAX_PROPERTIES);
			return err_at(t, msg);
		}
		/* Count the test before parsing so rule_free releases a half-parsed operand. */
		c->ntests++;
		if ((err = parse_test(ps, r, &c->tests[c->ntests - 1])) < 0)
			return err;
		if (t->kind == TOK_RBRACKET)
			break;
		if ((err = expect(ps, TOK_COMMA, "',' or ']'", NULL)) < 0)
			return err;
	}
	return cocoon_policy_lexer_next(&ps->lx);
}

/* ---- actions ---- */

static int section_allows(policy_section_kind sec, policy_act a)
{
	switch (sec) {
	case SEC_CONFIGURATION: return a == ACT_ISSUEPROPERTY;
	case SEC_AUTHORIZATION: return a == ACT_PERMIT || a == ACT_DENY || a == ACT_ADD;
	default: return a == ACT_ADD || a == ACT_ISSUE || a == ACT_ISSUEPROPERTY;
	}
}

static int parse_claim_args(parser *ps, policy_rule *r, const policy_token *act_tok)
{
	policy_token *t = &ps->lx.tok;
	policy_action *a = &r->act;
	int has_type = 0, has_value = 0, err;
	char msg[256];
	const char *name = policy_act_name(a->kind);

	while (t->kind != TOK_RPAREN) {
		policy_token arg;
		if (has_type + has_value + a->has_claim > 0 && (err = expect(ps, TOK_COMMA, "',' or ')'", NULL)) < 0)
			return err;
		arg = *t;
		arg.sval = NULL;
		if (cocoon_policy_token_is(t, "claim")) {
			if (a->has_claim)
				return err_at(&arg, "argument 'claim' given twice");
			if ((err = cocoon_policy_lexer_next(&ps->lx)) < 0 ||
			    (err = expect(ps, TOK_ASSIGN, "'='", "arguments are written name=value")) < 0)
				return err;
			if (t->kind != TOK_IDENT || !find_binding(r, r->nconds, t->start, t->len, &a->claim_cond))
				return err_expected(ps, "the identifier of a condition of this rule after 'claim='", NULL);
			a->has_claim = 1;
			if ((err = cocoon_policy_lexer_next(&ps->lx)) < 0)
				return err;
		} else if (cocoon_policy_token_is(t, "type") || cocoon_policy_token_is(t, "value")) {
			int is_type = cocoon_policy_token_is(t, "type");
			if (is_type ? has_type : has_value) {
				snprintf(msg, sizeof(msg), "argument '%s' given twice", is_type ? "type" : "value");
				return err_at(&arg, msg);
			}
			if ((err = cocoon_policy_lexer_next(&ps->lx)) < 0 ||
			    (err = expect(ps, TOK_ASSIGN, "'='", "arguments are written name=value")) < 0)
				return err;
			arg = *t;
			arg.sval = NULL;
			if ((err = parse_operand(ps, is_type ? &a->type : &a->value, r, r->nconds)) < 0)
				return err;
			if (is_type) {
				const json_t *lit = a->type.lit;
				has_type = 1;
				if (a->type.is_ref ? a->type.ref_prop != PROP_TYPE
				                   : !json_is_string(lit) || json_string_length(lit) == 0)
					return err_at(&arg, "type= takes a non-empty string literal or ID.type");
			} else {
				has_value = 1;
			}
		} else {
			snprintf(msg, sizeof(msg), "an argument of %s() (claim=ID, or type=... and value=...)", name);
			return err_expected(ps, msg, NULL);
		}
	}
	if (a->has_claim ? (has_type || has_value) : !(has_type && has_value)) {
		snprintf(msg, sizeof(msg), "%s() takes either claim=ID or both type=... and value=...", name);
		return err_at(act_tok, msg);
	}
	return 0;
}

static int parse_action(parser *ps, policy_rule *r, policy_section_kind sec)
{
	policy_token *t = &ps->lx.tok;
	policy_token act_tok = *t;
	char msg[256];
	int err;

	act_tok.sval = NULL;
	if (cocoon_policy_token_is(t, "permit")) r->act.kind = ACT_PERMIT;
	else if (cocoon_policy_token_is(t, "deny")) r->act.kind = ACT_DENY;
	else if (cocoon_policy_token_is(t, "add")) r->act.kind = ACT_ADD;
	else if (cocoon_policy_token_is(t, "issue")) r->act.kind = ACT_ISSUE;
	else if (cocoon_policy_token_is(t, "issueproperty")) r->act.kind = ACT_ISSUEPROPERTY;
	else return err_expected(ps, "an action (permit, deny, add, issue or issueproperty)", NULL);
	if (!section_allows(sec, r->act.kind)) {
		snprintf(msg, sizeof(msg), "action '%s' is not allowed in %s; %s", policy_act_name(r->act.kind),
		         section_names[sec],
		         sec == SEC_CONFIGURATION ? "configuration rules only use issueproperty()"
		         : sec == SEC_AUTHORIZATION ? "authorization rules use permit(), deny() and add()"
		                                    : "issuance rules use add(), issue() and issueproperty()");
		return err_at(&act_tok, msg);
	}
	if ((err = cocoon_policy_lexer_next(&ps->lx)) < 0 || (err = expect(ps, TOK_LPAREN, "'('", NULL)) < 0)
		return err;
	if (r->act.kind == ACT_PERMIT || r->act.kind == ACT_DENY) {
		if (t->kind != TOK_RPAREN) {
			snprintf(msg, sizeof(msg), "%s() takes no arguments", policy_act_name(r->act.kind));
			return err_expected(ps, "')'", msg);
		}
	} else if ((err = parse_claim_args(ps, r, &act_tok)) < 0) {
		return err;
	}
	return expect(ps, TOK_RPAREN, "')'", NULL);
}

/* ---- rules and sections ---- */

static int parse_rule(parser *ps, policy_section_kind sec)
{
	policy_token *t = &ps->lx.tok;
	policy_section *s = &ps->p->sec[sec];
	policy_rule r;
	const char *start = t->start;
	unsigned int line = t->line, col = t->col;
	int err;

	memset(&r, 0, sizeof(r));
	r.line = line;
	if (ps->total_rules >= COCOON_POLICY_MAX_RULES) {
		err = cocoon_error_set(COCOON_EFORMAT, "policy:%u:%u: more than %d rules", line, col,
		                       COCOON_POLICY_MAX_RULES);
		goto done;
	}
	if (sec == SEC_CONFIGURATION && t->kind != TOK_ARROW) {
		err = err_expected(ps, "'=>'", "configuration rules have no conditions");
		goto done;
	}
	if (t->kind != TOK_ARROW) {
		for (;;) {
			if ((err = parse_condition(ps, &r)) < 0)
				goto done;
			if (t->kind != TOK_AND)
				break;
			if ((err = cocoon_policy_lexer_next(&ps->lx)) < 0)
				goto done;
		}
		if (t->kind != TOK_ARROW) {
			err = err_expected(ps, "'&&' or '=>'", NULL);
			goto done;
		}
	}
	if ((err = cocoon_policy_lexer_next(&ps->lx)) < 0 || (err = parse_action(ps, &r, sec)) < 0)
		goto done;
	if (t->kind != TOK_SEMI) {
		err = err_expected(ps, "';' after the rule", NULL);
		goto done;
	}
	if ((err = rule_text(&r.text, start, (size_t)(t->start + t->len - start), line, col)) < 0)
		goto done;
	if ((err = cocoon_policy_lexer_next(&ps->lx)) < 0)
		goto done;
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 8;
		policy_rule *rules = realloc(s->rules, cap * sizeof(*rules));
		if (!rules) {
			err = cocoon_error_set(COCOON_ENOMEM, "policy: out of memory");
			goto done;
		}
		s->rules = rules;
		s->cap = cap;
	}
	s->rules[s->n++] = r;
	memset(&r, 0, sizeof(r));
	ps->total_rules++;
done:
	rule_free(&r);
	return err;
}

static int parse_section(parser *ps, int *last)
{
	policy_token *t = &ps->lx.tok;
	policy_section_kind sec = SEC_COUNT;
	char msg[256];
	int err;

	for (int i = 0; i < SEC_COUNT; i++)
		if (cocoon_policy_token_is(t, section_names[i]))
			sec = (policy_section_kind)i;
	if (sec == SEC_COUNT) {
		if (t->kind == TOK_IDENT) {
			snprintf(msg, sizeof(msg),
			         "unknown section '%.*s'; sections are configurationrules, authorizationrules and issuancerules",
			         (int)(t->len > 64 ? 64 : t->len), t->start);
			return err_at(t, msg);
		}
		return err_expected(ps, "a section (configurationrules, authorizationrules or issuancerules)", NULL);
	}
	if (ps->p->sec[sec].present) {
		snprintf(msg, sizeof(msg), "section '%s' appears twice", section_names[sec]);
		return err_at(t, msg);
	}
	if ((int)sec < *last) {
		snprintf(msg, sizeof(msg), "section '%s' must come before '%s'", section_names[sec], section_names[*last]);
		return err_at(t, msg);
	}
	if (sec == SEC_CONFIGURATION && ps->p->major == 1 && ps->p->minor < 1)
		return err_at(t, "configurationrules needs version=1.1 or later");
	*last = (int)sec;
	ps->p->sec[sec].present = 1;
	if ((err = cocoon_policy_lexer_next(&ps->lx)) < 0 || (err = expect(ps, TOK_LBRACE, "'{'", NULL)) < 0)
		return err;
	while (t->kind != TOK_RBRACE) {
		for (int i = 0; i < SEC_COUNT; i++)
			if (cocoon_policy_token_is(t, section_names[i])) {
				snprintf(msg, sizeof(msg), "'};' to close %s", section_names[sec]);
				return err_expected(ps, msg, NULL);
			}
		if (t->kind != TOK_ARROW && t->kind != TOK_LBRACKET && t->kind != TOK_NOT && t->kind != TOK_IDENT) {
			snprintf(msg, sizeof(msg), "a rule or '}' to close %s", section_names[sec]);
			return err_expected(ps, msg, NULL);
		}
		if ((err = parse_rule(ps, sec)) < 0)
			return err;
	}
	if ((err = cocoon_policy_lexer_next(&ps->lx)) < 0)
		return err;
	snprintf(msg, sizeof(msg), "';' after '}' of %s", section_names[sec]);
	return expect(ps, TOK_SEMI, msg, NULL);
}

static int parse_version(parser *ps)
{
	policy_token *t = &ps->lx.tok;
	unsigned long major = 0, minor = 0;
	size_t i = 0;
	char msg[256];
	int err;

	if (!cocoon_policy_token_is(t, "version"))
		return err_expected(ps, "'version=1.0;' (or 1.1, 1.2) at the start of the policy", NULL);
	if ((err = cocoon_policy_lexer_next(&ps->lx)) < 0 || (err = expect(ps, TOK_ASSIGN, "'='", NULL)) < 0)
		return err;
	if (t->kind != TOK_DECIMAL || t->start[0] == '-')
		return err_expected(ps, "a version MAJOR.MINOR such as 1.0", NULL);
	/* The lexer guarantees digits '.' digits; cap the values so long inputs cannot overflow. */
	for (; i < t->len && t->start[i] != '.'; i++)
		major = major > 1000 ? major : major * 10 + (unsigned long)(t->start[i] - '0');
	for (i++; i < t->len; i++)
		minor = minor > 1000 ? minor : minor * 10 + (unsigned long)(t->start[i] - '0');
	if (major != 1 || minor > 2) {
		snprintf(msg, sizeof(msg), "unsupported policy version '%.*s'; cocoon supports 1.0, 1.1 and 1.2",
		         (int)(t->len > 20 ? 20 : t->len), t->start);
		return err_at(t, msg);
	}
	ps->p->major = (unsigned int)major;
	ps->p->minor = (unsigned int)minor;
	if ((err = cocoon_policy_lexer_next(&ps->lx)) < 0)
		return err;
	return expect(ps, TOK_SEMI, "';' after the version", NULL);
}

int cocoon_policy_parse(cocoon_policy **out, const char *text, size_t len)
{
	parser ps;
	int last = 0, err;

	memset(&ps, 0, sizeof(ps));
	if (!out || (!text && len))
		return cocoon_error_set(COCOON_EINVAL, "cocoon_policy_parse: out and text are required");
	*out = NULL;
	if (len > COCOON_POLICY_MAX_LEN)
		return cocoon_error_set(COCOON_EFORMAT, "policy: text is %zu bytes; the limit is %d", len,
		                        COCOON_POLICY_MAX_LEN);
	if ((err = validate_text(text, len)) < 0)
		return err;
	/* Editors on Windows may prepend a byte-order mark; it carries no meaning. */
	if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) {
		text += 3;
		len -= 3;
	}
	if (!(ps.p = calloc(1, sizeof(*ps.p)))) {
		err = cocoon_error_set(COCOON_ENOMEM, "policy: out of memory");
		goto done;
	}
	cocoon_policy_lexer_init(&ps.lx, text ? text : "", len);
	if ((err = cocoon_policy_lexer_next(&ps.lx)) < 0 || (err = parse_version(&ps)) < 0)
		goto done;
	while (ps.lx.tok.kind != TOK_EOF)
		if ((err = parse_section(&ps, &last)) < 0)
			goto done;
	*out = ps.p;
	ps.p = NULL;
done:
	cocoon_policy_lexer_free(&ps.lx);
	cocoon_policy_free(ps.p);
	return err;
}

int cocoon_policy_version(unsigned int *major, unsigned int *minor, const cocoon_policy *p)
{
	if (!major || !minor || !p)
		return cocoon_error_set(COCOON_EINVAL, "cocoon_policy_version: arguments are required");
	*major = p->major;
	*minor = p->minor;
	return 0;
}
