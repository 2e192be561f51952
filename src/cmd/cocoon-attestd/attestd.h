/* cocoon-attestd: shared types of the attestation service. */
#ifndef COCOON_ATTESTD_H
#define COCOON_ATTESTD_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>
#include <sys/socket.h>
#include <event2/http.h>
#include <jansson.h>
#include <openssl/ssl.h>
#include "cocoon/cocoon.h"
#include "cocoon/token.h"
#include "cocoon/kbs.h"
#include "store.h"

/* Exit codes (docs/attestd.md). */
#define ATTESTD_EXIT_OK 0
#define ATTESTD_EXIT_RUNTIME 1  /* a failure after start-up (event loop, thread) */
#define ATTESTD_EXIT_USAGE 2    /* bad flags or a bad configuration file */
#define ATTESTD_EXIT_STORAGE 3  /* the database or the signing key cannot be opened or made */
#define ATTESTD_EXIT_LISTEN 4   /* the address cannot be bound or TLS cannot be set up */

#define ATTESTD_MAX_WORKERS 64

typedef struct {
	char *config_path;          /* where the settings came from, for messages */
	char *listen;               /* "ADDR:PORT" */
	char *data_dir;
	char *database;             /* "sqlite:PATH" or "postgresql://..."; NULL: sqlite:<data_dir>/attestd.db */
	char *secret_key_file;      /* the KEK sealing secrets in the database (32 bytes, mode 0600); NULL: none */
	char *issuer;               /* base URL: iss, jku = issuer + "/certs"; NULL: derived from listen */
	char *tls_cert, *tls_key;   /* PEM files; both or neither */
	char *signing_alg;          /* "RS256" (default) or "ES256" */
	char *signing_key_file;     /* PEM private key; NULL: generated and kept in the database */
	char *signing_cert_file;    /* PEM certificate for x5c; NULL: self-signed */
	char *admin_token_file;     /* file holding the admin bearer token */
	char *intel_root_file;      /* trusted Intel SGX root (DER or PEM); NULL: built in */
	json_t *collateral_files;   /* array of paths imported at start (vectors layout JSON or PCS directories) */
	size_t max_body_bytes;
	int request_timeout_seconds;
	int drain_timeout_seconds;
	int token_lifetime_seconds;
	int workers;                /* 0: one per core */
	int allow_debug;            /* accept debug enclaves/guests (their claims still say so) */
	char *admin_key_file;       /* PEM public key (Ed25519 or P-256) verifying admin JWTs */
	int kbs_session_seconds;    /* key broker session lifetime; default 300 */
	int insecure_http;          /* serve the key broker over plain HTTP on a non-loopback address */
	/* Flags only (never from the file). */
	char *trust_sim_dir;
	time_t test_only_verification_time;
} attestd_config;

void attestd_config_init(attestd_config *c);
void attestd_config_free(attestd_config *c);
/* Applies a JSON configuration file; unknown keys, wrong types and unreadable files fail with the key named. */
int attestd_config_load(attestd_config *c, const char *path);
/* Applies an already parsed configuration (root borrowed); path only names the source in messages. */
int attestd_config_apply(attestd_config *c, json_t *root, const char *path);
/* Checks cross-field rules (TLS pair, algorithm, files readable). */
int attestd_config_check(const attestd_config *c);

/* A connection to the configured database (one per worker thread), with the KEK borrowed. */
int attestd_database_open(cocoon_store **out, const attestd_config *cfg, const cocoon_kek *kek);

/* JSON-lines log on stderr. level: "info", "warn", "error". fields: borrowed object or NULL. */
void attestd_log(const char *level, const char *msg, json_t *fields);
void attestd_logf(const char *level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The token signer: one key, its certificate and its JWKS. */
typedef struct attestd_signer attestd_signer;
int attestd_signer_open(attestd_signer **out, const attestd_config *cfg, cocoon_store *store);
void attestd_signer_free(attestd_signer *s);
const char *attestd_signer_kid(const attestd_signer *s);
const char *attestd_signer_alg(const attestd_signer *s);
/* The JWKS document served at /certs (compact JSON). */
const char *attestd_signer_jwks(const attestd_signer *s);
/* Signs claims as a compact JWS with {alg, typ:"JWT", kid, jku}. Thread-safe. Caller frees *out. */
int attestd_signer_sign(char **out, attestd_signer *s, json_t *claims, const char *jku);
/* The library signer inside (for cocoon_token_issue). */
cocoon_token_signer *attestd_signer_token(attestd_signer *s);

/* Metrics (lock-free counters). */
enum { M_TEE_SGX, M_TEE_OE, M_TEE_SNP, M_TEE_TDX, M_TEE__N };
enum { M_V_PERMIT, M_V_REJECT, M_V_DENY, M_V_ERROR, M_V__N };
#define ATTESTD_LAT_BUCKETS 14
typedef struct {
	atomic_ulong requests[6];       /* by status class: 1xx..5xx, index 0 unused */
	atomic_ulong verdicts[M_TEE__N][M_V__N];
	atomic_ulong lat_bucket[ATTESTD_LAT_BUCKETS + 1];
	atomic_ulong lat_count, lat_sum_us;
	atomic_ulong tokens_issued;
	atomic_ulong collateral_lookups, collateral_cache_hits;
} attestd_metrics;
extern attestd_metrics attestd_m;
void attestd_metrics_observe(double seconds);
/* Prometheus text exposition (caller frees). */
char *attestd_metrics_render(cocoon_verifier *v, cocoon_verifier *sim);

/* Process-wide state shared by every worker (read-only after start, except atomics). */
typedef struct {
	attestd_config *cfg;
	cocoon_verifier *verifier;      /* Intel root (or --intel-root) */
	cocoon_verifier *sim_verifier;  /* --trust-sim: the simulation root; NULL otherwise */
	attestd_signer *signer;
	cocoon_kek *kek;                /* --secret-key: seals secrets in the database; NULL without one */
	char *issuer, *jku;
	uint8_t admin_token_hash[32];   /* SHA-256 of the admin token: compared in constant time */
	int has_admin_token;
	EVP_PKEY *admin_key;            /* --admin-key: verifies admin JWTs (KBS and MAA admin APIs) */
	EVP_PKEY *kbs_key;              /* the broker's P-256 EAR signing key (kept sealed in the store) */
	int kbs_enabled;                /* 0: plain HTTP on a non-loopback address without --insecure-http */
	SSL_CTX *tls;
	/* --trust-sim: the simulation directory's collateral and AMD PKI (immutable after start). */
	cocoon_collateral_source *sim_source;
	atomic_ulong generation;        /* bumped by every store write in this process */
	atomic_int draining;
	atomic_int ready;
	time_t started;
} attestd_ctx;

/* Per-worker state: its own store connection and caches, so no lock is shared on the hot path. */
typedef struct attestd_worker attestd_worker;

struct evhttp_request;
/* Collateral and policy lookups through the worker's caches. */
typedef struct attestd_cache attestd_cache;
int attestd_cache_new(attestd_cache **out);
void attestd_cache_free(attestd_cache *c);

typedef struct {
	attestd_ctx *ctx;
	cocoon_store *store;
	attestd_cache *cache;
	unsigned long seen_generation;
	time_t last_db_check;
	int64_t db_generation;
} attestd_env;

/* Brings the worker's caches up to date with the store (cheap when nothing changed). */
void attestd_env_refresh(attestd_env *env);

/* The worker's collateral source for the appraisal: its cache over the store. NULL (error set) when out of memory. */
cocoon_collateral_source *attestd_collateral_source(attestd_env *env);
/* Validates and stores collateral documents; *summary describes what was stored (caller frees). */
int attestd_collateral_import_dcap(char **summary, attestd_env *env, const char *body, size_t len);
int attestd_collateral_import_snp(char **summary, attestd_env *env, const char *body, size_t len);
/* Reads startup collateral files and the simulation directory into the store / sim set. */
int attestd_collateral_bootstrap(attestd_env *env);

/* The compiled policy for an attestation type ("SgxEnclave"...) and its text hash. */
typedef struct {
	const cocoon_policy *policy;
	char hash[44];
} attestd_policy_ref;
int attestd_policy_current(attestd_policy_ref *out, attestd_env *env, const char *type, cocoon_tee tee);

/* HTTP handlers: each fills status and a JSON body (caller frees). */
typedef struct {
	int status;
	char *body;                 /* response body, NUL-terminated */
	const char *content_type;
	char *log_detail;           /* short reason for the access log (never evidence) */
	const char *tee_label;      /* for metrics, or NULL */
	int verdict;                /* M_V_* or -1 */
	char *set_cookie;           /* Set-Cookie value, or NULL */
} attestd_reply;

void attestd_reply_error(attestd_reply *r, int status, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void attestd_reply_json(attestd_reply *r, int status, json_t *body); /* steals body */

void attestd_handle_attest(attestd_reply *r, attestd_env *env, const char *type, const char *api_version,
                           const char *body, size_t len);
void attestd_handle_policy(attestd_reply *r, attestd_env *env, const char *method, const char *type, int reset,
                           const char *body, size_t len);
void attestd_handle_collateral(attestd_reply *r, attestd_env *env, const char *kind, const char *body, size_t len);

/* MAA attestation types. */
int attestd_type_tee(const char *type, cocoon_tee *tee);
/* Canonical name of a type index from attestd_type_tee. */
const char *attestd_type_name(int index);
/* Per-thread state released when a worker thread ends. */
void attestd_policy_thread_exit(void);
void attestd_signer_thread_exit(void);
/* Accepted api-version values. */
int attestd_api_version_ok(const char *v);

/* Admin authentication shared by the MAA and KBS admin APIs: an admin JWT verified with
 * --admin-key, or the --admin-token-file bearer token. 0 when allowed; else why[] says why. */
int attestd_admin_check(attestd_ctx *ctx, const char *auth, char *why, size_t why_len);

/* The key broker (kbs.c): every /kbs/ path. cookie is the Cookie header or NULL. */
void attestd_kbs_route(attestd_reply *r, attestd_env *env, enum evhttp_cmd_type cmd, const char *auth,
                       const char *cookie, const char *path, const char *body, size_t len);
/* Loads or makes the broker's EAR signing key in the store (start-up). */
int attestd_kbs_key_open(EVP_PKEY **out, cocoon_store *store);

/* Server. */
int attestd_server_run(attestd_ctx *ctx);
/* Serves one request already read off the wire: query is the raw query string or NULL, auth the
 * Authorization header or NULL, body may be NULL only when len is 0 (else: out of memory). */
void attestd_route(attestd_reply *r, attestd_env *env, enum evhttp_cmd_type cmd, const char *auth,
                   const char *cookie, const char *path, const char *query, const char *body, size_t len);
/* "ADDR:PORT" or "[V6ADDR]:PORT", numeric only; -1 when malformed. */
int attestd_listen_parse(struct sockaddr_storage *ss, int *sslen, const char *text);

#endif
