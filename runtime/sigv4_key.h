/* sigv4_key.h: internal to sigv4.c and sigv4_key.c: the signing key and
 * the parts of the cache the signer uses. */
#ifndef LW_SIGV4_KEY_H
#define LW_SIGV4_KEY_H
#include <stddef.h>
#include "hash.h"
#include "sigv4.h"

#define LW_SIGV4_TERMINATOR "aws4_request"
#define LW_SIGV4_MAX_SCOPE_PART 64      /* region, service */
/* "<date>/<region>/<service>/aws4_request" */
#define LW_SIGV4_SCOPE_MAX (8 + 1 + LW_SIGV4_MAX_SCOPE_PART + 1 + LW_SIGV4_MAX_SCOPE_PART + 1 \
                            + sizeof LW_SIGV4_TERMINATOR)

/* The cache's reusable hashing contexts. */
struct lw_hash *lw_sigv4_cache_hash(struct lw_sigv4_cache *c);
/* The signing key for scope (rlen, svlen: lengths of its region and service
 * parts), from the cache when it has it; c may be NULL. 0 or LW_SIGV4_E*. */
int lw_sigv4_signing_key(struct lw_sigv4_cache *c, struct lw_hash *h, const char *secret,
                         size_t slen, const char *scope, size_t scope_len, size_t rlen,
                         size_t svlen, unsigned char key[LW_SHA256_LEN]);
#endif
