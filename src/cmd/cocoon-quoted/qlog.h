/*
 * JSON-lines logs on stderr, one object per line:
 * {"ts":"2025-07-19T10:01:17.123Z","level":"info","component":"cocoon-quoted","msg":"...", fields...}
 * Fields are a jansson pack format for an object ("{s:s,s:I}"), so values are
 * always escaped. Never log key material or report keys.
 */
#ifndef QUOTED_QLOG_H
#define QUOTED_QLOG_H

#include <jansson.h>

enum { QLOG_DEBUG = 0, QLOG_INFO = 1, QLOG_WARN = 2, QLOG_ERROR = 3 };

void qlog_set_level(int level);
/* "debug", "info", "warn", "error"; -1 when unknown. */
int qlog_level_parse(const char *name);
int qlog_enabled(int level);
/* fields may be NULL; otherwise a jansson pack format for an object. */
void qlog(int level, const char *msg, const char *fields, ...);

#endif
