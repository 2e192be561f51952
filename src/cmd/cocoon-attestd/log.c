/* JSON-lines logging on stderr: one object per line, written with one write(2) so lines never interleave. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>
#include "attestd.h"

void attestd_log(const char *level, const char *msg, json_t *fields)
{
	json_t *o = json_object();
	struct timeval tv;
	char ts[96], *line;
	struct tm tm;

	if (!o)
		return;
	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	snprintf(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
	         tm.tm_hour, tm.tm_min, tm.tm_sec, (long)(tv.tv_usec / 1000));
	json_object_set_new(o, "ts", json_string(ts));
	json_object_set_new(o, "level", json_string(level));
	json_object_set_new(o, "msg", json_string(msg));
	if (fields)
		json_object_update_missing(o, fields);
	line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
	json_decref(o);
	if (!line)
		return;
	{
		size_t n = strlen(line);
		char *buf = malloc(n + 2);
		if (buf) {
			memcpy(buf, line, n);
			buf[n] = '\n';
			if (write(STDERR_FILENO, buf, n + 1) < 0) {
				/* Nowhere left to report a failed log write. */
			}
			free(buf);
		}
	}
	free(line);
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
