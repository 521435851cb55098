/* sigv4_bench.c: signatures per second for a realistic SWF heartbeat, one thread.
 *
 * Build and run from the repository root:
 *   gcc -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter -O2 -g \
 *       -Iruntime bench/sigv4_bench.c runtime/sigv4.c runtime/sigv4_key.c runtime/hash.c runtime/buf.c \
 *       -lcrypto -lpthread -o /tmp/sigv4_bench && /tmp/sigv4_bench [seconds]
 *
 * For profilers, `sigv4_bench -n COUNT` signs exactly COUNT times (warm cache)
 * and prints nothing else, e.g.
 *   valgrind --tool=callgrind /tmp/sigv4_bench -n 20000   (instructions per signature)
 *   perf stat -e instructions:u,cycles:u /tmp/sigv4_bench -n 1000000
 *
 * Signs a RecordActivityTaskHeartbeat POST as aws.c sends it: signed headers
 * content-type, host, x-amz-date, x-amz-security-token, x-amz-target; a JSON
 * body of about 700 bytes holding a long task token; temporary credentials
 * with a session token of typical STS length. It reports three figures:
 *   warm   - one struct lw_sigv4_cache reused (the worker's hot path);
 *   cold   - a cache that never hits (every call derives the signing key);
 *   nocache- no cache at all (temporary libcrypto contexts on every call).
 * Timings are informational; nothing here is a pass/fail threshold. */
#include "sigv4.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static char body[1024];
static char token[1100];

static void make_inputs(void)
{
    /* A task token like SWF's: long base64-ish text. */
    char task_token[600];
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    unsigned x = 12345;
    for (size_t i = 0; i < sizeof task_token - 1; i++) {
        x = x * 1103515245u + 12345u;
        task_token[i] = alphabet[(x >> 16) & 63];
    }
    task_token[sizeof task_token - 1] = '\0';
    snprintf(body, sizeof body,
             "{\"taskToken\":\"%s\",\"details\":\"{\\\"progress\\\":42,\\\"stage\\\":\\\"upload\\\","
             "\\\"bytes\\\":1048576,\\\"note\\\":\\\"still working on part 7 of 12\\\"}\"}",
             task_token);
    /* An STS session token is ~400-1200 characters of base64. */
    strcpy(token, "IQoJb3JpZ2luX2VjEXAMPLE");
    for (size_t i = strlen(token); i < 1000; i++) {
        x = x * 1103515245u + 12345u;
        token[i] = alphabet[(x >> 16) & 63];
    }
    token[1000] = '\0';
}

enum mode { WARM, COLD, NOCACHE };

/* seconds > 0: run for that long; else exactly `count` signatures. */
static double run(enum mode m, double seconds, unsigned long count, char sig_out[65])
{
    struct lw_sigv4_header h[] = {
        {"Host", "swf.us-east-1.amazonaws.com"},
        {"Content-Type", "application/x-amz-json-1.0"},
        {"X-Amz-Target", "SimpleWorkflowService.RecordActivityTaskHeartbeat"},
    };
    struct lw_sigv4_request req = {
        .method = "POST", .path = "/", .headers = h, .nheaders = 3,
        .body = body, .body_len = strlen(body),
    };
    struct lw_sigv4_params prm = {
        .access_key_id = "ASIAEXAMPLEEXAMPLE12",
        .secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        .session_token = token,
        .region = "us-east-1",
        .service = "swf",
        .time = 1735787045,                         /* 2025-01-02T03:04:05Z */
    };
    static const char *regions[] = {"us-east-1", "us-east-2", "us-west-1", "us-west-2",
                                    "eu-west-1", "eu-west-2", "eu-central-1", "ap-south-1"};
    struct lw_sigv4_cache *cache = m == NOCACHE ? NULL : lw_sigv4_cache_new();
    unsigned long n = 0;
    double t0 = now(), t;
    do {
        for (int i = 0; i < 256; i++, n++) {
            if (m == COLD)
                prm.region = regions[n & 7];        /* 8 scopes > 4 slots: always a miss */
            struct lw_sigv4_result res;
            int rc = lw_sigv4_sign(cache, &req, &prm, &res, NULL);
            if (rc != 0) {
                fprintf(stderr, "sign failed: %s\n", lw_sigv4_strerror(rc));
                exit(1);
            }
            if (n == 0)
                snprintf(sig_out, 65, "%s", res.signature);
            lw_sigv4_result_free(&res);
        }
        t = now();
    } while (seconds > 0 ? t - t0 < seconds : n < count);
    if (m == COLD) {
        unsigned long hits;
        lw_sigv4_cache_stats(cache, &hits, NULL);
        if (hits)
            fprintf(stderr, "cold run unexpectedly hit the cache %lu times\n", hits);
    }
    lw_sigv4_cache_free(cache);
    return (double)n / (t - t0);
}

int main(int argc, char **argv)
{
    make_inputs();
    if (argc > 2 && strcmp(argv[1], "-n") == 0) {
        char sig[65];
        unsigned long count = strtoul(argv[2], NULL, 10);
        run(WARM, 0, count, sig);
        printf("%lu signatures (in steps of 256)\n", (count + 255) / 256 * 256);
        return 0;
    }
    double seconds = argc > 1 ? atof(argv[1]) : 2.0;
    if (seconds <= 0)
        seconds = 2.0;
    printf("body %zu bytes, session token %zu bytes, %.1f s per run, one thread\n",
           strlen(body), strlen(token), seconds);
    static const char *names[] = {"warm", "cold", "nocache"};
    for (int m = WARM; m <= NOCACHE; m++) {
        char sig[65] = "";
        double rate = run((enum mode)m, m == WARM ? seconds : seconds / 2, 0, sig);
        printf("%-8s %10.0f signatures/s  %6.2f us/signature  (first signature %.16s...)\n",
               names[m], rate, 1e6 / rate, sig);
    }
    return 0;
}
