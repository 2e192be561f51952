/* Internal to the store: the backends' constructors and the helpers they share. */
#ifndef COCOON_STORE_INT_H
#define COCOON_STORE_INT_H

#include "cocoon/store.h"

int cocoon_store__sqlite_open(cocoon_store **out, const char *path, const cocoon_store_options *o);
int cocoon_store__pg_open(cocoon_store **out, const char *conninfo, const cocoon_store_options *o);

/* The AAD that pins a sealed value to its row: "resource:repo/type/tag", "signing-key:name". */
int cocoon_store__aad_resource(char **out, const char *repo, const char *type, const char *tag);
int cocoon_store__aad_key(char **out, const char *name);

/* Seals a signing key's PEM; *sealed is NULL (and the PEM stays as given) when there is no KEK. */
int cocoon_store__seal_key(uint8_t **sealed, size_t *sealed_len, const cocoon_kek *kek, const char *name,
                           const char *key_pem);
/* The PEM of a stored key: opened from sealed when present, else a copy of plain. */
int cocoon_store__open_key(char **key_pem, const cocoon_kek *kek, const char *name, const uint8_t *sealed,
                           size_t sealed_len, const char *plain);

/* Frees a NUL-terminated secret after wiping it. */
void cocoon_store__free_secret(char *p);

#endif
