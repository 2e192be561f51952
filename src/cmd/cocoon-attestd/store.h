/*
 * cocoon-attestd storage: the store moved to the library (include/cocoon/store.h,
 * src/lib/store). This header stays so that attestd's files keep including
 * "store.h" and calling store->ops->... unchanged.
 */
#ifndef COCOON_ATTESTD_STORE_H
#define COCOON_ATTESTD_STORE_H

#include "cocoon/store.h"

#endif
