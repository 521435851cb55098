/* creds_file.c: the environment source, the shared credentials and config
 * files (parsed by ini.c), and the check for profile features luaworker does
 * not support (assume role, web identity, SSO, console login). */
#define LW_CREDS_INTERNAL
#include "creds.h"
#include "ini.h"
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- environment ---- */

static const char *env_nonempty(struct lw_creds *c, const char *name)
{
    const char *v = lw_creds_getenv(c, name);
    return v && *v ? v : NULL;
}

int lw_creds_src_env(struct lw_creds_fetch *f)
{
    struct lw_creds *c = f->c;
    if (c->profile_from_config) {
        /* botocore: a profile given explicitly removes the environment provider */
        lw_creds_tried(f, "environment (skipped: profile \"%s\" given)", c->profile);
        return LW_STEP_SKIP;
    }
    const char *akid = env_nonempty(c, "AWS_ACCESS_KEY_ID");
    const char *secret = env_nonempty(c, "AWS_SECRET_ACCESS_KEY");
    if (!akid && !secret) {
        lw_creds_tried(f, "environment");
        return LW_STEP_SKIP;
    }
    if (!secret)
        return lw_creds_fail(f, "CredentialsConfigError", false,
                             "AWS_ACCESS_KEY_ID (%.40s) is set but AWS_SECRET_ACCESS_KEY is not: "
                             "set both or neither", akid);
    if (!akid)
        return lw_creds_fail(f, "CredentialsConfigError", false,
                             "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not: "
                             "set both or neither");
    /* botocore looks at the legacy AWS_SECURITY_TOKEN first */
    const char *token = env_nonempty(c, "AWS_SECURITY_TOKEN");
    if (!token)
        token = env_nonempty(c, "AWS_SESSION_TOKEN");
    return lw_creds_make(f, LW_SRC_ENV, akid, secret, token,
                         env_nonempty(c, "AWS_CREDENTIAL_EXPIRATION"),
                         "AWS_CREDENTIAL_EXPIRATION in the environment");
}

/* ---- the shared files (ini.c parses them) ---- */

static int load_one(struct lw_creds_fetch *f, enum lw_ini_kind kind, const char *env,
                    char **path, struct lw_ini **ini, bool *exists)
{
    const char *home = lw_creds_getenv(f->c, "HOME");
    char pwbuf[1024], buf[4096];
    struct passwd pw, *pwp = NULL;
    if ((!home || !*home) && getpwuid_r(getuid(), &pw, pwbuf, sizeof pwbuf, &pwp) == 0 && pwp)
        home = pw.pw_dir;           /* as Python's expanduser without HOME */
    if (lw_ini_default_path(kind, lw_creds_getenv(f->c, env), home, buf, sizeof buf) < 0)
        return lw_creds_fail(f, "CredentialsConfigError", false,
                             "cannot place the %s file: %s is unset and HOME is unknown",
                             kind == LW_INI_CONFIG ? "config" : "shared credentials", env);
    if (!(*path = strdup(buf)))
        return lw_creds_fail(f, "OutOfMemory", true, "out of memory");
    struct stat st;
    *exists = stat(buf, &st) == 0;  /* for messages only: ini.c treats absent as empty */
    struct lw_error e;
    lw_error_clear(&e);
    if (lw_ini_load(buf, ini, &e) < 0)      /* names the file and line, never a value */
        return lw_creds_fail(f, "CredentialsConfigError", false, "%s", e.message);
    return 0;
}

int lw_creds_files_load(struct lw_creds_fetch *f)
{
    struct lw_creds_files *fl = &f->files;
    if (fl->loaded)
        return 0;
    if (load_one(f, LW_INI_CREDENTIALS, "AWS_SHARED_CREDENTIALS_FILE", &fl->cred_path,
                 &fl->cred, &fl->cred_exists) < 0
        || load_one(f, LW_INI_CONFIG, "AWS_CONFIG_FILE", &fl->config_path, &fl->config,
                    &fl->config_exists) < 0) {
        lw_creds_files_free(fl);
        return -1;
    }
    /* [NAME] in credentials; [default] / [profile NAME] in config, the last
     * one in the file when both [default] and [profile default] exist */
    fl->cred_sec = lw_ini_profile_section(fl->cred, LW_INI_CREDENTIALS, f->c->profile);
    fl->config_sec = lw_ini_profile_section(fl->config, LW_INI_CONFIG, f->c->profile);
    fl->loaded = true;
    return 0;
}

void lw_creds_files_free(struct lw_creds_files *fl)
{
    lw_ini_free(fl->cred);
    lw_ini_free(fl->config);
    free(fl->cred_path);
    free(fl->config_path);
    memset(fl, 0, sizeof *fl);
}

/* botocore merges the credentials file's profile over the config file's. */
const char *lw_creds_profile_get(struct lw_creds_fetch *f, const char *key)
{
    struct lw_creds_files *fl = &f->files;
    const char *v = fl->cred_sec ? lw_ini_get(fl->cred, fl->cred_sec, key) : NULL;
    if (!v && fl->config_sec)
        v = lw_ini_get(fl->config, fl->config_sec, key);
    return v;
}

/* ---- profile features that are not supported ---- */

int lw_creds_src_unsupported(struct lw_creds_fetch *f)
{
    struct lw_creds *c = f->c;
    if (env_nonempty(c, "AWS_WEB_IDENTITY_TOKEN_FILE") && env_nonempty(c, "AWS_ROLE_ARN"))
        return lw_creds_fail(f, "CredentialsConfigError", false,
                             "AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN are set: web identity "
                             "credentials (STS AssumeRoleWithWebIdentity) are not supported by "
                             "luaworker; unset them, or use credential_process in a profile");
    if (lw_creds_files_load(f) < 0)
        return LW_STEP_FAIL;
    struct lw_creds_files *fl = &f->files;
    if (c->profile_explicit && !fl->cred_sec && !fl->config_sec)
        return lw_creds_fail(f, "CredentialsConfigError", false,
                             "profile \"%s\" not found in %s or %s", c->profile, fl->cred_path,
                             fl->config_path);
    /* botocore's order: assume role, web identity and SSO come before the
     * static keys of the credentials file, and login before credential_process */
    static const struct { const char *key, *what; } unsupported[] = {
        { "role_arn", "role_arn (STS AssumeRole)" },
        { "web_identity_token_file", "web_identity_token_file (STS AssumeRoleWithWebIdentity)" },
        { "sso_session", "sso_session (IAM Identity Center)" },
        { "sso_start_url", "sso_start_url (IAM Identity Center)" },
        { "sso_account_id", "sso_account_id (IAM Identity Center)" },
        { "sso_role_name", "sso_role_name (IAM Identity Center)" },
        { "login_session", "login_session (console login)" },
    };
    for (size_t i = 0; i < sizeof unsupported / sizeof unsupported[0]; i++)
        if (lw_creds_profile_get(f, unsupported[i].key))
            return lw_creds_fail(f, "CredentialsConfigError", false,
                                 "profile \"%s\" uses %s, which luaworker does not support; use "
                                 "credential_process instead (for example: credential_process = "
                                 "aws configure export-credentials --profile %s --format process)",
                                 c->profile, unsupported[i].what, c->profile);
    return LW_STEP_SKIP;
}

/* ---- static keys from either file ---- */

static int static_keys(struct lw_creds_fetch *f, int src, const struct lw_ini *ini,
                       const char *section, const char *title, const char *path)
{
    const char *akid = lw_ini_get(ini, section, "aws_access_key_id");
    const char *secret = lw_ini_get(ini, section, "aws_secret_access_key");
    /* botocore looks at the legacy aws_security_token first */
    const char *token = lw_ini_get(ini, section, "aws_security_token");
    if (!token || !*token)
        token = lw_ini_get(ini, section, "aws_session_token");
    if (akid && !*akid)
        akid = NULL;
    if (secret && !*secret)
        secret = NULL;
    if (!akid && !secret) {
        lw_creds_tried(f, "%s (%s, profile \"%s\": no keys)", title, path, f->c->profile);
        return LW_STEP_SKIP;
    }
    if (!akid || !secret)
        return lw_creds_fail(f, "CredentialsConfigError", false,
                             "%s %s, [%s]: %s is set but %s is not", title, path, section,
                             akid ? "aws_access_key_id" : "aws_secret_access_key",
                             akid ? "aws_secret_access_key" : "aws_access_key_id");
    char what[400];
    snprintf(what, sizeof what, "%s %.300s", title, path);
    return lw_creds_make(f, src, akid, secret, token, NULL, what);
}

/* A file without the profile: skipped, and said so in "tried". */
static int no_profile(struct lw_creds_fetch *f, const char *title, const char *path,
                      bool exists)
{
    if (exists)
        lw_creds_tried(f, "%s (%s, no profile \"%s\")", title, path, f->c->profile);
    else
        lw_creds_tried(f, "%s (%s: not found)", title, path);
    return LW_STEP_SKIP;
}

int lw_creds_src_shared_file(struct lw_creds_fetch *f)
{
    struct lw_creds_files *fl = &f->files;
    if (lw_creds_files_load(f) < 0)
        return LW_STEP_FAIL;
    if (!fl->cred_sec)
        return no_profile(f, "shared credentials file", fl->cred_path, fl->cred_exists);
    return static_keys(f, LW_SRC_SHARED_FILE, fl->cred, fl->cred_sec,
                       "shared credentials file", fl->cred_path);
}

int lw_creds_src_config_file(struct lw_creds_fetch *f)
{
    struct lw_creds_files *fl = &f->files;
    if (lw_creds_files_load(f) < 0)
        return LW_STEP_FAIL;
    if (!fl->config_sec)
        return no_profile(f, "config file", fl->config_path, fl->config_exists);
    return static_keys(f, LW_SRC_CONFIG_FILE, fl->config, fl->config_sec, "config file",
                       fl->config_path);
}
