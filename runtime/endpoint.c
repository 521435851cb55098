/* endpoint.c: region and endpoint resolution (see endpoint.h). */
#include "endpoint.h"
#include <arpa/inet.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Partitions of botocore 1.43.11's partitions.json. A region belongs to the
 * partition listing it (only the "*-global" pseudo-regions need the list:
 * every other listed region matches its partition's regex), else to the
 * first partition whose regionRegex matches, else to "aws". Every regex
 * has the form ^PREFIX-\w+-\d+$; `prefixes` lists PREFIX's alternatives. */
struct partition {
    const char *name;
    const char *global;             /* the pseudo-region listed in "regions" */
    const char *prefixes[10];
    const char *dns, *dualstack_dns;
    bool fips, dualstack;           /* supportsFIPS, supportsDualStack */
};

static const struct partition partitions[] = {
    { "aws", "aws-global", { "us", "eu", "ap", "sa", "ca", "me", "af", "il", "mx", NULL },
      "amazonaws.com", "api.aws", true, true },
    { "aws-cn", "aws-cn-global", { "cn", NULL },
      "amazonaws.com.cn", "api.amazonwebservices.com.cn", true, true },
    { "aws-eusc", NULL, { "eusc-de", NULL },
      "amazonaws.eu", "api.amazonwebservices.eu", true, true },
    { "aws-iso", "aws-iso-global", { "us-iso", NULL },
      "c2s.ic.gov", "api.aws.ic.gov", true, true },
    { "aws-iso-b", "aws-iso-b-global", { "us-isob", NULL },
      "sc2s.sgov.gov", "api.aws.scloud", true, true },
    { "aws-iso-e", "aws-iso-e-global", { "eu-isoe", NULL },
      "cloud.adc-e.uk", "api.cloud-aws.adc-e.uk", true, true },
    { "aws-iso-f", "aws-iso-f-global", { "us-isof", NULL },
      "csp.hci.ic.gov", "api.aws.hci.ic.gov", true, true },
    { "aws-us-gov", "aws-us-gov-global", { "us-gov", NULL },
      "amazonaws.com", "api.aws", true, true },
};

static bool is_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* region =~ ^prefix-\w+-\d+$ (ASCII \w: region names are validated ASCII) */
static bool region_matches(const char *region, const char *prefix)
{
    size_t n = strlen(prefix);
    if (strncmp(region, prefix, n) != 0 || region[n] != '-')
        return false;
    const char *p = region + n + 1, *word = p;
    while (is_alnum(*p) || *p == '_')
        p++;
    if (p == word || *p != '-')
        return false;
    const char *digits = ++p;
    while (*p >= '0' && *p <= '9')
        p++;
    return p > digits && *p == '\0';
}

static const struct partition *partition_of(const char *region)
{
    size_t n = sizeof partitions / sizeof partitions[0];
    for (size_t i = 0; i < n; i++)
        if (partitions[i].global && strcmp(region, partitions[i].global) == 0)
            return &partitions[i];
    for (size_t i = 0; i < n; i++)
        for (const char *const *p = partitions[i].prefixes; *p; p++)
            if (region_matches(region, *p))
                return &partitions[i];
    return &partitions[0];
}

/* botocore's validate_region_name: ^(?![0-9]+$)(?!-)[a-zA-Z0-9-]{,63}(?<!-)$ */
static bool valid_region(const char *r)
{
    size_t n = strlen(r);
    bool all_digits = true;
    if (n == 0 || n > 63 || r[0] == '-' || r[n - 1] == '-')
        return false;
    for (size_t i = 0; i < n; i++) {
        if (!is_alnum(r[i]) && r[i] != '-')
            return false;
        if (r[i] < '0' || r[i] > '9')
            all_digits = false;
    }
    return !all_digits;
}

static const char *nonempty(const char *s)
{
    return s && *s ? s : NULL;
}

/* botocore's ensure_boolean on a string: only "true", any case. */
static bool is_true(const char *s)
{
    return s && strcasecmp(s, "true") == 0;
}

/* An environment switch if set (even empty), else the profile's key. */
static bool setting(const char *env_value, const struct lw_ini *config, const char *profile,
                    const char *key)
{
    if (env_value)
        return is_true(env_value);
    return is_true(lw_ini_profile_get(config, LW_INI_CONFIG, profile, key));
}

void lw_endpoint_env_get(struct lw_endpoint_env *env)
{
    env->aws_region = getenv("AWS_REGION");
    env->aws_default_region = getenv("AWS_DEFAULT_REGION");
    env->endpoint_url_swf = getenv("AWS_ENDPOINT_URL_SWF");
    env->endpoint_url_sfn = getenv("AWS_ENDPOINT_URL_SFN");
    env->endpoint_url = getenv("AWS_ENDPOINT_URL");
    env->ignore_configured_endpoint_urls = getenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS");
    env->use_fips_endpoint = getenv("AWS_USE_FIPS_ENDPOINT");
    env->use_dualstack_endpoint = getenv("AWS_USE_DUALSTACK_ENDPOINT");
    env->aws_default_profile = getenv("AWS_DEFAULT_PROFILE");
    env->aws_profile = getenv("AWS_PROFILE");
    env->aws_config_file = getenv("AWS_CONFIG_FILE");
    env->home = getenv("HOME");
}

const char *lw_endpoint_profile(const char *explicit_profile, const struct lw_endpoint_env *env)
{
    const char *p = nonempty(explicit_profile);
    if (!p)
        p = nonempty(env->aws_default_profile);
    if (!p)
        p = nonempty(env->aws_profile);
    return p ? p : "default";
}

int lw_endpoint_load_config(const struct lw_endpoint_env *env, struct lw_ini **out,
                            struct lw_error *err)
{
    char path[PATH_MAX];
    if (lw_ini_default_path(LW_INI_CONFIG, env->aws_config_file, env->home, path,
                            sizeof path) < 0)
        return lw_ini_parse("", 0, "<no config file>", out, err);   /* no HOME: none */
    return lw_ini_load(path, out, err);
}

int lw_region_resolve(const char *explicit_region, const struct lw_endpoint_env *env,
                      const struct lw_ini *config, const char *profile,
                      struct lw_region *out, struct lw_error *err)
{
    const char *r;
    out->name[0] = '\0';
    out->source = NULL;
    if ((r = nonempty(explicit_region)))
        out->source = "explicit";
    else if ((r = nonempty(env->aws_region)))
        out->source = "AWS_REGION";
    else if ((r = nonempty(env->aws_default_region)))
        out->source = "AWS_DEFAULT_REGION";
    else if ((r = nonempty(lw_ini_profile_get(config, LW_INI_CONFIG, profile, "region"))))
        out->source = "config";
    if (!r)
        return lw_error_set(err, LW_ERR_CLIENT, false, "NoRegion",
                            "no AWS region: set --region, AWS_REGION or AWS_DEFAULT_REGION, "
                            "or region in the profile \"%.64s\" of the AWS config file",
                            profile ? profile : "default");
    if (!valid_region(r))
        return lw_error_set(err, LW_ERR_CLIENT, false, "InvalidRegion",
                            "region \"%.80s\" (from %s) is not a valid region name: use "
                            "letters, digits and '-', like us-east-1", r, out->source);
    snprintf(out->name, sizeof out->name, "%s", r);
    return 0;
}

/* ------------------------------------------------------------ custom URLs */

/* botocore's is_valid_endpoint_url host check: dot-separated labels of
 * letters, digits and '-' (no leading/trailing '-'), 1-63 each, <= 255 in
 * all, one trailing dot allowed. Also covers IPv4 addresses. */
static bool valid_hostname(const char *h, size_t n)
{
    if (n && h[n - 1] == '.')
        n--;
    if (n == 0 || n > 255)
        return false;
    size_t label = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || h[i] == '.') {
            if (label == 0 || label > 63 || h[i - 1] == '-' || h[i - label] == '-')
                return false;
            label = 0;
        } else if (is_alnum(h[i]) || h[i] == '-') {
            label++;
        } else {
            return false;
        }
    }
    return true;
}

static int url_error(struct lw_error *err, const char *url, const char *source, const char *why)
{
    /* The URL is shown unless it may carry credentials (user info). */
    int show = !strchr(url, '@') && strlen(url) < 200;
    return lw_error_set(err, LW_ERR_CLIENT, false, "InvalidEndpoint",
                        "invalid endpoint URL%s%s%s from %s: %s", show ? " \"" : "",
                        show ? url : "", show ? "\"" : "", source, why);
}

int lw_endpoint_parse_url(const char *url, const char *source, struct lw_endpoint *out,
                          struct lw_error *err)
{
    for (const unsigned char *c = (const unsigned char *)url; *c; c++)
        if (*c <= 0x20 || *c >= 0x7f)
            return url_error(err, url, source, "spaces, control characters and non-ASCII "
                             "characters are not allowed");
    const char *sep = strstr(url, "://");
    if (!sep)
        return url_error(err, url, source, "expected http://host[:port] or https://host[:port]");
    size_t slen = (size_t)(sep - url);
    if (slen == 5 && strncasecmp(url, "https", 5) == 0)
        out->tls = true;
    else if (slen == 4 && strncasecmp(url, "http", 4) == 0)
        out->tls = false;
    else
        return url_error(err, url, source, "the scheme must be http or https");
    const char *auth = sep + 3;
    size_t alen = strcspn(auth, "/?#");
    const char *rest = auth + alen;
    if (rest[0] == '/' && rest[1] == '\0')
        rest++;                                     /* the trailing slash is dropped */
    if (*rest)
        return url_error(err, url, source, "a path, query or fragment is not supported");
    if (memchr(auth, '@', alen))
        return url_error(err, url, source, "user info (user:password@) is not supported");
    if (alen == 0)
        return url_error(err, url, source, "no host");
    const char *host = auth, *port = NULL;
    size_t hlen;
    if (auth[0] == '[') {
        const char *close = memchr(auth, ']', alen);
        char addr[64];
        struct in6_addr a6;
        if (!close || (size_t)(close - auth - 1) >= sizeof addr)
            return url_error(err, url, source, "bad IPv6 address");
        memcpy(addr, auth + 1, (size_t)(close - auth - 1));
        addr[close - auth - 1] = '\0';
        if (inet_pton(AF_INET6, addr, &a6) != 1)
            return url_error(err, url, source, "bad IPv6 address");
        hlen = (size_t)(close - auth) + 1;
        if (hlen < alen && auth[hlen] != ':')
            return url_error(err, url, source, "unexpected text after the IPv6 address");
        if (hlen < alen)
            port = auth + hlen + 1;
    } else {
        const char *colon = memchr(auth, ':', alen);
        hlen = colon ? (size_t)(colon - auth) : alen;
        if (colon)
            port = colon + 1;
        if (!valid_hostname(host, hlen))
            return url_error(err, url, source, "bad host name (letters, digits, '-' and '.')");
    }
    int defport = out->tls ? 443 : 80, portnum = defport;
    if (port) {
        size_t plen = (size_t)(auth + alen - port);
        portnum = 0;
        for (size_t i = 0; i < plen; i++) {
            if (port[i] < '0' || port[i] > '9' || portnum > 65535) {
                portnum = -1;
                break;
            }
            portnum = portnum * 10 + (port[i] - '0');
        }
        if (plen == 0 || portnum < 1 || portnum > 65535)
            return url_error(err, url, source, "the port must be a number from 1 to 65535");
    }
    if (hlen >= sizeof out->host)
        return url_error(err, url, source, "host name too long");
    for (size_t i = 0; i < hlen; i++)
        out->host[i] = (host[i] >= 'A' && host[i] <= 'Z') ? (char)(host[i] - 'A' + 'a') : host[i];
    out->host[hlen] = '\0';
    out->port = portnum;
    if (portnum == defport)
        snprintf(out->host_header, sizeof out->host_header, "%s", out->host);
    else
        snprintf(out->host_header, sizeof out->host_header, "%s:%d", out->host, portnum);
    snprintf(out->url, sizeof out->url, "%s://%s", out->tls ? "https" : "http", out->host_header);
    return 0;
}

/* ------------------------------------------------------------ resolution */

/* The configured endpoint URL (steps 2-5) and its source, or NULL. */
static int configured_url(enum lw_aws_service svc, const struct lw_endpoint_env *env,
                          const struct lw_ini *config, const char *profile,
                          const char **url, const char **source, struct lw_error *err)
{
    const char *v;
    *url = NULL;
    if (svc == LW_SERVICE_SWF && (v = nonempty(env->endpoint_url_swf))) {
        *source = "AWS_ENDPOINT_URL_SWF";
    } else if (svc == LW_SERVICE_SFN && (v = nonempty(env->endpoint_url_sfn))) {
        *source = "AWS_ENDPOINT_URL_SFN";
    } else if ((v = nonempty(env->endpoint_url))) {
        *source = "AWS_ENDPOINT_URL";
    } else {
        const char *services = lw_ini_profile_get(config, LW_INI_CONFIG, profile, "services");
        if (services) {
            const char *sec = lw_ini_services_section(config, services);
            if (!sec)
                return lw_error_set(err, LW_ERR_CLIENT, false, "InvalidConfiguration",
                                    "the profile \"%.64s\" uses services = %.64s, but the "
                                    "config file has no [services %.64s] section",
                                    profile, services, services);
            v = nonempty(lw_ini_get_sub(config, sec, svc == LW_SERVICE_SWF ? "swf" : "sfn",
                                        "endpoint_url"));
            *source = "config services";
        }
        if (!v) {
            v = nonempty(lw_ini_profile_get(config, LW_INI_CONFIG, profile, "endpoint_url"));
            *source = "config endpoint_url";
        }
    }
    *url = v;
    return 0;
}

int lw_endpoint_resolve(enum lw_aws_service svc, const char *explicit_url, const char *region,
                        const struct lw_endpoint_env *env, const struct lw_ini *config,
                        const char *profile, struct lw_endpoint *out, struct lw_error *err)
{
    const char *name = svc == LW_SERVICE_SWF ? "swf" : "states";
    const char *url = nonempty(explicit_url), *source = "explicit";
    memset(out, 0, sizeof *out);
    if (!profile)
        profile = "default";
    if (!nonempty(region))
        return lw_error_set(err, LW_ERR_CLIENT, false, "NoRegion",
                            "Invalid Configuration: Missing Region (set --region, AWS_REGION "
                            "or AWS_DEFAULT_REGION, or region in the profile)");
    if (!valid_region(region))
        return lw_error_set(err, LW_ERR_CLIENT, false, "InvalidRegion",
                            "region \"%.80s\" is not a valid region name", region);
    bool ignore = setting(env->ignore_configured_endpoint_urls, config, profile,
                          "ignore_configured_endpoint_urls");
    if (!url && !ignore && configured_url(svc, env, config, profile, &url, &source, err) < 0)
        return -1;
    bool fips = setting(env->use_fips_endpoint, config, profile, "use_fips_endpoint");
    bool dual = setting(env->use_dualstack_endpoint, config, profile, "use_dualstack_endpoint");
    snprintf(out->signing_region, sizeof out->signing_region, "%s", region);
    out->signing_name = name;
    if (url) {
        if (fips)
            return lw_error_set(err, LW_ERR_CLIENT, false, "InvalidConfiguration",
                                "Invalid Configuration: FIPS and custom endpoint are not "
                                "supported (endpoint from %s)", source);
        if (dual)
            return lw_error_set(err, LW_ERR_CLIENT, false, "InvalidConfiguration",
                                "Invalid Configuration: Dualstack and custom endpoint are not "
                                "supported (endpoint from %s)", source);
        if (lw_endpoint_parse_url(url, source, out, err) < 0)
            return -1;
        out->source = source;
        return 0;
    }
    /* The rule sets (endpoint-rule-set-1.json of swf and stepfunctions). */
    const struct partition *p = partition_of(region);
    bool gov = strcmp(p->name, "aws-us-gov") == 0;
    bool fips_name = fips;
    if (fips && dual && !(p->fips && p->dualstack))
        return lw_error_set(err, LW_ERR_CLIENT, false, "InvalidConfiguration",
                            "FIPS and DualStack are enabled, but this partition does not "
                            "support one or both");
    if (fips && !dual && !p->fips)
        return lw_error_set(err, LW_ERR_CLIENT, false, "InvalidConfiguration",
                            "FIPS is enabled but this partition does not support FIPS");
    if (!fips && dual && !p->dualstack)
        return lw_error_set(err, LW_ERR_CLIENT, false, "InvalidConfiguration",
                            "DualStack is enabled but this partition does not support DualStack");
    if (fips && !dual && (svc == LW_SERVICE_SWF ? gov : strcmp(region, "us-gov-west-1") == 0))
        fips_name = false;                  /* GovCloud: the plain name is FIPS */
    if (!fips && dual && gov)
        fips_name = true;                   /* GovCloud dual-stack: the -fips name */
    int n = snprintf(out->host, sizeof out->host, "%s%s.%s.%s", name, fips_name ? "-fips" : "",
                     region, dual ? p->dualstack_dns : p->dns);
    if (n < 0 || (size_t)n >= sizeof out->host)
        return lw_error_set(err, LW_ERR_CLIENT, false, "InvalidEndpoint", "host name too long");
    out->tls = true;
    out->port = 443;
    snprintf(out->host_header, sizeof out->host_header, "%s", out->host);
    snprintf(out->url, sizeof out->url, "https://%s", out->host);
    out->source = "default";
    return 0;
}
