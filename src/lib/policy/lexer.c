/*
 * Tokenizer for MAA claim-rule policies. The parser has already checked that
 * the whole text is valid UTF-8 without control characters, so the lexer only
 * has to decide where tokens start and end. Positions are 1-based lines and
 * columns counted in characters, because that is what an editor shows.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "common/util.h"
#include "policy/policy_int.h"

#define IDENT_MAX 256

void cocoon_policy_lexer_init(policy_lexer *lx, const char *text, size_t len)
{
	memset(lx, 0, sizeof(*lx));
	lx->text = text;
	lx->len = len;
	lx->line = 1;
	lx->col = 1;
}

void cocoon_policy_lexer_free(policy_lexer *lx)
{
	free(lx->tok.sval);
	lx->tok.sval = NULL;
}

static int peek(const policy_lexer *lx, size_t ahead)
{
	if (ahead >= lx->len - lx->pos)
		return -1;
	return (unsigned char)lx->text[lx->pos + ahead];
}

/* Moves over n bytes, keeping line and column (UTF-8 continuation bytes add no column). */
static void advance(policy_lexer *lx, size_t n)
{
	while (n-- > 0 && lx->pos < lx->len) {
		unsigned char c = (unsigned char)lx->text[lx->pos++];
		if (c == '\n') {
			lx->line++;
			lx->col = 1;
		} else if ((c & 0xC0) != 0x80) {
			lx->col++;
		}
	}
}

static int is_ident_start(int c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
static int is_ident_char(int c) { return is_ident_start(c) || (c >= '0' && c <= '9'); }
static int is_digit(int c) { return c >= '0' && c <= '9'; }

/* The code point of the (valid) UTF-8 sequence at p, for error messages. */
static unsigned long code_point(const unsigned char *p, size_t avail)
{
	if (p[0] < 0x80 || avail < 2)
		return p[0];
	if ((p[0] & 0xE0) == 0xC0)
		return ((unsigned long)(p[0] & 0x1F) << 6) | (p[1] & 0x3F);
	if ((p[0] & 0xF0) == 0xE0 && avail >= 3)
		return ((unsigned long)(p[0] & 0x0F) << 12) | ((unsigned long)(p[1] & 0x3F) << 6) | (p[2] & 0x3F);
	if (avail >= 4)
		return ((unsigned long)(p[0] & 0x07) << 18) | ((unsigned long)(p[1] & 0x3F) << 12) |
		       ((unsigned long)(p[2] & 0x3F) << 6) | (p[3] & 0x3F);
	return p[0];
}

static int skip_space_and_comments(policy_lexer *lx)
{
	for (;;) {
		int c = peek(lx, 0);
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
			advance(lx, 1);
		} else if (c == '/' && peek(lx, 1) == '/') {
			while ((c = peek(lx, 0)) != -1 && c != '\n')
				advance(lx, 1);
		} else if (c == '/' && peek(lx, 1) == '*') {
			unsigned int line = lx->line, col = lx->col;
			advance(lx, 2);
			for (;;) {
				c = peek(lx, 0);
				if (c == -1)
					return cocoon_error_set(COCOON_EFORMAT,
					                        "policy:%u:%u: unterminated comment '/*'; close it with '*/'",
					                        line, col);
				if (c == '*' && peek(lx, 1) == '/') {
					advance(lx, 2);
					break;
				}
				advance(lx, 1);
			}
		} else {
			return 0;
		}
	}
}

static int lex_string(policy_lexer *lx)
{
	policy_token *t = &lx->tok;
	char *buf = NULL;
	size_t n = 0, cap = 0;
	int err = 0;

	advance(lx, 1); /* opening quote */
	for (;;) {
		int c = peek(lx, 0);
		if (c == -1 || c == '\n' || c == '\r') {
			err = cocoon_error_set(COCOON_EFORMAT,
			                       "policy:%u:%u: unterminated string literal; add the closing '\"' on the same line",
			                       t->line, t->col);
			goto done;
		}
		if (c == '"')
			break;
		if (n >= COCOON_POLICY_MAX_STRING) {
			err = cocoon_error_set(COCOON_EFORMAT, "policy:%u:%u: string literal longer than %d bytes",
			                       t->line, t->col, COCOON_POLICY_MAX_STRING);
			goto done;
		}
		if (n + 1 >= cap) {
			size_t ncap = cap ? 2 * cap : 64;
			char *nb = realloc(buf, ncap);
			if (!nb) {
				err = cocoon_error_set(COCOON_ENOMEM, "policy: out of memory");
				goto done;
			}
			buf = nb;
			cap = ncap;
		}
		if (c == '\\') {
			int e = peek(lx, 1);
			switch (e) {
			case '"': c = '"'; break;
			case '\\': c = '\\'; break;
			case '/': c = '/'; break;
			case 'n': c = '\n'; break;
			case 'r': c = '\r'; break;
			case 't': c = '\t'; break;
			default:
				err = cocoon_error_set(COCOON_EFORMAT,
				                       "policy:%u:%u: unknown escape in string literal; only \\\", \\\\, \\/, "
				                       "\\n, \\r and \\t are supported",
				                       lx->line, lx->col);
				goto done;
			}
			advance(lx, 2);
		} else {
			advance(lx, 1);
		}
		buf[n++] = (char)c;
	}
	advance(lx, 1); /* closing quote */
	if (!buf && !(buf = malloc(1))) {
		err = cocoon_error_set(COCOON_ENOMEM, "policy: out of memory");
		goto done;
	}
	buf[n] = '\0';
	t->kind = TOK_STRING;
	t->sval = buf;
	t->slen = n;
	buf = NULL;
done:
	free(buf);
	return err;
}

static int lex_number(policy_lexer *lx)
{
	policy_token *t = &lx->tok;
	int negative = peek(lx, 0) == '-';
	unsigned long long v = 0, limit = negative ? (unsigned long long)LLONG_MAX + 1 : (unsigned long long)LLONG_MAX;
	size_t i = negative ? 1 : 0;
	int c;

	while ((c = peek(lx, i)) != -1 && is_digit(c)) {
		unsigned d = (unsigned)(c - '0');
		if (v > (limit - d) / 10)
			return cocoon_error_set(COCOON_EFORMAT,
			                        "policy:%u:%u: integer out of range; claim integers are 64-bit signed",
			                        t->line, t->col);
		v = v * 10 + d;
		i++;
	}
	if (peek(lx, i) == '.' && (c = peek(lx, i + 1)) != -1 && is_digit(c)) {
		i++;
		while ((c = peek(lx, i)) != -1 && is_digit(c))
			i++;
		t->kind = TOK_DECIMAL;
	} else {
		t->kind = TOK_INT;
		t->ival = negative ? (v == (unsigned long long)LLONG_MAX + 1 ? LLONG_MIN : -(long long)v) : (long long)v;
	}
	advance(lx, i);
	return 0;
}

static int lex_punct(policy_lexer *lx, int c)
{
	policy_token *t = &lx->tok;
	int c1 = peek(lx, 1);
	size_t n = 1;

	switch (c) {
	case '{': t->kind = TOK_LBRACE; break;
	case '}': t->kind = TOK_RBRACE; break;
	case '[': t->kind = TOK_LBRACKET; break;
	case ']': t->kind = TOK_RBRACKET; break;
	case '(': t->kind = TOK_LPAREN; break;
	case ')': t->kind = TOK_RPAREN; break;
	case ';': t->kind = TOK_SEMI; break;
	case ',': t->kind = TOK_COMMA; break;
	case ':': t->kind = TOK_COLON; break;
	case '.': t->kind = TOK_DOT; break;
	case '=':
		if (c1 == '=') { t->kind = TOK_EQ; n = 2; }
		else if (c1 == '>') { t->kind = TOK_ARROW; n = 2; }
		else t->kind = TOK_ASSIGN;
		break;
	case '!':
		if (c1 == '=') { t->kind = TOK_NE; n = 2; }
		else t->kind = TOK_NOT;
		break;
	case '<':
		if (c1 == '=') { t->kind = TOK_LE; n = 2; }
		else t->kind = TOK_LT;
		break;
	case '>':
		if (c1 == '=') { t->kind = TOK_GE; n = 2; }
		else t->kind = TOK_GT;
		break;
	case '&':
		if (c1 == '&') { t->kind = TOK_AND; n = 2; break; }
		return cocoon_error_set(COCOON_EFORMAT, "policy:%u:%u: unexpected '&'; conditions are joined with '&&'",
		                        t->line, t->col);
	default: {
		unsigned long cp = code_point((const unsigned char *)lx->text + lx->pos, lx->len - lx->pos);
		if (cp == 0x201C || cp == 0x201D)
			return cocoon_error_set(COCOON_EFORMAT,
			                        "policy:%u:%u: unexpected typographic quote U+%04lX; use ASCII '\"'",
			                        t->line, t->col, cp);
		if (cp > 0x20 && cp < 0x7F)
			return cocoon_error_set(COCOON_EFORMAT, "policy:%u:%u: unexpected character '%c'", t->line, t->col,
			                        (int)cp);
		return cocoon_error_set(COCOON_EFORMAT, "policy:%u:%u: unexpected character U+%04lX", t->line, t->col,
		                        cp);
	}
	}
	advance(lx, n);
	return 0;
}

int cocoon_policy_lexer_next(policy_lexer *lx)
{
	policy_token *t = &lx->tok;
	int err, c;

	free(t->sval);
	memset(t, 0, sizeof(*t));
	if ((err = skip_space_and_comments(lx)) < 0)
		return err;
	t->start = lx->text + lx->pos;
	t->line = lx->line;
	t->col = lx->col;
	c = peek(lx, 0);
	if (c == -1) {
		t->kind = TOK_EOF;
		err = 0;
	} else if (c == '"') {
		err = lex_string(lx);
	} else if (is_digit(c) || (c == '-' && peek(lx, 1) != -1 && is_digit(peek(lx, 1)))) {
		err = lex_number(lx);
	} else if (is_ident_start(c)) {
		size_t i = 1;
		while ((c = peek(lx, i)) != -1 && is_ident_char(c))
			i++;
		if (i > IDENT_MAX)
			return cocoon_error_set(COCOON_EFORMAT, "policy:%u:%u: identifier longer than %d characters",
			                        t->line, t->col, IDENT_MAX);
		t->kind = TOK_IDENT;
		advance(lx, i);
		err = 0;
	} else {
		err = lex_punct(lx, c);
	}
	t->len = (size_t)(lx->text + lx->pos - t->start);
	return err;
}

/* ASCII-only folding: the result must not depend on the process locale. */
int cocoon_policy_token_is(const policy_token *t, const char *keyword)
{
	if (t->kind != TOK_IDENT || strlen(keyword) != t->len)
		return 0;
	for (size_t i = 0; i < t->len; i++) {
		char a = t->start[i], b = keyword[i];
		if (a >= 'A' && a <= 'Z') a = (char)(a - 'A' + 'a');
		if (b >= 'A' && b <= 'Z') b = (char)(b - 'A' + 'a');
		if (a != b)
			return 0;
	}
	return 1;
}

void cocoon_policy_token_describe(char *buf, size_t size, const policy_token *t)
{
	const size_t max = 40;
	size_t n = t->len;
	int cut = 0;

	if (t->kind == TOK_EOF) {
		snprintf(buf, size, "end of input");
		return;
	}
	if (n > max) {
		n = max;
		/* Never split a UTF-8 sequence. */
		while (n > 0 && ((unsigned char)t->start[n] & 0xC0) == 0x80)
			n--;
		cut = 1;
	}
	if (t->kind == TOK_STRING)
		snprintf(buf, size, "string %.*s%s", (int)n, t->start, cut ? "...\"" : "");
	else
		snprintf(buf, size, "'%.*s%s'", (int)n, t->start, cut ? "..." : "");
}
