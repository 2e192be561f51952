/* The daemons' one JSON-lines logger; see nlog.h. */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <jansson.h>
#include "nlog.h"

static const char *log_component = "cocoon";
/* Atomic: quoted's workers test it while --log-level may still be applied. */
static atomic_int log_min_level = COCOON_NLOG_INFO;

static const char *const level_names[] = { "debug", "info", "warn", "error" };

void cocoon_nlog_init(const char *component, int min_level)
{
	log_component = component;
	atomic_store(&log_min_level, min_level);
}

void cocoon_nlog_set_level(int min_level)
{
	atomic_store(&log_min_level, min_level);
}

int cocoon_nlog_level_parse(const char *name)
{
	for (int i = 0; i < 4; i++)
		if (strcmp(name, level_names[i]) == 0)
			return i;
	return -1;
}

int cocoon_nlog_enabled(int level)
{
	return level >= COCOON_NLOG_DEBUG && level <= COCOON_NLOG_ERROR && level >= atomic_load(&log_min_level);
}

static void timestamp(char *buf, size_t len)
{
	struct timespec ts;
	struct tm tm;

	char secs[32];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(secs, sizeof(secs), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%.20s.%03dZ", secs, (int)(ts.tv_nsec / 1000000) % 1000);
}

/* One write(2) per line, so lines from different threads never interleave. */
static void write_line(const char *line)
{
	size_t len = strlen(line), off = 0;
	char *buf = malloc(len + 1);

	if (!buf)
		return;
	memcpy(buf, line, len);
	buf[len++] = '\n';
	while (off < len) {
		ssize_t n = write(STDERR_FILENO, buf + off, len - off);
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	free(buf);
}

/* The fixed keys of a line, or NULL when out of memory. */
static json_t *line_head(int level, const char *msg)
{
	char ts[40];

	timestamp(ts, sizeof(ts));
	return json_pack("{s:s,s:s,s:s,s:s}", "ts", ts, "level", level_names[level], "component", log_component,
	                 "msg", msg ? msg : "");
}

static void emit(json_t *obj)
{
	char *line = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));

	if (line)
		write_line(line);
	free(line);
}

void cocoon_nlog(int level, const char *msg, const char *fields, ...)
{
	json_t *obj = NULL, *extra = NULL;

	if (!cocoon_nlog_enabled(level))
		return;
	if (!(obj = line_head(level, msg)))
		return;
	if (fields) {
		va_list ap;
		json_error_t err;

		memset(&err, 0, sizeof(err));
		va_start(ap, fields);
		extra = json_vpack_ex(&err, 0, fields, ap);
		va_end(ap);
		/* A bad format is a programming error; keep the message and say so. */
		if (!extra || json_object_update_missing(obj, extra) != 0)
			json_object_set_new(obj, "log_error", json_string(err.text[0] ? err.text : "out of memory"));
	}
	emit(obj);
	json_decref(extra);
	json_decref(obj);
}

void cocoon_nlog_json(int level, const char *msg, json_t *fields)
{
	json_t *obj;

	if (!cocoon_nlog_enabled(level))
		return;
	if (!(obj = line_head(level, msg)))
		return;
	if (fields && json_object_update_missing(obj, fields) != 0)
		json_object_set_new(obj, "log_error", json_string("fields are not an object, or out of memory"));
	emit(obj);
	json_decref(obj);
}
