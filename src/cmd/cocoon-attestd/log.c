/*
 * attestd's log calls on top of the daemons' one JSON-lines logger
 * (src/lib/daemon/nlog.h): same line format as the node daemons and
 * cocoon-quoted, with "component":"cocoon-attestd".
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include "attestd.h"
#include "nlog.h"

static pthread_once_t log_once = PTHREAD_ONCE_INIT;

/* attestd has no --log-level: every line it writes is wanted. */
static void log_init(void)
{
	cocoon_nlog_init("cocoon-attestd", COCOON_NLOG_DEBUG);
}

/* An unknown level name is a programming error: log it as an error rather than drop it. */
static int level_of(const char *name)
{
	int level = name ? cocoon_nlog_level_parse(name) : -1;

	return level < 0 ? COCOON_NLOG_ERROR : level;
}

void attestd_log(const char *level, const char *msg, json_t *fields)
{
	pthread_once(&log_once, log_init);
	cocoon_nlog_json(level_of(level), msg, fields);
}

void attestd_logf(const char *level, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	attestd_log(level, msg, NULL);
}
