/* JSON-lines logging: a whole line per write(2), so threads never interleave. */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "qlog.h"

static atomic_int min_level = QLOG_INFO;
static const char *const level_names[] = { "debug", "info", "warn", "error" };

void qlog_set_level(int level)
{
	atomic_store(&min_level, level);
}

int qlog_level_parse(const char *name)
{
	for (int i = 0; i < 4; i++)
		if (strcmp(name, level_names[i]) == 0)
			return i;
	return -1;
}

int qlog_enabled(int level)
{
	return level >= atomic_load(&min_level);
}

void qlog(int level, const char *msg, const char *fields, ...)
{
	struct timespec ts;
	struct tm tm;
	char stamp[96];
	json_t *o = NULL, *extra = NULL;
	json_error_t jerr;
	char *line = NULL;
	va_list ap;

	if (level < QLOG_DEBUG || level > QLOG_ERROR || !qlog_enabled(level))
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(stamp, sizeof(stamp), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
	         tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ts.tv_nsec / 1000000));
	o = json_pack("{s:s,s:s,s:s,s:s}", "ts", stamp, "level", level_names[level], "component", "cocoon-quoted",
	              "msg", msg ? msg : "");
	if (o && fields) {
		va_start(ap, fields);
		extra = json_vpack_ex(&jerr, 0, fields, ap);
		va_end(ap);
		if (extra)
			json_object_update(o, extra);
		else
			json_object_set_new(o, "log_error", json_string(jerr.text));
	}
	if (o && (line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER)) != NULL) {
		size_t n = strlen(line);
		line[n] = '\n';
		/* One write per line; a failed write on stderr has nowhere to be reported. */
		ssize_t w = write(STDERR_FILENO, line, n + 1);
		(void)w;
	}
	free(line);
	json_decref(extra);
	json_decref(o);
}
