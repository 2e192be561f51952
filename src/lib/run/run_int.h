/* Internal helpers of the launcher library (src/lib/run), shared by its files and tests. */
#ifndef COCOON_RUN_INT_H
#define COCOON_RUN_INT_H

#include <stddef.h>

#define COCOON_RUN__MAX_RESOURCE_PATH 256

/* 1 when p[0..len) is repo/type/tag: three non-empty [A-Za-z0-9._-] segments, none "." or "..". */
int cocoon_run__valid_resource_path(const char *p, size_t len);

#endif
