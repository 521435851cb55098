/* creds.h: AWS credentials: the SDKs' provider chain, and refresh that never
 * stalls the loop.
 *
 * Chain (botocore's order, ../shared/aws/API.md §5; the first source that is
 * configured wins, a configured source that fails stops the chain with its
 * error, IMDS is last and its failure is folded into "no credentials"):
 *   1. environment: AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY, token from
 *      AWS_SECURITY_TOKEN (legacy, checked first as botocore does) or
 *      AWS_SESSION_TOKEN, optional AWS_CREDENTIAL_EXPIRATION. Skipped when a
 *      profile is given in the config (--profile), as botocore does.
 *   -  a profile using role_arn, web_identity_token_file, sso_* or
 *      login_session (or AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE) is an
 *      error saying luaworker does not support that source.
 *   2. shared credentials file: AWS_SHARED_CREDENTIALS_FILE or
 *      ~/.aws/credentials, section [NAME].
 *   3. credential_process from the profile (config and credentials files
 *      merged as botocore does), run without a shell, asynchronously.
 *   4. config file: AWS_CONFIG_FILE or ~/.aws/config, [default] / [profile NAME].
 *   5. container: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI / _FULL_URI.
 *   6. EC2 instance metadata (IMDSv2, then v1 fallback), unless
 *      AWS_EC2_METADATA_DISABLED=true.
 * Profile: config.profile, else AWS_DEFAULT_PROFILE, else AWS_PROFILE (the
 * order botocore uses), else "default". An explicit profile that neither file
 * has is an error.
 *
 * Snapshots: struct lw_credentials is immutable and reference-counted; a
 * reader keeps its reference as long as it signs with it. Secrets are wiped
 * when the last reference goes.
 *
 * Refresh: temporary credentials are refreshed from the source that produced
 * them, on the loop and http of the thread whose lw_creds_get found them due:
 * in the advisory window (default 15 min before expiry) in the background
 * while the current snapshot is still served; in the mandatory window
 * (default 10 min) lw_creds_get answers LW_CREDS_EXPIRED until the refresh
 * lands. Credentials that arrive already inside the advisory window (short-
 * lived container credentials) are served until they actually expire and
 * refreshed at most every min_refresh_interval (default 30 s, jittered).
 * A failed refresh keeps the old credentials while they are valid (served as
 * LW_CREDS_OK) and is retried with capped, jittered backoff (retry_min ..
 * retry_max); once they have expired lw_creds_get answers LW_CREDS_FAILED.
 * Static credentials (environment, files without expiry) are only re-read
 * after lw_creds_invalidate.
 *
 * Threads: one struct lw_creds may be shared by several threads, each with
 * its own loop and http. lw_creds_get, lw_creds_invalidate and
 * lw_creds_resolve are thread-safe. A refresh runs on the loop of the thread
 * that started it: before a thread frees its http or loop it calls
 * lw_creds_cancel(c, loop), which aborts what runs there (another thread's
 * next lw_creds_get starts a new refresh). lw_creds_free cancels what is left
 * and so must run on the thread of those loops (in a one-loop program: free
 * the provider before the http and the loop), after the other threads are done.
 * Nothing here may be called from a signal handler. Timeouts (process,
 * container, IMDS) are loop timers: the loop must run in real time, not in
 * lw_loop_set_virtual mode.
 *
 * Errors (struct lw_error, kind LW_ERR_CREDENTIALS): NoCredentialsFound (every
 * source tried, listed in the message), CredentialsConfigError (half-set
 * environment keys, missing explicit profile, bad file, bad URL, unsupported
 * source; not retryable), CredentialProcessError, ContainerCredentialsError,
 * InstanceMetadataError, CredentialsExpired (credentials known to be expired
 * or rejected), CredentialsRefreshing (LW_CREDS_EXPIRED: retry shortly).
 * Messages and log lines never contain a secret key, a session token or an
 * authorization token; access key ids, paths, URLs and profile names do
 * appear. */
#ifndef LW_CREDS_H
#define LW_CREDS_H
#include <stdatomic.h>
#include <stdbool.h>
#include "error.h"
#include "http.h"
#include "loop.h"

/* An immutable snapshot. Read the fields freely while holding a reference. */
struct lw_credentials {
    char *access_key_id;
    char *secret_access_key;
    char *session_token;        /* NULL if none */
    double expires_at;          /* wall-clock epoch seconds; 0 = never */
    char source[32];            /* "env", "shared-credentials-file", "config-file",
                                   "credential_process", "container", "imds" */
    atomic_int refs;            /* private: use retain/release */
};

/* A snapshot with one reference (copies the strings; token may be NULL or
 * empty for none); NULL when out of memory. For tests and static keys. */
struct lw_credentials *lw_credentials_new(const char *access_key_id,
                                          const char *secret_access_key,
                                          const char *session_token, double expires_at,
                                          const char *source);
/* Both thread-safe; release accepts NULL and wipes the secrets with the last
 * reference. retain returns its argument. */
struct lw_credentials *lw_credentials_retain(struct lw_credentials *c);
void lw_credentials_release(struct lw_credentials *c);

struct lw_creds_config {
    const char *profile;            /* --profile; NULL: from the environment. Copied. */
    char **env;                     /* "NAME=value" strings, NULL-terminated; NULL: the
                                       real environ. Copied at lw_creds_new; also the
                                       environment of credential_process. */
    const char *container_base;     /* prefix of AWS_CONTAINER_CREDENTIALS_RELATIVE_URI;
                                       NULL: http://169.254.170.2 */
    /* Refresh policy, seconds; 0 = default. */
    double advisory_window;         /* 900: refresh in the background */
    double mandatory_window;        /* 600: LW_CREDS_EXPIRED until refreshed */
    double min_refresh_interval;    /* 30: for credentials shorter-lived than the windows */
    double retry_min, retry_max;    /* 2, 60: backoff after a failed refresh */
    /* Source knobs, seconds; 0 = default (botocore's values). */
    double process_timeout;         /* 60: credential_process is killed after this */
    double container_timeout;       /* 2: per container request */
    double container_retry_delay;   /* 1: between the 3 container tries */
    /* Wall clock in epoch seconds (tests); NULL: the real clock. Called from
     * any thread, at times with the provider's lock held: keep it trivial. */
    double (*clock)(void *ud);
    void *clock_ud;
};

enum lw_creds_state {
    LW_CREDS_OK,        /* *out holds usable credentials (a background refresh may run) */
    LW_CREDS_EXPIRED,   /* a refresh is under way: retry shortly (from a timer); *out
                           holds the old snapshot if it has not actually expired yet,
                           else NULL */
    LW_CREDS_FAILED,    /* the last refresh failed and no usable credentials are left:
                           err says why; *out is NULL. Later calls start a new attempt
                           at most every few seconds (capped backoff). */
};

struct lw_creds;

/* Copies what it needs from cfg (NULL = all defaults). Does not look for
 * credentials yet. NULL with err filled when out of memory. */
struct lw_creds *lw_creds_new(const struct lw_creds_config *cfg, struct lw_error *err);
/* Accepts NULL. See "Threads" above. */
void lw_creds_free(struct lw_creds *c);

/* Walk the whole chain now, running `loop` (with `http` on it) until done;
 * the result becomes the current snapshot. For start-up, so a worker fails
 * fast with a clear message. 0, or -1 with err filled. Not from a callback
 * running on `loop`. */
int lw_creds_resolve(struct lw_creds *c, struct lw_loop *loop, struct lw_http *http,
                     struct lw_error *err);

/* Non-blocking: the current snapshot as a new reference in *out (release it)
 * and its state (see enum lw_creds_state). Starts a refresh on loop/http when
 * one is due and none is running anywhere. Before any resolve, the first call
 * starts a walk of the chain and answers LW_CREDS_EXPIRED. err is filled for
 * EXPIRED and FAILED (may be NULL). */
enum lw_creds_state lw_creds_get(struct lw_creds *c, struct lw_loop *loop,
                                 struct lw_http *http, struct lw_credentials **out,
                                 struct lw_error *err);

/* The service rejected the current credentials (ExpiredTokenException...):
 * the next lw_creds_get answers LW_CREDS_EXPIRED and refreshes from the
 * source, static credentials included (a rotated key in a file is picked up).
 * A refresh already running counts as that refresh. Thread-safe. */
void lw_creds_invalidate(struct lw_creds *c);

/* Abort the refresh (or resolve) running on `loop`, if any: requests are
 * cancelled, a credential_process child is killed. Call from loop's thread
 * before freeing its http and loop. */
void lw_creds_cancel(struct lw_creds *c, struct lw_loop *loop);

/* The profile name in use ("default" unless configured). */
const char *lw_creds_profile(const struct lw_creds *c);

#ifdef LW_CREDS_INTERNAL
/* ---- Internal to runtime/creds*.c: not part of the interface. ---- */
#include <pthread.h>
#include "buf.h"

enum lw_creds_src {
    LW_SRC_ENV, LW_SRC_UNSUPPORTED, LW_SRC_SHARED_FILE, LW_SRC_PROCESS,
    LW_SRC_CONFIG_FILE, LW_SRC_CONTAINER, LW_SRC_IMDS, LW_SRC_COUNT
};
/* What a source's start function returns. LW_STEP_FAIL is negative, so
 * helpers that `return lw_creds_fail(...)` can be tested with `< 0`. */
enum { LW_STEP_FAIL = -1, LW_STEP_SKIP, LW_STEP_DONE, LW_STEP_PENDING };

struct lw_creds {
    pthread_mutex_t mu;
    /* immutable after lw_creds_new */
    char **env;
    char *profile;
    bool profile_explicit;          /* from config, AWS_DEFAULT_PROFILE or AWS_PROFILE */
    bool profile_from_config;       /* --profile: the environment source is skipped */
    char *container_base;
    double advisory, mandatory, min_interval, retry_min, retry_max;
    double process_timeout, container_timeout, container_retry_delay;
    double (*clock)(void *ud);
    void *clock_ud;
    /* guarded by mu */
    struct lw_credentials *cur;
    bool short_lived;               /* cur arrived inside the advisory window */
    int source;                     /* enum lw_creds_src that produced cur; -1 none */
    bool running;                   /* a refresh (not a resolve) is in flight */
    bool failed;                    /* the last attempt failed; last_err says why */
    bool invalidated;
    int fail_count;
    double refresh_at;              /* no window-driven refresh before (short-lived) */
    double retry_at;                /* no attempt at all before (failure backoff) */
    struct lw_error last_err;
    struct lw_creds_fetch *fetches; /* in flight, on any loop */
    char *imds_token;               /* cached IMDSv2 session token */
    double imds_token_until;
    unsigned long long rng;
};

/* The merged view of the two shared files for one profile, loaded once per
 * fetch (see creds_file.c). */
struct lw_creds_files {
    bool loaded;
    char *cred_path, *config_path;
    struct lw_ini *cred, *config;   /* empty when the file is absent */
    bool cred_exists, config_exists;
    const char *cred_sec, *config_sec;  /* the profile's section (owned by the
                                           ini), NULL if the file has none */
};

/* One walk of the chain (resolve), or one source (refresh), on one loop. */
struct lw_creds_fetch {
    struct lw_creds *c;
    struct lw_loop *loop;
    struct lw_http *http;
    struct lw_creds_fetch *prev, *next;     /* c->fetches, under c->mu */
    int src;                        /* the source being tried */
    int only;                       /* -1: walk on from src; else this source alone */
    bool for_resolve;               /* resolve owns it (frees it after done) */
    bool done;
    struct lw_defer defer;          /* runs the walk */
    struct lw_creds_files files;
    struct lw_buf tried;            /* "environment, shared credentials file (...), ..." */
    struct lw_error err;
    struct lw_credentials *result;
    int won;                        /* source of result */
    void *state;                    /* the pending source's state */
    void (*abort)(struct lw_creds_fetch *f);    /* cancel it, free state (the driver
                                                   clears both fields) */
};

/* A pending source reports here, from a loop callback, as its last act
 * (nothing of it left to cancel): its state is freed through f->abort, then
 * the walk goes on with LW_STEP_DONE (f->result set), LW_STEP_FAIL (f->err
 * set) or LW_STEP_SKIP (described in f->tried). A source's start function
 * never calls it: it returns instead. */
void lw_creds_fetch_step_done(struct lw_creds_fetch *f, int step);

/* Helpers shared by the sources. */
void lw_creds_wipe_free(char *s);   /* zero a secret string, then free it; accepts NULL */
const char *lw_creds_getenv(const struct lw_creds *c, const char *name);
bool lw_creds_env_true(const struct lw_creds *c, const char *name);
double lw_creds_wall(struct lw_creds *c);
void lw_creds_tried(struct lw_creds_fetch *f, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int lw_creds_fail(struct lw_creds_fetch *f, const char *code, bool retryable,
                  const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* ISO-8601 date-time (2026-11-21T12:00:00Z, fractions, offsets) to epoch
 * seconds; 0 or -1. */
int lw_creds_parse_time(const char *s, double *out);
/* Build f->result from the strings (expiration: ISO-8601 or NULL); fills
 * f->err and returns LW_STEP_FAIL when the time is bad or already past. */
int lw_creds_make(struct lw_creds_fetch *f, int src, const char *akid, const char *secret,
                  const char *token, const char *expiration, const char *what);
/* Copy s into out (size n) up to the first CR/LF, at most max bytes, with
 * control bytes replaced: for quoting stderr and response bodies. */
void lw_creds_first_line(char *out, size_t n, const char *s, size_t len, size_t max);

/* Credentials JSON (creds_json.c, pure): credential_process output
 * (Version 1, AccessKeyId, SecretAccessKey, optional SessionToken and
 * Expiration) or a container / instance-metadata answer (AccessKeyId,
 * SecretAccessKey, Token, Expiration all required; IMDS: a Code other than
 * "Success" is refused). */
enum lw_creds_doc_kind { LW_CREDS_DOC_PROCESS, LW_CREDS_DOC_CONTAINER, LW_CREDS_DOC_IMDS };
enum {
    LW_CREDS_DOC_OK,
    LW_CREDS_DOC_MALFORMED,     /* not JSON, or not an object */
    LW_CREDS_DOC_INVALID,       /* an object without usable credentials */
    LW_CREDS_DOC_NOMEM,
};
struct lw_creds_doc {           /* owned copies; the token may be NULL (process) */
    char *access_key_id, *secret_access_key, *session_token, *expiration;
};
/* Parse len bytes of body (not NUL-terminated; NULL = empty). LW_CREDS_DOC_OK
 * with d filled (free it with lw_creds_doc_free), or another status with d
 * empty and why (size n) saying what is wrong without quoting the input:
 * "output lacks AccessKeyId", "the response is not valid JSON (line 1,
 * column 5)", "Code Failed" ... (the caller prefixes its source). The
 * expiration is not checked here (lw_creds_parse_time). */
int lw_creds_doc_parse(enum lw_creds_doc_kind kind, const char *body, size_t len,
                       struct lw_creds_doc *d, char *why, size_t n);
void lw_creds_doc_free(struct lw_creds_doc *d);     /* wipes the secrets; accepts NULL */

/* The sources (creds_file.c, creds_process.c, creds_http.c). */
int lw_creds_src_env(struct lw_creds_fetch *f);
int lw_creds_src_unsupported(struct lw_creds_fetch *f);
int lw_creds_src_shared_file(struct lw_creds_fetch *f);
int lw_creds_src_process(struct lw_creds_fetch *f);
int lw_creds_src_config_file(struct lw_creds_fetch *f);
int lw_creds_src_container(struct lw_creds_fetch *f);
int lw_creds_src_imds(struct lw_creds_fetch *f);
/* Files: load once per fetch (0 or -1 with f->err) and look keys up in the
 * merged profile (credentials file first, as botocore merges them). */
int lw_creds_files_load(struct lw_creds_fetch *f);
const char *lw_creds_profile_get(struct lw_creds_fetch *f, const char *key);
void lw_creds_files_free(struct lw_creds_files *fl);
/* Shell-style split (POSIX shlex: quotes, backslashes, no shell); NULL-
 * terminated vector freed with lw_creds_argv_free; NULL with *why set on an
 * unbalanced quote or out of memory. */
char **lw_creds_split_command(const char *cmd, const char **why);
void lw_creds_argv_free(char **argv);
#endif
#endif
