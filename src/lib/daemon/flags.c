/* The daemons' integer flag parser; see flags.h. */
#include <errno.h>
#include <stdlib.h>
#include "common/util.h"
#include "flags.h"

int cocoon_flag_uint(unsigned long *out, const char *name, const char *text, unsigned long min,
                     unsigned long max)
{
	unsigned long v;
	char *end;

	if (!text || text[0] < '0' || text[0] > '9')
		goto bad;
	errno = 0;
	v = strtoul(text, &end, 10);
	if (errno || *end || v < min || v > max)
		goto bad;
	*out = v;
	return 0;
bad:
	return cocoon_error_set(COCOON_EINVAL, "%s: expected an integer from %lu to %lu, got '%s'", name, min, max,
	                        text ? text : "");
}
