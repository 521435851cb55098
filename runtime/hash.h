/* hash.h: SHA-256, HMAC-SHA256 and hex helpers over libcrypto (OpenSSL 3).
 *
 * The SHA-256 digest and the HMAC algorithm are fetched once per process
 * (pthread_once) and then only read, so no call here fetches an algorithm.
 *
 * struct lw_hash holds reusable libcrypto contexts. Hashing through the same
 * struct again and again re-initialises those contexts instead of creating
 * new ones. It is NOT thread-safe: give each thread (or each owner that one
 * thread at a time uses) its own. Every function that takes a struct lw_hash *
 * also accepts NULL and then uses a temporary context (correct, but it
 * allocates and frees on every call). Apart from that, every function is
 * thread-safe and does no I/O.
 *
 * Ownership: lw_hash_new returns a struct the caller owns; lw_hash_free
 * releases it and accepts NULL. Nothing here keeps a pointer to the caller's
 * data or key after it returns, and no key material stays in a struct lw_hash
 * beyond what libcrypto keeps in its HMAC context until the next call or
 * lw_hash_free (which frees it with OpenSSL's clearing free).
 *
 * Functions returning int give 0 on success and -1 on failure (out of memory,
 * or libcrypto failed to provide SHA-256/HMAC). */
#ifndef LW_HASH_H
#define LW_HASH_H
#include <stddef.h>

#define LW_SHA256_LEN 32
#define LW_SHA256_HEX_LEN 64

struct lw_hash;

/* Fetches the algorithms (once per process) and prepares the contexts.
 * NULL when out of memory or when libcrypto has no SHA-256/HMAC. */
struct lw_hash *lw_hash_new(void);
void lw_hash_free(struct lw_hash *h);

/* out = SHA-256(data[0..len)). data may be NULL when len is 0. */
int lw_hash_sha256(struct lw_hash *h, const void *data, size_t len,
                   unsigned char out[LW_SHA256_LEN]);
/* The same as 64 lower-case hex characters plus a terminating NUL. */
int lw_hash_sha256_hex(struct lw_hash *h, const void *data, size_t len,
                       char out[LW_SHA256_HEX_LEN + 1]);
/* out = HMAC-SHA256(key, data). Any key length (longer than 64 bytes is
 * hashed first, as RFC 2104 says). */
int lw_hash_hmac_sha256(struct lw_hash *h, const void *key, size_t keylen,
                        const void *data, size_t len, unsigned char out[LW_SHA256_LEN]);

/* Lower-case hex of len bytes into out: 2*len characters and a NUL. */
void lw_hash_hex(const void *in, size_t len, char *out);
/* 1 if the len bytes at a and b are equal, else 0; the time taken does not
 * depend on where they differ. */
int lw_hash_equal(const void *a, const void *b, size_t len);
/* Overwrite len bytes with zeros in a way the compiler cannot drop. */
void lw_hash_wipe(void *p, size_t len);
#endif
