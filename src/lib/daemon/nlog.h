/*
 * JSON-lines logging for the node daemons: one object per line on stderr,
 * {"ts","level","component","msg", ...fields}. Fields are given as a jansson
 * pack format for an object ("{s:s,s:I}") so values are always escaped.
 * Never pass secrets (tokens, keys) as fields.
 */
#ifndef COCOON_NLOG_H
#define COCOON_NLOG_H

#include <jansson.h> /* json_int_t for "I" fields */

enum {
	COCOON_NLOG_DEBUG = 0,
	COCOON_NLOG_INFO = 1,
	COCOON_NLOG_WARN = 2,
	COCOON_NLOG_ERROR = 3
};

void cocoon_nlog_init(const char *component, int min_level);
/* Parses "debug", "info", "warn", "error"; -1 when unknown. */
int cocoon_nlog_level_parse(const char *name);
/* fields may be NULL; otherwise a jansson pack format for an object. */
void cocoon_nlog(int level, const char *msg, const char *fields, ...);

#define nlog_debug(...) cocoon_nlog(COCOON_NLOG_DEBUG, __VA_ARGS__)
#define nlog_info(...) cocoon_nlog(COCOON_NLOG_INFO, __VA_ARGS__)
#define nlog_warn(...) cocoon_nlog(COCOON_NLOG_WARN, __VA_ARGS__)
#define nlog_error(...) cocoon_nlog(COCOON_NLOG_ERROR, __VA_ARGS__)

#endif
