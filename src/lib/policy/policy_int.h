/* Internal representation of a compiled MAA claim-rule policy. */
#ifndef COCOON_POLICY_INT_H
#define COCOON_POLICY_INT_H

#include <stddef.h>
#include <jansson.h>
#include "cocoon/policy.h"

/* ---- lexer ---- */

typedef enum {
	TOK_EOF = 0,
	TOK_IDENT,
	TOK_STRING,
	TOK_INT,
	TOK_DECIMAL,  /* digits '.' digits: only valid as the version */
	TOK_LBRACE, TOK_RBRACE, TOK_LBRACKET, TOK_RBRACKET, TOK_LPAREN, TOK_RPAREN,
	TOK_SEMI, TOK_COMMA, TOK_COLON, TOK_DOT,
	TOK_ASSIGN,   /* = */
	TOK_EQ, TOK_NE, TOK_LT, TOK_LE, TOK_GT, TOK_GE,
	TOK_ARROW,    /* => */
	TOK_AND,      /* && */
	TOK_NOT       /* ! */
} policy_tok_kind;

typedef struct {
	policy_tok_kind kind;
	const char *start;    /* raw text of the token inside the policy */
	size_t len;
	unsigned int line, col;
	long long ival;       /* TOK_INT */
	char *sval;           /* TOK_STRING: unescaped, NUL-terminated, owned by the lexer */
	size_t slen;
} policy_token;

typedef struct {
	const char *text;
	size_t len, pos;
	unsigned int line, col;
	policy_token tok;     /* the current token */
} policy_lexer;

void cocoon_policy_lexer_init(policy_lexer *lx, const char *text, size_t len);
/* Replaces lx->tok with the next token; COCOON_EFORMAT with line:col on bad input. */
int cocoon_policy_lexer_next(policy_lexer *lx);
void cocoon_policy_lexer_free(policy_lexer *lx);
/* Writes a short printable description of a token ("']'", "end of input", "string \"ab\""). */
void cocoon_policy_token_describe(char *buf, size_t size, const policy_token *t);
/* Case-insensitive test of an identifier token against a keyword. */
int cocoon_policy_token_is(const policy_token *t, const char *keyword);

/* ---- AST ---- */

typedef enum { PROP_TYPE = 0, PROP_VALUE, PROP_VALUETYPE, PROP_ISSUER } policy_prop;
typedef enum { OP_EQ = 0, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE } policy_op;

/* A literal, or a reference ID.prop to a claim bound by an earlier condition. */
typedef struct {
	int is_ref;
	json_t *lit;          /* string, integer or boolean */
	size_t ref_cond;      /* index of the binding condition in the rule */
	policy_prop ref_prop;
} policy_operand;

typedef struct {
	policy_prop prop;
	policy_op op;
	policy_operand rhs;
} policy_test;

typedef struct {
	int negated;          /* ![...]: true when no claim matches */
	char *id;             /* binding identifier or NULL */
	size_t ntests;
	policy_test tests[COCOON_POLICY_MAX_PROPERTIES];
} policy_cond;

typedef enum { ACT_PERMIT = 0, ACT_DENY, ACT_ADD, ACT_ISSUE, ACT_ISSUEPROPERTY } policy_act;

typedef struct {
	policy_act kind;
	int has_claim;        /* claim=ID */
	size_t claim_cond;
	policy_operand type;  /* string literal or ID.type */
	policy_operand value;
} policy_action;

typedef struct {
	unsigned int line;
	char *text;           /* canonical one-line text, for explanations */
	size_t nconds;
	policy_cond *conds;
	policy_action act;
} policy_rule;

typedef enum { SEC_CONFIGURATION = 0, SEC_AUTHORIZATION, SEC_ISSUANCE, SEC_COUNT } policy_section_kind;

typedef struct {
	int present;
	size_t n, cap;
	policy_rule *rules;
} policy_section;

struct cocoon_policy {
	unsigned int major, minor;
	policy_section sec[SEC_COUNT];
};

#endif
