/* ini.c: parser for the AWS shared config and credentials files (see ini.h).
 *
 * The line loop follows CPython's configparser.RawConfigParser._read (as
 * botocore uses it: delimiters '=' and ':', comment prefixes '#' and ';',
 * empty lines kept inside values, keys lowercased), with inline comments
 * enabled, followed by botocore's configloader._parse_nested for values
 * that start with a newline. */
#include "ini.h"
#include "buf.h"
#include "text.h"
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct ini_sub {
    char *key, *value;
    unsigned seq;
};

struct ini_entry {
    char *key;              /* lowercased */
    char *value;            /* NULL while parsing, and for sub-sections */
    struct ini_sub *subs;
    size_t nsubs, subcap;
    unsigned seq;           /* order of appearance: the last one wins */
};

struct ini_section {
    char *name;
    struct ini_entry *entries;      /* sorted by key after parsing */
    size_t n, cap;
};

struct lw_ini {
    struct ini_section *secs;       /* in order of first appearance */
    size_t n, cap;
    size_t *slots;                  /* hash of section names: index + 1, 0 = empty */
    size_t nslots;
    long defaults;                  /* index of [DEFAULT], or -1 */
};

struct parser {
    struct lw_ini *ini;
    const char *name;
    struct lw_error *err;
    long sec;                       /* current section, -1 before the first */
    long ent;                       /* current entry in it, -1 when none */
    int nested;                     /* current entry's own value is empty */
    struct lw_buf val;              /* current entry's value being joined */
    size_t indent;                  /* indentation of the last key/section line */
    unsigned line, seq;
};

static int is_ws(unsigned char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f);
}

/* Trim [*s, *e) in place. */
static void trim(const char **s, const char **e)
{
    while (*s < *e && is_ws((unsigned char)**s))
        (*s)++;
    while (*e > *s && is_ws((unsigned char)(*e)[-1]))
        (*e)--;
}

static char *dup_n(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

/* "<file>:<line>: <what>[ '<key>']" -- never a value. */
static int perr(struct parser *p, const char *what, const char *key)
{
    return lw_error_set(p->err, LW_ERR_CLIENT, false, "ConfigParseError", "%s:%u: %s%s%.64s%s",
                        p->name, p->line, what, key ? " '" : "", key ? key : "", key ? "'" : "");
}

static int oom(struct parser *p)
{
    return lw_error_set(p->err, LW_ERR_CLIENT, false, "ConfigParseError",
                        "%s: out of memory", p->name);
}

static int grow(void **arr, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t c = *cap ? *cap * 2 : 8;
    while (c < need)
        c *= 2;
    void *a = realloc(*arr, c * elem);
    if (!a)
        return -1;
    *arr = a;
    *cap = c;
    return 0;
}

/* ------------------------------------------------------------ sections */

static uint64_t hash_name(const char *s)
{
    uint64_t h = 1469598103934665603ULL;        /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static long find_section(const struct lw_ini *ini, const char *name)
{
    if (!ini || !ini->nslots)
        return -1;
    for (size_t i = hash_name(name) & (ini->nslots - 1);; i = (i + 1) & (ini->nslots - 1)) {
        size_t v = ini->slots[i];
        if (!v)
            return -1;
        if (strcmp(ini->secs[v - 1].name, name) == 0)
            return (long)(v - 1);
    }
}

static int rehash(struct lw_ini *ini, size_t nslots)
{
    size_t *slots = calloc(nslots, sizeof *slots);
    if (!slots)
        return -1;
    for (size_t k = 0; k < ini->n; k++) {
        size_t i = hash_name(ini->secs[k].name) & (nslots - 1);
        while (slots[i])
            i = (i + 1) & (nslots - 1);
        slots[i] = k + 1;
    }
    free(ini->slots);
    ini->slots = slots;
    ini->nslots = nslots;
    return 0;
}

/* The section named [s, s+n), created at the end if new. -1: no memory. */
static long add_section(struct lw_ini *ini, const char *s, size_t n)
{
    char *name = dup_n(s, n);
    if (!name)
        return -1;
    long found = find_section(ini, name);
    if (found >= 0) {
        free(name);
        return found;
    }
    if (grow((void **)&ini->secs, &ini->cap, ini->n + 1, sizeof *ini->secs) < 0) {
        free(name);
        return -1;
    }
    ini->secs[ini->n++] = (struct ini_section){ .name = name };
    if (ini->n * 2 > ini->nslots) {                 /* keep the load under 1/2 */
        if (rehash(ini, ini->nslots ? ini->nslots * 2 : 16) < 0) {
            ini->n--;
            free(name);
            return -1;
        }
    } else {
        size_t i = hash_name(name) & (ini->nslots - 1);
        while (ini->slots[i])
            i = (i + 1) & (ini->nslots - 1);
        ini->slots[i] = ini->n;
    }
    if (strcmp(name, "DEFAULT") == 0)
        ini->defaults = (long)ini->n - 1;
    return (long)ini->n - 1;
}

/* ------------------------------------------------------------ entries */

/* Store the joined value of the current entry. */
static int finish_entry(struct parser *p)
{
    if (p->ent < 0)
        return 0;
    struct ini_entry *e = &p->ini->secs[p->sec].entries[p->ent];
    p->ent = -1;
    if (e->nsubs)
        return 0;
    const char *s = p->val.p ? p->val.p : "", *end = s + p->val.len;
    while (end > s && is_ws((unsigned char)end[-1]))
        end--;
    e->value = dup_n(s, (size_t)(end - s));
    return e->value ? 0 : oom(p);
}

static int new_entry(struct parser *p, const char *k, size_t kn, const char *v, size_t vn)
{
    struct ini_section *sec = &p->ini->secs[p->sec];
    if (finish_entry(p) < 0)
        return -1;
    if (grow((void **)&sec->entries, &sec->cap, sec->n + 1, sizeof *sec->entries) < 0)
        return oom(p);
    char *key = dup_n(k, kn);
    if (!key)
        return oom(p);
    for (char *c = key; *c; c++)
        if (*c >= 'A' && *c <= 'Z')
            *c = (char)(*c - 'A' + 'a');
    sec->entries[sec->n] = (struct ini_entry){ .key = key, .seq = p->seq++ };
    p->ent = (long)sec->n++;
    p->nested = vn == 0;
    lw_buf_reset(&p->val);
    return lw_buf_append(&p->val, v, vn) < 0 ? oom(p) : 0;
}

/* A continuation line (trimmed, not empty) of the current entry. */
static int continuation(struct parser *p, const char *s, size_t n)
{
    struct ini_entry *e = &p->ini->secs[p->sec].entries[p->ent];
    if (!p->nested) {
        if (lw_buf_puts(&p->val, "\n") < 0 || lw_buf_append(&p->val, s, n) < 0)
            return oom(p);
        return 0;
    }
    const char *eq = memchr(s, '=', n);
    if (!eq)
        return perr(p, "sub-section line is not 'name = value', under key", e->key);
    const char *ks = s, *ke = eq, *vs = eq + 1, *ve = s + n;
    trim(&ks, &ke);
    trim(&vs, &ve);
    if (grow((void **)&e->subs, &e->subcap, e->nsubs + 1, sizeof *e->subs) < 0)
        return oom(p);
    struct ini_sub sub = { dup_n(ks, (size_t)(ke - ks)), dup_n(vs, (size_t)(ve - vs)), p->seq++ };
    if (!sub.key || !sub.value) {
        free(sub.key);
        free(sub.value);
        return oom(p);
    }
    e->subs[e->nsubs++] = sub;
    return 0;
}

/* One line, without its line ending. */
static int parse_line(struct parser *p, const char *line, size_t len)
{
    if (memchr(line, '\0', len))
        return perr(p, "NUL byte", NULL);
    if (!lw_utf8_valid(line, len))
        return perr(p, "invalid UTF-8", NULL);
    size_t cut = len;
    int comment = 0;
    for (size_t i = 0; i < len; i++) {
        if ((line[i] == '#' || line[i] == ';') && (i == 0 || is_ws((unsigned char)line[i - 1]))) {
            cut = i;
            comment = 1;
            break;
        }
    }
    const char *s = line, *e = line + cut;
    trim(&s, &e);
    size_t n = (size_t)(e - s);
    if (n == 0) {
        /* configparser keeps an empty line inside a value, not a comment line */
        if (!comment && p->ent >= 0 && !p->nested && lw_buf_puts(&p->val, "\n") < 0)
            return oom(p);
        return 0;
    }
    size_t indent = (size_t)(s - line);
    if (p->sec >= 0 && p->ent >= 0 && indent > p->indent)
        return continuation(p, s, n);
    p->indent = indent;
    if (s[0] == '[') {
        const char *close = NULL;
        for (const char *c = s + 2; c < e; c++)
            if (*c == ']')
                close = c;
        if (close) {
            if (finish_entry(p) < 0)
                return -1;
            p->sec = add_section(p->ini, s + 1, (size_t)(close - s - 1));
            return p->sec < 0 ? oom(p) : 0;
        }
    }
    if (p->sec < 0)
        return perr(p, "a setting before the first [section] header", NULL);
    const char *d = s;
    while (d < e && *d != '=' && *d != ':')
        d++;
    if (d == e)
        return perr(p, "not a [section] header, a 'key = value' line or a comment", NULL);
    const char *ks = s, *ke = d, *vs = d + 1, *ve = e;
    trim(&ks, &ke);
    trim(&vs, &ve);
    if (ks == ke)
        return perr(p, "a setting with an empty key", NULL);
    return new_entry(p, ks, (size_t)(ke - ks), vs, (size_t)(ve - vs));
}

static int cmp_entry(const void *a, const void *b)
{
    const struct ini_entry *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c ? c : (x->seq > y->seq) - (x->seq < y->seq);
}

static int cmp_sub(const void *a, const void *b)
{
    const struct ini_sub *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c ? c : (x->seq > y->seq) - (x->seq < y->seq);
}

static void free_entry(struct ini_entry *e)
{
    for (size_t i = 0; i < e->nsubs; i++) {
        free(e->subs[i].key);
        free(e->subs[i].value);
    }
    free(e->subs);
    free(e->key);
    free(e->value);
}

/* Sort entries (and sub-entries) by key; of repeated keys keep the last. */
static void dedupe(struct ini_section *sec)
{
    if (sec->n > 1)
        qsort(sec->entries, sec->n, sizeof *sec->entries, cmp_entry);
    size_t o = 0;
    for (size_t i = 0; i < sec->n; i++) {
        if (i + 1 < sec->n && strcmp(sec->entries[i].key, sec->entries[i + 1].key) == 0) {
            free_entry(&sec->entries[i]);
            continue;
        }
        struct ini_entry *e = &sec->entries[o++];
        *e = sec->entries[i];
        if (e->nsubs > 1)
            qsort(e->subs, e->nsubs, sizeof *e->subs, cmp_sub);
        size_t so = 0;
        for (size_t k = 0; k < e->nsubs; k++) {
            if (k + 1 < e->nsubs && strcmp(e->subs[k].key, e->subs[k + 1].key) == 0) {
                free(e->subs[k].key);
                free(e->subs[k].value);
                continue;
            }
            e->subs[so++] = e->subs[k];
        }
        e->nsubs = so;
    }
    sec->n = o;
}

int lw_ini_parse(const char *data, size_t len, const char *name, struct lw_ini **out,
                 struct lw_error *err)
{
    struct parser p = { .name = name ? name : "<buffer>", .err = err, .sec = -1, .ent = -1 };
    *out = NULL;
    lw_buf_init(&p.val, 0);
    p.ini = calloc(1, sizeof *p.ini);
    if (!p.ini)
        return oom(&p);
    p.ini->defaults = -1;
    size_t i = 0;
    if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0)
        i = 3;                                  /* UTF-8 BOM */
    int rc = 0;
    while (i < len && rc == 0) {
        size_t start = i;
        while (i < len && data[i] != '\n' && data[i] != '\r')
            i++;
        p.line++;
        rc = parse_line(&p, data + start, i - start);
        if (i < len && data[i] == '\r' && i + 1 < len && data[i + 1] == '\n')
            i++;
        i++;
    }
    if (rc == 0)
        rc = finish_entry(&p);
    lw_buf_free(&p.val);
    if (rc < 0) {
        lw_ini_free(p.ini);
        return -1;
    }
    for (size_t k = 0; k < p.ini->n; k++)
        dedupe(&p.ini->secs[k]);
    *out = p.ini;
    return 0;
}

int lw_ini_load(const char *path, struct lw_ini **out, struct lw_error *err)
{
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 && (errno == ENOENT || errno == ENOTDIR))
        return lw_ini_parse("", 0, path, out, err);
    if (fd < 0)
        return lw_error_set(err, LW_ERR_CLIENT, false, "ConfigReadError", "cannot read %s: %s",
                            path, strerror(errno));
    struct stat st;
    struct lw_buf b;
    lw_buf_init(&b, LW_INI_MAX_FILE);
    int rc = 0, stat_ok = fstat(fd, &st) == 0;
    if (stat_ok && S_ISDIR(st.st_mode)) {
        rc = lw_error_set(err, LW_ERR_CLIENT, false, "ConfigReadError",
                          "cannot read %s: it is a directory", path);
    } else if (stat_ok && S_ISREG(st.st_mode) && st.st_size > LW_INI_MAX_FILE) {
        rc = lw_error_set(err, LW_ERR_CLIENT, false, "ConfigReadError",
                          "%s is larger than %d bytes", path, LW_INI_MAX_FILE);
    } else {
        char chunk[8192];
        for (;;) {
            ssize_t r = read(fd, chunk, sizeof chunk);
            if (r < 0 && errno == EINTR)
                continue;
            if (r < 0) {
                rc = lw_error_set(err, LW_ERR_CLIENT, false, "ConfigReadError",
                                  "cannot read %s: %s", path, strerror(errno));
                break;
            }
            if (r == 0)
                break;
            if (lw_buf_append(&b, chunk, (size_t)r) < 0) {
                rc = lw_error_set(err, LW_ERR_CLIENT, false, "ConfigReadError",
                                  "%s is larger than %d bytes (or out of memory)", path,
                                  LW_INI_MAX_FILE);
                break;
            }
        }
    }
    close(fd);
    if (rc == 0)
        rc = lw_ini_parse(b.p ? b.p : "", b.len, path, out, err);
    lw_buf_free(&b);
    return rc;
}

void lw_ini_free(struct lw_ini *ini)
{
    if (!ini)
        return;
    for (size_t k = 0; k < ini->n; k++) {
        struct ini_section *sec = &ini->secs[k];
        for (size_t i = 0; i < sec->n; i++)
            free_entry(&sec->entries[i]);
        free(sec->entries);
        free(sec->name);
    }
    free(ini->secs);
    free(ini->slots);
    free(ini);
}

/* ------------------------------------------------------------ lookups */

/* Compare a stored (lowercase) key with a lookup key, case-insensitively. */
static int cmp_key_ci(const char *stored, const char *key)
{
    for (;; stored++, key++) {
        unsigned char a = (unsigned char)*stored, b = (unsigned char)*key;
        if (b >= 'A' && b <= 'Z')
            b = (unsigned char)(b - 'A' + 'a');
        if (a != b || !a)
            return (a > b) - (a < b);
    }
}

static const struct ini_entry *find_entry(const struct lw_ini *ini, long s, const char *key)
{
    if (s < 0)
        return NULL;
    const struct ini_section *sec = &ini->secs[s];
    size_t lo = 0, hi = sec->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = cmp_key_ci(sec->entries[mid].key, key);
        if (c == 0)
            return &sec->entries[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* The entry for key in section, else in [DEFAULT] (configparser's lookup). */
static const struct ini_entry *lookup(const struct lw_ini *ini, const char *section,
                                      const char *key)
{
    long s = find_section(ini, section);
    if (s < 0 || !key)
        return NULL;
    const struct ini_entry *e = find_entry(ini, s, key);
    return e ? e : find_entry(ini, ini->defaults, key);
}

const char *lw_ini_get(const struct lw_ini *ini, const char *section, const char *key)
{
    const struct ini_entry *e = section ? lookup(ini, section, key) : NULL;
    return e ? e->value : NULL;
}

const char *lw_ini_get_sub(const struct lw_ini *ini, const char *section, const char *key,
                           const char *subkey)
{
    const struct ini_entry *e = section ? lookup(ini, section, key) : NULL;
    if (!e || !subkey)
        return NULL;
    size_t lo = 0, hi = e->nsubs;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(e->subs[mid].key, subkey);
        if (c == 0)
            return e->subs[mid].value;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

bool lw_ini_has_section(const struct lw_ini *ini, const char *section)
{
    return section && find_section(ini, section) >= 0;
}

size_t lw_ini_section_count(const struct lw_ini *ini)
{
    return ini ? ini->n - (ini->defaults >= 0) : 0;
}

const char *lw_ini_section_name(const struct lw_ini *ini, size_t i)
{
    if (!ini)
        return NULL;
    if (ini->defaults >= 0 && i >= (size_t)ini->defaults)
        i++;
    return i < ini->n ? ini->secs[i].name : NULL;
}

/* Python's shlex.split(s) (POSIX mode, no comments): 1 and the second word
 * in out when s splits into exactly two words, else 0 (also when shlex
 * would raise: an unclosed quote or a trailing backslash). */
static int shlex_second(const char *s, char *out, size_t outlen)
{
    int words = 0;
    size_t o = 0;
    while (*s) {
        while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
            s++;
        if (!*s)
            break;
        words++;
        o = 0;
        while (*s && !(*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')) {
            char q = *s;
            if (q == '\\') {
                if (!s[1])
                    return 0;
                s++;
            } else if (q == '\'' || q == '"') {
                for (s++; *s != q; s++) {
                    if (!*s)
                        return 0;
                    if (q == '"' && *s == '\\' && (s[1] == '"' || s[1] == '\\'))
                        s++;
                    if (words == 2 && o + 1 < outlen)
                        out[o++] = *s;
                }
                s++;
                continue;
            }
            if (words == 2 && o + 1 < outlen)
                out[o++] = *s;
            s++;
        }
        if (words == 2)
            out[o] = '\0';
    }
    return words == 2;
}

/* The last section whose name starts with prefix and names `name`. */
static const char *find_named(const struct lw_ini *ini, const char *prefix, const char *name,
                              int also_default)
{
    const char *found = NULL;
    size_t plen = strlen(prefix);
    for (size_t k = 0; ini && name && k < ini->n; k++) {
        const char *sn = ini->secs[k].name;
        if ((long)k == ini->defaults)
            continue;
        /* botocore's order of checks: profile, sso-session, services, default */
        if (strncmp(sn, "profile", 7) == 0) {
            if (strcmp(prefix, "profile") != 0)
                continue;
        } else if (strncmp(sn, "sso-session", 11) == 0 || strncmp(sn, "services", 8) == 0) {
            if (strncmp(sn, prefix, plen) != 0)
                continue;
        } else {
            if (also_default && strcmp(sn, "default") == 0 && strcmp(name, "default") == 0)
                found = sn;
            continue;
        }
        char *word = malloc(strlen(sn) + 1);
        if (word && shlex_second(sn, word, strlen(sn) + 1) && strcmp(word, name) == 0)
            found = sn;
        free(word);
    }
    return found;
}

const char *lw_ini_profile_section(const struct lw_ini *ini, enum lw_ini_kind kind,
                                   const char *profile)
{
    if (!ini || !profile)
        return NULL;
    if (kind == LW_INI_CREDENTIALS) {
        long s = find_section(ini, profile);
        return s >= 0 && s != ini->defaults ? ini->secs[s].name : NULL;
    }
    return find_named(ini, "profile", profile, 1);
}

const char *lw_ini_services_section(const struct lw_ini *ini, const char *name)
{
    return find_named(ini, "services", name, 0);
}

const char *lw_ini_profile_get(const struct lw_ini *ini, enum lw_ini_kind kind,
                               const char *profile, const char *key)
{
    return lw_ini_get(ini, lw_ini_profile_section(ini, kind, profile), key);
}

int lw_ini_default_path(enum lw_ini_kind kind, const char *env_value, const char *home,
                        char *out, size_t outlen)
{
    int n;
    if (env_value && *env_value) {
        if (env_value[0] == '~' && (env_value[1] == '\0' || env_value[1] == '/')) {
            if (!home || !*home)
                return -1;
            n = snprintf(out, outlen, "%s%s", home, env_value + 1);
        } else {
            n = snprintf(out, outlen, "%s", env_value);
        }
    } else {
        if (!home || !*home)
            return -1;
        n = snprintf(out, outlen, "%s/.aws/%s", home,
                     kind == LW_INI_CONFIG ? "config" : "credentials");
    }
    return n < 0 || (size_t)n >= outlen ? -1 : 0;
}
