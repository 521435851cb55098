/* endpoint.h: AWS region and service endpoint resolution for SWF and Step
 * Functions.
 *
 * The resolvers are pure functions: the environment and the parsed config
 * file are passed in (lw_endpoint_env_get and lw_endpoint_load_config read
 * them for callers), so results depend on nothing else. They allocate
 * nothing; results live in fixed-size fields of the caller's structs.
 *
 * Region, first set and non-empty wins:
 *   explicit (--region), AWS_REGION, AWS_DEFAULT_REGION, the profile's
 *   `region` in the config file.
 * (botocore itself ignores AWS_REGION; the other SDKs read it first.) The
 * region must be a DNS label (letters, digits, '-'; not all digits, no
 * leading/trailing '-', <= 63), as botocore's validate_region_name checks.
 *
 * Endpoint, first non-empty wins (botocore 1.43 ConfiguredEndpointProvider):
 *   1. explicit (--endpoint)
 *   2. AWS_ENDPOINT_URL_SWF / AWS_ENDPOINT_URL_SFN (service ids SWF, SFN)
 *   3. AWS_ENDPOINT_URL
 *   4. the profile's `services = NAME` -> `[services NAME]` -> `swf =` /
 *      `sfn =` sub-section -> `endpoint_url` (a `services` key naming a
 *      section that does not exist is an error, as in botocore)
 *   5. the profile's `endpoint_url`
 *   6. the default of the service's endpoint rule set (botocore 1.43.11
 *      rule sets and partitions.json): https://{swf|states}[-fips].{region}.
 *      {dnsSuffix | dualStackDnsSuffix}, with the GovCloud exceptions:
 *      SWF+FIPS in us-gov-* -> swf.{r}.amazonaws.com; SFN+FIPS in
 *      us-gov-west-1 -> states.us-gov-west-1.amazonaws.com; dual-stack
 *      without FIPS in us-gov-* -> the -fips name on api.aws.
 * AWS_IGNORE_CONFIGURED_ENDPOINT_URLS (or the profile's
 * `ignore_configured_endpoint_urls`) = true skips 2-5.
 * FIPS / dual-stack: AWS_USE_FIPS_ENDPOINT / AWS_USE_DUALSTACK_ENDPOINT,
 * else the profile's use_fips_endpoint / use_dualstack_endpoint. For these
 * three switches a set variable wins over the config file even when empty,
 * and only "true" (any case) is true, as in botocore.
 * A custom endpoint (1-5) together with FIPS or dual-stack is the rule
 * set's "Invalid Configuration" error, as the AWS SDKs that evaluate the
 * rule set report it. (botocore 1.43 instead drops FIPS/dual-stack silently
 * when an endpoint URL is configured.)
 *
 * A custom endpoint URL must be http:// or https://, a host name (DNS
 * labels, as botocore checks), an IPv4 address or a bracketed IPv6
 * address, and an optional port 1-65535; a trailing "/" is removed; user
 * info, a path, query, fragment, spaces and non-ASCII are refused.
 *
 * Errors (struct lw_error, kind LW_ERR_CLIENT): codes "NoRegion",
 * "InvalidRegion", "InvalidEndpoint", "InvalidConfiguration". */
#ifndef LW_ENDPOINT_H
#define LW_ENDPOINT_H
#include <stdbool.h>
#include <stddef.h>
#include "error.h"
#include "ini.h"

enum lw_aws_service {
    LW_SERVICE_SWF,     /* serviceId SWF, endpoint prefix and signing name "swf" */
    LW_SERVICE_SFN,     /* serviceId SFN, endpoint prefix and signing name "states" */
};

/* Environment values; NULL = unset. Borrowed (lw_endpoint_env_get points
 * into environ: valid until the variable changes). */
struct lw_endpoint_env {
    const char *aws_region;                     /* AWS_REGION */
    const char *aws_default_region;             /* AWS_DEFAULT_REGION */
    const char *endpoint_url_swf;               /* AWS_ENDPOINT_URL_SWF */
    const char *endpoint_url_sfn;               /* AWS_ENDPOINT_URL_SFN */
    const char *endpoint_url;                   /* AWS_ENDPOINT_URL */
    const char *ignore_configured_endpoint_urls; /* AWS_IGNORE_CONFIGURED_ENDPOINT_URLS */
    const char *use_fips_endpoint;              /* AWS_USE_FIPS_ENDPOINT */
    const char *use_dualstack_endpoint;         /* AWS_USE_DUALSTACK_ENDPOINT */
    const char *aws_default_profile;            /* AWS_DEFAULT_PROFILE */
    const char *aws_profile;                    /* AWS_PROFILE */
    const char *aws_config_file;                /* AWS_CONFIG_FILE */
    const char *home;                           /* HOME */
};

#define LW_REGION_MAX 64
#define LW_ENDPOINT_URL_MAX 512

struct lw_region {
    char name[LW_REGION_MAX];
    const char *source;         /* static: "explicit", "AWS_REGION", "AWS_DEFAULT_REGION", "config" */
};

struct lw_endpoint {
    char url[LW_ENDPOINT_URL_MAX];      /* "https://states.us-east-1.amazonaws.com": lowercase
                                           scheme and host, no default port, no trailing '/';
                                           requests go to url + "/" */
    char host[256];                     /* host name or IP; IPv6 in brackets */
    int port;                           /* explicit, or 443 / 80 */
    bool tls;                           /* https */
    char host_header[272];              /* Host header and SigV4 host: host, plus ":port"
                                           unless it is the scheme's default */
    char signing_region[LW_REGION_MAX];
    const char *signing_name;           /* static: "swf" or "states" */
    const char *source;                 /* static: "explicit", "AWS_ENDPOINT_URL_SWF",
                                           "AWS_ENDPOINT_URL_SFN", "AWS_ENDPOINT_URL",
                                           "config services", "config endpoint_url", "default" */
};

/* Fill env from the process environment (getenv). */
void lw_endpoint_env_get(struct lw_endpoint_env *env);

/* The profile to use, as botocore picks it: explicit (--profile) if set,
 * else AWS_DEFAULT_PROFILE, AWS_PROFILE, "default". Borrowed. */
const char *lw_endpoint_profile(const char *explicit_profile, const struct lw_endpoint_env *env);

/* Load the config file named by env (AWS_CONFIG_FILE, else
 * $HOME/.aws/config; missing = empty) into *out (lw_ini_free it). */
int lw_endpoint_load_config(const struct lw_endpoint_env *env, struct lw_ini **out,
                            struct lw_error *err);

/* Resolve the region. config may be NULL; profile is the profile name. */
int lw_region_resolve(const char *explicit_region, const struct lw_endpoint_env *env,
                      const struct lw_ini *config, const char *profile,
                      struct lw_region *out, struct lw_error *err);

/* Resolve the endpoint of svc for region (as resolved above; NULL or ""
 * is the "Missing Region" error). explicit_url and config may be NULL. */
int lw_endpoint_resolve(enum lw_aws_service svc, const char *explicit_url, const char *region,
                        const struct lw_endpoint_env *env, const struct lw_ini *config,
                        const char *profile, struct lw_endpoint *out, struct lw_error *err);

/* Parse and normalize a custom endpoint URL into out (url, host, port, tls,
 * host_header); signing fields untouched. `source` names the setting in
 * error messages. */
int lw_endpoint_parse_url(const char *url, const char *source, struct lw_endpoint *out,
                          struct lw_error *err);
#endif
