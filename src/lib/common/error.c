/* Thread-local last-error storage and the failure helper. */
#include <stdio.h>
#include <string.h>
#include <openssl/err.h>
#include "common/util.h"

static _Thread_local cocoon_error last_error;

const cocoon_error *cocoon_error_last(void) { return &last_error; }

void cocoon_error_clear(void)
{
	last_error.code = 0;
	last_error.message[0] = '\0';
}

const char *cocoon_error_name(int code)
{
	switch (code) {
	case COCOON_OK: return "OK";
	case COCOON_EINVAL: return "EINVAL";
	case COCOON_ENOMEM: return "ENOMEM";
	case COCOON_EIO: return "EIO";
	case COCOON_EFORMAT: return "EFORMAT";
	case COCOON_EREJECT: return "EREJECT";
	case COCOON_EUNSUPPORTED: return "EUNSUPPORTED";
	case COCOON_ENOTFOUND: return "ENOTFOUND";
	case COCOON_EINTERNAL: return "EINTERNAL";
	case COCOON_EUNAVAILABLE: return "EUNAVAILABLE";
	default: return "EUNKNOWN";
	}
}

/* Formats into a local buffer first: callers often wrap the previous message
 * ("trusted root: %s", cocoon_error_last()->message), which would otherwise
 * make vsnprintf read the buffer it writes. */
__attribute__((format(printf, 2, 0))) static void error_vset(int code, const char *fmt, va_list ap)
{
	char tmp[sizeof(last_error.message)];
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	last_error.code = code;
	memcpy(last_error.message, tmp, sizeof(tmp));
}

int cocoon_error_set(int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	error_vset(code, fmt, ap);
	va_end(ap);
	return code;
}

int cocoon_error_set_openssl(int code, const char *fmt, ...)
{
	va_list ap;
	unsigned long e;
	size_t used;

	va_start(ap, fmt);
	error_vset(code, fmt, ap);
	va_end(ap);
	used = strlen(last_error.message);
	while ((e = ERR_get_error()) != 0 && used + 8 < sizeof(last_error.message)) {
		char buf[256];
		ERR_error_string_n(e, buf, sizeof(buf));
		snprintf(last_error.message + used, sizeof(last_error.message) - used, " [%s]", buf);
		used = strlen(last_error.message);
	}
	ERR_clear_error();
	return code;
}

int cocoon_fail(cocoon_failure *f, cocoon_check check, const char *fmt, ...)
{
	va_list ap;
	if (f) {
		f->check = check;
		va_start(ap, fmt);
		vsnprintf(f->reason, sizeof(f->reason), fmt, ap);
		va_end(ap);
	}
	ERR_clear_error();
	return COCOON_EREJECT;
}
