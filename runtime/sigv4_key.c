/* sigv4_key.c: the SigV4 signing key (the HMAC chain) and its per-owner
 * cache, keyed by (SHA-256 of the secret, scope). See sigv4.h. */
#include "sigv4.h"
#include "hash.h"
#include "sigv4_key.h"
#include <stdlib.h>
#include <string.h>

#define CACHE_SLOTS 4
#define SCOPE_MAX LW_SIGV4_SCOPE_MAX
static const char TERMINATOR[] = LW_SIGV4_TERMINATOR;

struct cache_entry {
    unsigned long last_used;                /* 0 = empty slot */
    unsigned char secret_hash[LW_SHA256_LEN];
    unsigned char key[LW_SHA256_LEN];
    size_t scope_len;
    char scope[SCOPE_MAX];                  /* "<date>/<region>/<service>/aws4_request" */
};

struct lw_sigv4_cache {
    struct lw_hash *hash;                   /* reusable contexts for this owner */
    unsigned long tick, hits, misses;
    struct cache_entry e[CACHE_SLOTS];
};

struct lw_sigv4_cache *lw_sigv4_cache_new(void)
{
    struct lw_sigv4_cache *c = calloc(1, sizeof *c);
    if (c && !(c->hash = lw_hash_new())) {
        free(c);
        c = NULL;
    }
    return c;
}

void lw_sigv4_cache_free(struct lw_sigv4_cache *c)
{
    if (!c)
        return;
    lw_hash_free(c->hash);
    lw_hash_wipe(c, sizeof *c);
    free(c);
}

void lw_sigv4_cache_stats(const struct lw_sigv4_cache *c, unsigned long *hits,
                          unsigned long *misses)
{
    if (hits)
        *hits = c ? c->hits : 0;
    if (misses)
        *misses = c ? c->misses : 0;
}

static int derive_with(struct lw_hash *h, const char *secret, size_t slen, const char *date8,
                       const char *region, size_t rlen, const char *service, size_t svlen,
                       unsigned char key[LW_SHA256_LEN])
{
    unsigned char stack[128], *k = stack;
    unsigned char a[LW_SHA256_LEN], b[LW_SHA256_LEN];
    int rc = LW_SIGV4_ECRYPTO;
    if (slen + 4 > sizeof stack && !(k = malloc(slen + 4)))
        return LW_SIGV4_ENOMEM;
    memcpy(k, "AWS4", 4);
    memcpy(k + 4, secret, slen);
    if (lw_hash_hmac_sha256(h, k, slen + 4, date8, 8, a) == 0
        && lw_hash_hmac_sha256(h, a, sizeof a, region, rlen, b) == 0
        && lw_hash_hmac_sha256(h, b, sizeof b, service, svlen, a) == 0
        && lw_hash_hmac_sha256(h, a, sizeof a, TERMINATOR, sizeof TERMINATOR - 1, key) == 0)
        rc = 0;
    lw_hash_wipe(k, slen + 4);
    lw_hash_wipe(a, sizeof a);
    lw_hash_wipe(b, sizeof b);
    if (k != stack)
        free(k);
    return rc;
}

int lw_sigv4_derive_key(const char *secret, const char *date8, const char *region,
                        const char *service, unsigned char key[32])
{
    if (!secret || !date8 || strlen(date8) != 8 || !region || !service)
        return LW_SIGV4_EARG;
    struct lw_hash *h = lw_hash_new();
    if (!h)
        return LW_SIGV4_ENOMEM;
    int rc = derive_with(h, secret, strlen(secret), date8, region, strlen(region), service,
                         strlen(service), key);
    lw_hash_free(h);
    return rc;
}

/* The signing key for `scope` ("<date>/<region>/<service>/aws4_request"),
 * from the cache when it has it. */
int lw_sigv4_signing_key(struct lw_sigv4_cache *c, struct lw_hash *h, const char *secret,
                       size_t slen, const char *scope, size_t scope_len, size_t rlen,
                       size_t svlen, unsigned char key[LW_SHA256_LEN])
{
    const char *region = scope + 9, *service = region + rlen + 1;
    if (!c)
        return derive_with(h, secret, slen, scope, region, rlen, service, svlen, key);
    unsigned char sh[LW_SHA256_LEN];
    if (lw_hash_sha256(h, secret, slen, sh) < 0)
        return LW_SIGV4_ECRYPTO;
    struct cache_entry *victim = &c->e[0];
    for (int i = 0; i < CACHE_SLOTS; i++) {
        struct cache_entry *e = &c->e[i];
        if (e->last_used && e->scope_len == scope_len && memcmp(e->scope, scope, scope_len) == 0
            && lw_hash_equal(e->secret_hash, sh, sizeof sh)) {
            e->last_used = ++c->tick;
            c->hits++;
            memcpy(key, e->key, LW_SHA256_LEN);
            lw_hash_wipe(sh, sizeof sh);
            return 0;
        }
        if (e->last_used < victim->last_used)
            victim = e;
    }
    c->misses++;
    int rc = derive_with(h, secret, slen, scope, region, rlen, service, svlen, key);
    if (rc == 0) {
        victim->last_used = ++c->tick;
        memcpy(victim->secret_hash, sh, sizeof sh);
        memcpy(victim->key, key, LW_SHA256_LEN);
        memcpy(victim->scope, scope, scope_len);
        victim->scope_len = scope_len;
    }
    lw_hash_wipe(sh, sizeof sh);
    return rc;
}

struct lw_hash *lw_sigv4_cache_hash(struct lw_sigv4_cache *c) { return c->hash; }
