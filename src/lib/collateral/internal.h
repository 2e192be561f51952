/* Internal glue between the collateral client, its cache and the fetch source. */
#ifndef COCOON_COLLATERAL_INTERNAL_H
#define COCOON_COLLATERAL_INTERNAL_H

#include "cocoon/collateral.h"

/* The client's update type ("standard" or "early"). */
const char *coll_client_update(const cocoon_collateral_client *c);
/* The entry for a key whatever its age (what was just stored); NULL when absent. */
const cocoon_collateral *coll_cache_peek_dcap(cocoon_collateral_cache *c, cocoon_tee tee, const char *fmspc,
                                              const char *update);
const uint8_t *coll_cache_peek_blob(size_t *len, cocoon_collateral_cache *c, const char *key);

#endif
