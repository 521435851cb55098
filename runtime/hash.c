/* hash.c: SHA-256 / HMAC-SHA256 over OpenSSL 3 EVP, algorithms fetched once. */
#define OPENSSL_API_COMPAT 30000
#define OPENSSL_NO_DEPRECATED
#include "hash.h"
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <pthread.h>
#include <stdlib.h>

struct lw_hash {
    EVP_MD_CTX *md;     /* SHA-256, re-initialised for every digest */
    EVP_MAC_CTX *mac;   /* HMAC with its digest already set to SHA-256 */
};

/* Written once under pthread_once, then only read: safe to share. */
static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static EVP_MD *g_sha256;
static EVP_MAC *g_hmac;

static void fetch_once(void)
{
    g_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    g_hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    if (!g_sha256 || !g_hmac) {
        EVP_MD_free(g_sha256);
        EVP_MAC_free(g_hmac);
        g_sha256 = NULL;
        g_hmac = NULL;
        ERR_clear_error();
    }
}

struct lw_hash *lw_hash_new(void)
{
    if (pthread_once(&g_once, fetch_once) != 0 || !g_sha256)
        return NULL;
    struct lw_hash *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    h->md = EVP_MD_CTX_new();
    h->mac = EVP_MAC_CTX_new(g_hmac);
    if (!h->md || !h->mac)
        goto fail;
    /* Set the digest once per context: passing it on every EVP_MAC_init
     * would make the provider look the digest up by name each time. */
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
        OSSL_PARAM_construct_end(),
    };
    if (!EVP_MAC_CTX_set_params(h->mac, params))
        goto fail;
    return h;
fail:
    ERR_clear_error();
    lw_hash_free(h);
    return NULL;
}

void lw_hash_free(struct lw_hash *h)
{
    if (!h)
        return;
    EVP_MD_CTX_free(h->md);
    EVP_MAC_CTX_free(h->mac);
    free(h);
}

static int sha256_with(struct lw_hash *h, const void *data, size_t len, unsigned char *out)
{
    unsigned int n = 0;
    if (!EVP_DigestInit_ex2(h->md, g_sha256, NULL)
        || (len && !EVP_DigestUpdate(h->md, data, len))
        || !EVP_DigestFinal_ex(h->md, out, &n) || n != LW_SHA256_LEN) {
        ERR_clear_error();
        return -1;
    }
    return 0;
}

int lw_hash_sha256(struct lw_hash *h, const void *data, size_t len,
                   unsigned char out[LW_SHA256_LEN])
{
    if (h)
        return sha256_with(h, data, len, out);
    struct lw_hash *tmp = lw_hash_new();
    int rc = tmp ? sha256_with(tmp, data, len, out) : -1;
    lw_hash_free(tmp);
    return rc;
}

int lw_hash_sha256_hex(struct lw_hash *h, const void *data, size_t len,
                       char out[LW_SHA256_HEX_LEN + 1])
{
    unsigned char md[LW_SHA256_LEN];
    if (lw_hash_sha256(h, data, len, md) < 0)
        return -1;
    lw_hash_hex(md, sizeof md, out);
    return 0;
}

static int hmac_with(struct lw_hash *h, const void *key, size_t keylen,
                     const void *data, size_t len, unsigned char *out)
{
    static const unsigned char empty_key[1];
    size_t n = 0;
    /* A zero-length key is valid HMAC input; give libcrypto a real pointer. */
    if (!EVP_MAC_init(h->mac, keylen ? key : empty_key, keylen, NULL)
        || (len && !EVP_MAC_update(h->mac, data, len))
        || !EVP_MAC_final(h->mac, out, &n, LW_SHA256_LEN) || n != LW_SHA256_LEN) {
        ERR_clear_error();
        return -1;
    }
    return 0;
}

int lw_hash_hmac_sha256(struct lw_hash *h, const void *key, size_t keylen,
                        const void *data, size_t len, unsigned char out[LW_SHA256_LEN])
{
    if (h)
        return hmac_with(h, key, keylen, data, len, out);
    struct lw_hash *tmp = lw_hash_new();
    int rc = tmp ? hmac_with(tmp, key, keylen, data, len, out) : -1;
    lw_hash_free(tmp);
    return rc;
}

void lw_hash_hex(const void *in, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";
    const unsigned char *p = in;
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15];
    }
    out[2 * len] = '\0';
}

int lw_hash_equal(const void *a, const void *b, size_t len)
{
    return CRYPTO_memcmp(a, b, len) == 0;
}

void lw_hash_wipe(void *p, size_t len)
{
    if (p && len)
        OPENSSL_cleanse(p, len);
}
