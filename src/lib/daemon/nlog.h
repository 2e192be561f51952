/*
 * JSON-lines logging for every cocoon daemon: one object per line on stderr,
 * {"ts","level","component","msg", ...fields}, written with one write(2) so
 * lines from different threads never interleave. Fields are given as a
 * jansson pack format for an object ("{s:s,s:I}"), so values are always
 * escaped, or as a ready JSON object. Fields never replace the four fixed
 * keys. Never pass secrets (tokens, keys, evidence) as fields.
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

/* Call once before the daemon starts threads; component must outlive the process. */
void cocoon_nlog_init(const char *component, int min_level);
/* Safe from any thread. */
void cocoon_nlog_set_level(int min_level);
/* Parses "debug", "info", "warn", "error"; -1 when unknown. */
int cocoon_nlog_level_parse(const char *name);
/* 1 when a line at this level would be written: skip building costly fields otherwise. */
int cocoon_nlog_enabled(int level);
/* fields may be NULL; otherwise a jansson pack format for an object. */
void cocoon_nlog(int level, const char *msg, const char *fields, ...);
/* fields may be NULL; otherwise a JSON object, borrowed. */
void cocoon_nlog_json(int level, const char *msg, json_t *fields);

#define nlog_debug(...) cocoon_nlog(COCOON_NLOG_DEBUG, __VA_ARGS__)
#define nlog_info(...) cocoon_nlog(COCOON_NLOG_INFO, __VA_ARGS__)
#define nlog_warn(...) cocoon_nlog(COCOON_NLOG_WARN, __VA_ARGS__)
#define nlog_error(...) cocoon_nlog(COCOON_NLOG_ERROR, __VA_ARGS__)

#endif
