/* JSON-lines logging on stderr, one object per line and one write(2) per line; never pod contents or keys. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include "server.h"

void webhook_log(const char *level, const char *msg, json_t *fields)
{
	json_t *o = json_object();
	struct timeval tv;
	struct tm tm;
	char ts[64], *line = NULL;
	int bad = !o;

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	snprintf(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
	         tm.tm_hour, tm.tm_min, tm.tm_sec, (long)(tv.tv_usec / 1000));
	bad = bad || json_object_set_new(o, "ts", json_string(ts)) != 0 ||
	      json_object_set_new(o, "level", json_string(level)) != 0 ||
	      json_object_set_new(o, "msg", json_string(msg)) != 0 ||
	      (fields && json_object_update_missing(o, fields) != 0);
	if (!bad && (line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6)))) {
		size_t n = strlen(line);
		char *buf = realloc(line, n + 2);
		if (buf) {
			line = buf;
			line[n] = '\n';
			if (write(STDERR_FILENO, line, n + 1) < 0) {
				/* Nowhere left to report a failed log write. */
			}
		}
	} else {
		/* Out of memory: still say something, so a failure is never silent. */
		static const char oom[] = "{\"level\":\"error\",\"msg\":\"log: out of memory\"}\n";
		if (write(STDERR_FILENO, oom, sizeof(oom) - 1) < 0) {
		}
	}
	free(line);
	json_decref(o);
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
