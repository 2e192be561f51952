/*
 * The webhook's log calls on top of the daemons' one JSON-lines logger
 * (src/lib/daemon/nlog.h), with "component":"cocoon-webhook". Callers never
 * pass pod contents or keys.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include "nlog.h"
#include "server.h"

static pthread_once_t log_once = PTHREAD_ONCE_INIT;

static void log_init(void)
{
	cocoon_nlog_init("cocoon-webhook", COCOON_NLOG_DEBUG);
}

/* An unknown level name is a programming error: log it as an error rather than drop it. */
static int level_of(const char *name)
{
	int level = name ? cocoon_nlog_level_parse(name) : -1;

	return level < 0 ? COCOON_NLOG_ERROR : level;
}

void webhook_log(const char *level, const char *msg, json_t *fields)
{
	pthread_once(&log_once, log_init);
	cocoon_nlog_json(level_of(level), msg, fields);
}

void webhook_logf(const char *level, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	webhook_log(level, msg, NULL);
}
