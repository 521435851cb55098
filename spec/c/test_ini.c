/* test_ini.c: the shared config/credentials file parser (runtime/ini.c).
 * Expected values follow botocore 1.43 (configparser + configloader), checked
 * against it where the behaviour is botocore's; the documented differences
 * (inline comments, BOM, duplicates) are tested as such. */
#include "ini.h"
#include "t.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static struct lw_error err;

static struct lw_ini *parse(const char *text)
{
    struct lw_ini *ini = NULL;
    int rc = lw_ini_parse(text, strlen(text), "test.ini", &ini, &err);
    if (rc != 0)
        fprintf(stderr, "  unexpected parse error: %s\n", err.message);
    CHECK_INT(rc, 0);
    return ini;
}

/* Parse text that must fail; returns the message (in err). */
static const char *parse_fail(const char *text)
{
    struct lw_ini *ini = (struct lw_ini *)1;
    int rc = lw_ini_parse(text, strlen(text), "bad.ini", &ini, &err);
    CHECK_INT(rc, -1);
    CHECK(ini == NULL);
    CHECK_STR(err.code, "ConfigParseError");
    if (rc == 0)
        lw_ini_free(ini);
    return err.message;
}

static void test_basic_sections_and_keys(void)
{
    struct lw_ini *ini = parse("[default]\nregion = us-east-1\noutput=json\n\n"
                               "[profile dev]\nRegion = eu-west-1\n");
    CHECK_STR(lw_ini_get(ini, "default", "region"), "us-east-1");
    CHECK_STR(lw_ini_get(ini, "default", "output"), "json");
    CHECK_STR(lw_ini_get(ini, "profile dev", "region"), "eu-west-1");  /* keys lowercased */
    CHECK_STR(lw_ini_get(ini, "profile dev", "REGION"), "eu-west-1");  /* lookup too */
    CHECK(lw_ini_get(ini, "profile dev", "output") == NULL);
    CHECK(lw_ini_get(ini, "nope", "region") == NULL);
    CHECK(lw_ini_get(ini, "Default", "region") == NULL);               /* sections are exact */
    CHECK_INT(lw_ini_section_count(ini), 2);
    CHECK_STR(lw_ini_section_name(ini, 0), "default");
    CHECK_STR(lw_ini_section_name(ini, 1), "profile dev");
    CHECK(lw_ini_section_name(ini, 2) == NULL);
    CHECK(lw_ini_has_section(ini, "profile dev"));
    CHECK(!lw_ini_has_section(ini, "dev"));
    lw_ini_free(ini);
}

static void test_whitespace_and_delimiters(void)
{
    struct lw_ini *ini = parse("[s]\n  key1   =   value with  spaces  \n\tkey2\t=\tx\t\n"
                               "colon: us-west-2\nurl = http://h:8080/p\nmix: a=b\n"
                               "eq = a:b\nempty =\nspaced key = 1\n");
    CHECK_STR(lw_ini_get(ini, "s", "key1"), "value with  spaces");
    CHECK_STR(lw_ini_get(ini, "s", "key2"), "x");
    CHECK_STR(lw_ini_get(ini, "s", "colon"), "us-west-2");       /* configparser's ':' */
    CHECK_STR(lw_ini_get(ini, "s", "url"), "http://h:8080/p");    /* first delimiter splits */
    CHECK_STR(lw_ini_get(ini, "s", "mix"), "a=b");
    CHECK_STR(lw_ini_get(ini, "s", "eq"), "a:b");
    CHECK_STR(lw_ini_get(ini, "s", "empty"), "");
    CHECK_STR(lw_ini_get(ini, "s", "spaced key"), "1");
    lw_ini_free(ini);
}

static void test_comments(void)
{
    struct lw_ini *ini = parse("# top comment\n; another\n[default] ; about default\n"
                               "  # indented comment\n"
                               "region = us-east-1 # inline after space\n"
                               "output = json\t; inline after tab\n"
                               "hash = a#b\nsemi = url;x\nbare =#x\nonly = # nothing\n"
                               "token = abc#def ;c\n");
    CHECK_STR(lw_ini_get(ini, "default", "region"), "us-east-1");
    CHECK_STR(lw_ini_get(ini, "default", "output"), "json");
    CHECK_STR(lw_ini_get(ini, "default", "hash"), "a#b");
    CHECK_STR(lw_ini_get(ini, "default", "semi"), "url;x");
    CHECK_STR(lw_ini_get(ini, "default", "bare"), "#x");
    CHECK_STR(lw_ini_get(ini, "default", "only"), "");
    CHECK_STR(lw_ini_get(ini, "default", "token"), "abc#def");
    CHECK_INT(lw_ini_section_count(ini), 1);
    lw_ini_free(ini);
}

static void test_continuation_lines(void)
{
    struct lw_ini *ini = parse("[default]\nk = a\n  b\n\n  c\n\n\nz=1\n"
                               "  y = 2\n   more\n  w = 3\n");
    CHECK_STR(lw_ini_get(ini, "default", "k"), "a\nb\n\nc");   /* trailing blank lines dropped */
    /* indented deeper than "z" (column 0): continuation, "y = 2" is text */
    CHECK_STR(lw_ini_get(ini, "default", "z"), "1\ny = 2\nmore\nw = 3");
    CHECK(lw_ini_get(ini, "default", "y") == NULL);
    lw_ini_free(ini);

    ini = parse("[default]\n  a = 1\n  b = 2\n   c\n\tt = 3\n");
    CHECK_STR(lw_ini_get(ini, "default", "a"), "1");        /* same indentation: new key */
    CHECK_STR(lw_ini_get(ini, "default", "b"), "2\nc");
    CHECK_STR(lw_ini_get(ini, "default", "t"), "3");         /* a tab is one column: 1 < 2 */
    lw_ini_free(ini);

    /* botocore quirk: an indented [header] after a key is part of its value */
    ini = parse("[default]\nregion = x\n  [foo]\nk = v\n");
    CHECK_STR(lw_ini_get(ini, "default", "region"), "x\n[foo]");
    CHECK(!lw_ini_has_section(ini, "foo"));
    CHECK_STR(lw_ini_get(ini, "default", "k"), "v");
    lw_ini_free(ini);

    /* a comment line does not end a value; an inline comment is cut */
    ini = parse("[default]\nk = a\n# note\n  b # why\n");
    CHECK_STR(lw_ini_get(ini, "default", "k"), "a\nb");
    lw_ini_free(ini);
}

static void test_sub_sections(void)
{
    struct lw_ini *ini = parse("[default]\ns3 =\n  max_concurrent_requests = 10\n"
                               "  Foo_Bar = baz = q\n\n  # c\n  empty=\n  = anon\n"
                               "  addressing_style = path # cut\nregion = r\n"
                               "blank =\n\n\nplain = v\n");
    CHECK(lw_ini_get(ini, "default", "s3") == NULL);     /* a sub-section, not a value */
    CHECK_STR(lw_ini_get_sub(ini, "default", "s3", "max_concurrent_requests"), "10");
    CHECK_STR(lw_ini_get_sub(ini, "default", "S3", "Foo_Bar"), "baz = q");
    CHECK(lw_ini_get_sub(ini, "default", "s3", "foo_bar") == NULL);   /* sub-keys keep case */
    CHECK_STR(lw_ini_get_sub(ini, "default", "s3", "empty"), "");
    CHECK_STR(lw_ini_get_sub(ini, "default", "s3", ""), "anon");
    CHECK_STR(lw_ini_get_sub(ini, "default", "s3", "addressing_style"), "path");
    CHECK(lw_ini_get_sub(ini, "default", "s3", "c") == NULL);
    CHECK_STR(lw_ini_get(ini, "default", "region"), "r");
    CHECK_STR(lw_ini_get(ini, "default", "blank"), "");   /* only blank lines: a value */
    CHECK(lw_ini_get_sub(ini, "default", "region", "x") == NULL);
    CHECK(lw_ini_get_sub(ini, "default", "missing", "x") == NULL);
    lw_ini_free(ini);

    /* repeated sub-keys: last wins */
    ini = parse("[services local]\nsfn =\n  endpoint_url = http://a\n  endpoint_url = http://b\n"
                "swf =\n  endpoint_url = http://c\n");
    CHECK_STR(lw_ini_get_sub(ini, "services local", "sfn", "endpoint_url"), "http://b");
    CHECK_STR(lw_ini_get_sub(ini, "services local", "swf", "endpoint_url"), "http://c");
    lw_ini_free(ini);
}

static void test_errors_name_line_never_value(void)
{
    const char *m = parse_fail("[default]\nregion = x\njunkSECRET\n");
    CHECK(strstr(m, "bad.ini:3:") != NULL);
    CHECK(strstr(m, "SECRET") == NULL);

    m = parse_fail("[default]\naws_secret_access_key =\n   wJalrXUtnFEMISECRET\n");
    CHECK(strstr(m, "bad.ini:3:") != NULL);
    CHECK(strstr(m, "'aws_secret_access_key'") != NULL);
    CHECK(strstr(m, "SECRET") == NULL);

    m = parse_fail("region = us-east-1\n[default]\n");
    CHECK(strstr(m, "bad.ini:1:") != NULL);
    CHECK(strstr(m, "before the first [section]") != NULL);

    m = parse_fail("[default]\n= value\n");
    CHECK(strstr(m, "bad.ini:2: a setting with an empty key") != NULL);
    m = parse_fail("[default]\n  : value\n");
    CHECK(strstr(m, "empty key") != NULL);

    m = parse_fail("[]\n");                         /* not a header: needs a name */
    CHECK(strstr(m, "bad.ini:1:") != NULL);

    m = parse_fail("[default]\nregion = \xff\xfe\n");
    CHECK(strstr(m, "bad.ini:2: invalid UTF-8") != NULL);

    struct lw_ini *ini = NULL;
    CHECK_INT(lw_ini_parse("[a]\nk = v\0x\n", 10, "nul.ini", &ini, &err), -1);
    CHECK(strstr(err.message, "nul.ini:2: NUL byte") != NULL);
    CHECK(ini == NULL);

    /* the error is reported at the first bad line */
    m = parse_fail("[a]\nok = 1\nbad1\nbad2\n");
    CHECK(strstr(m, ":3:") != NULL);
}

static void test_bom_crlf_cr(void)
{
    struct lw_ini *ini = parse("\xEF\xBB\xBF[default]\r\nregion = us-east-1\r\n"
                               "s3 =\r\n  max = 1\r\n\r\nout = json\r\n");
    CHECK_STR(lw_ini_get(ini, "default", "region"), "us-east-1");
    CHECK_STR(lw_ini_get_sub(ini, "default", "s3", "max"), "1");
    CHECK_STR(lw_ini_get(ini, "default", "out"), "json");
    lw_ini_free(ini);

    ini = parse("[default]\rregion = x\rout=y\r\n[b]\nk=v");   /* lone CR, no final newline */
    CHECK_STR(lw_ini_get(ini, "default", "region"), "x");
    CHECK_STR(lw_ini_get(ini, "default", "out"), "y");
    CHECK_STR(lw_ini_get(ini, "b", "k"), "v");
    lw_ini_free(ini);

    /* a BOM anywhere but the start is text */
    parse_fail("[a]\n\xEF\xBB\xBF[b]\n");
    parse_fail("\n\xEF\xBB\xBF");
}

static void test_empty_inputs(void)
{
    struct lw_ini *ini = parse("");
    CHECK_INT(lw_ini_section_count(ini), 0);
    CHECK(lw_ini_get(ini, "default", "region") == NULL);
    lw_ini_free(ini);
    ini = parse("\n\n   \n# only comments\n; here\n");
    CHECK_INT(lw_ini_section_count(ini), 0);
    lw_ini_free(ini);
    ini = parse("\xEF\xBB\xBF");
    CHECK_INT(lw_ini_section_count(ini), 0);
    lw_ini_free(ini);
    ini = parse("[empty]\n");
    CHECK_INT(lw_ini_section_count(ini), 1);
    CHECK(lw_ini_has_section(ini, "empty"));
    lw_ini_free(ini);
    lw_ini_free(NULL);
    CHECK(lw_ini_get(NULL, "a", "b") == NULL);
    CHECK(lw_ini_get_sub(NULL, "a", "b", "c") == NULL);
    CHECK(lw_ini_profile_section(NULL, LW_INI_CONFIG, "default") == NULL);
    CHECK_INT(lw_ini_section_count(NULL), 0);
}

static void test_duplicates_last_wins_sections_merge(void)
{
    struct lw_ini *ini = parse("[default]\nregion = a\nout = 1\nREGION = b\n[other]\nx=1\n"
                               "[default]\nregion = c\nnew = 2\n");
    CHECK_STR(lw_ini_get(ini, "default", "region"), "c");
    CHECK_STR(lw_ini_get(ini, "default", "out"), "1");
    CHECK_STR(lw_ini_get(ini, "default", "new"), "2");
    CHECK_INT(lw_ini_section_count(ini), 2);
    CHECK_STR(lw_ini_section_name(ini, 0), "default");
    CHECK_STR(lw_ini_section_name(ini, 1), "other");
    lw_ini_free(ini);

    /* a repeated key that had a sub-section is replaced whole */
    ini = parse("[d]\ns3 =\n  a = 1\ns3 = plain\n");
    CHECK_STR(lw_ini_get(ini, "d", "s3"), "plain");
    CHECK(lw_ini_get_sub(ini, "d", "s3", "a") == NULL);
    lw_ini_free(ini);
}

static void test_defaults_section(void)
{
    struct lw_ini *ini = parse("[DEFAULT]\nregion = d\ns3 =\n  max = 5\n"
                               "[default]\noutput = j\n[profile a]\nregion = a\n");
    CHECK_STR(lw_ini_get(ini, "default", "region"), "d");      /* inherited */
    CHECK_STR(lw_ini_get(ini, "profile a", "region"), "a");    /* own value first */
    CHECK_STR(lw_ini_get_sub(ini, "profile a", "s3", "max"), "5");
    CHECK_STR(lw_ini_get(ini, "DEFAULT", "region"), "d");
    CHECK(lw_ini_get(ini, "missing", "region") == NULL);       /* no section, no fallback */
    CHECK_INT(lw_ini_section_count(ini), 2);                   /* [DEFAULT] not listed */
    CHECK_STR(lw_ini_section_name(ini, 0), "default");
    CHECK_STR(lw_ini_section_name(ini, 1), "profile a");
    CHECK(lw_ini_profile_section(ini, LW_INI_CREDENTIALS, "DEFAULT") == NULL);
    CHECK(lw_ini_profile_section(ini, LW_INI_CONFIG, "DEFAULT") == NULL);
    lw_ini_free(ini);
}

static void test_section_header_quirks(void)
{
    struct lw_ini *ini = parse("[a]]\nk=1\n[ spaced ]\nk=2\n[x] trailing text\nk=3\n"
                               "[[y]\nk=4\n[z] # c ] more\nk=5\n");
    CHECK_STR(lw_ini_get(ini, "a]", "k"), "1");          /* up to the last ']' */
    CHECK_STR(lw_ini_get(ini, " spaced ", "k"), "2");    /* not trimmed */
    CHECK_STR(lw_ini_get(ini, "x", "k"), "3");           /* text after ']' ignored */
    CHECK_STR(lw_ini_get(ini, "[y", "k"), "4");
    CHECK_STR(lw_ini_get(ini, "z", "k"), "5");           /* inline comment removed first */
    lw_ini_free(ini);
}

static void test_config_profile_sections(void)
{
    struct lw_ini *ini = parse("[default]\nregion=0\n[profile  dev]\nregion=1\n"
                               "[profiles bar]\nregion=2\n[profile \"my dev\"]\nregion=3\n"
                               "[profilex]\nregion=4\n[profile a b]\nregion=5\n"
                               "[profile 'q x']\nregion=6\n[profile es\\ caped]\nregion=7\n"
                               "[profile \"open]\nregion=8\n[dev]\nregion=9\n"
                               "[services dev]\nregion=10\n[profile \"a\"'b'c]\nregion=11\n");
    CHECK_STR(lw_ini_profile_get(ini, LW_INI_CONFIG, "default", "region"), "0");
    CHECK_STR(lw_ini_profile_section(ini, LW_INI_CONFIG, "dev"), "profile  dev");
    CHECK_STR(lw_ini_profile_get(ini, LW_INI_CONFIG, "bar", "region"), "2");  /* botocore quirk */
    CHECK_STR(lw_ini_profile_get(ini, LW_INI_CONFIG, "my dev", "region"), "3");
    CHECK(lw_ini_profile_section(ini, LW_INI_CONFIG, "x") == NULL);
    CHECK(lw_ini_profile_section(ini, LW_INI_CONFIG, "a") == NULL);         /* three words */
    CHECK(lw_ini_profile_section(ini, LW_INI_CONFIG, "a b") == NULL);
    CHECK_STR(lw_ini_profile_get(ini, LW_INI_CONFIG, "q x", "region"), "6");
    CHECK_STR(lw_ini_profile_get(ini, LW_INI_CONFIG, "es caped", "region"), "7");
    CHECK(lw_ini_profile_section(ini, LW_INI_CONFIG, "open") == NULL);      /* shlex error */
    CHECK(lw_ini_profile_section(ini, LW_INI_CONFIG, "\"open") == NULL);
    CHECK_STR(lw_ini_profile_get(ini, LW_INI_CONFIG, "abc", "region"), "11");
    CHECK(lw_ini_profile_get(ini, LW_INI_CONFIG, "nope", "region") == NULL);
    /* credentials file: section name == profile name */
    CHECK_STR(lw_ini_profile_get(ini, LW_INI_CREDENTIALS, "dev", "region"), "9");
    CHECK_STR(lw_ini_profile_get(ini, LW_INI_CREDENTIALS, "profile  dev", "region"), "1");
    CHECK(lw_ini_profile_section(ini, LW_INI_CREDENTIALS, "my dev") == NULL);
    lw_ini_free(ini);
}

static void test_default_vs_profile_default_order(void)
{
    struct lw_ini *ini = parse("[default]\nregion=1\n[profile default]\nregion=2\n");
    CHECK_STR(lw_ini_profile_get(ini, LW_INI_CONFIG, "default", "region"), "2");
    lw_ini_free(ini);
    ini = parse("[profile default]\nregion=2\n[default]\nregion=1\n");
    CHECK_STR(lw_ini_profile_get(ini, LW_INI_CONFIG, "default", "region"), "1");
    CHECK_STR(lw_ini_profile_get(ini, LW_INI_CREDENTIALS, "default", "region"), "1");
    lw_ini_free(ini);
    /* merged duplicate keeps its first position */
    ini = parse("[default]\nregion=1\n[profile default]\nregion=2\n[default]\nout=x\n");
    CHECK_STR(lw_ini_profile_get(ini, LW_INI_CONFIG, "default", "region"), "2");
    lw_ini_free(ini);
}

static void test_services_sections(void)
{
    struct lw_ini *ini = parse("[default]\nregion = us-east-1\nservices = local\n"
                               "[services local]\nsfn =\n  endpoint_url = http://127.0.0.1:8083\n"
                               "swf =\n  endpoint_url = http://127.0.0.1:8084\n"
                               "[profile services x]\nregion = p\n[servicesy]\nk=1\n");
    const char *svc = lw_ini_profile_get(ini, LW_INI_CONFIG, "default", "services");
    CHECK_STR(svc, "local");
    const char *sec = lw_ini_services_section(ini, svc);
    CHECK_STR(sec, "services local");
    CHECK_STR(lw_ini_get_sub(ini, sec, "sfn", "endpoint_url"), "http://127.0.0.1:8083");
    CHECK_STR(lw_ini_get_sub(ini, sec, "swf", "endpoint_url"), "http://127.0.0.1:8084");
    CHECK(lw_ini_services_section(ini, "x") == NULL);      /* a profile section */
    CHECK(lw_ini_services_section(ini, "nope") == NULL);
    CHECK(lw_ini_services_section(ini, "servicesy") == NULL);
    CHECK(lw_ini_profile_section(ini, LW_INI_CONFIG, "local") == NULL);
    lw_ini_free(ini);
}

static void test_huge_line_and_many_sections(void)
{
    size_t n = 1024 * 1024;
    char *big = malloc(n + 64);
    strcpy(big, "[d]\nk = ");
    size_t off = strlen(big);
    memset(big + off, 'x', n);
    strcpy(big + off + n, "\nz = 1\n");
    struct lw_ini *ini = parse(big);
    CHECK_INT(strlen(lw_ini_get(ini, "d", "k")), n);
    CHECK_STR(lw_ini_get(ini, "d", "z"), "1");
    lw_ini_free(ini);
    free(big);

    /* 20000 sections and keys: hashing and sorting, not quadratic scans */
    size_t cap = 20000 * 48;
    char *many = malloc(cap);
    size_t o = 0;
    for (int i = 0; i < 20000; i++)
        o += (size_t)snprintf(many + o, cap - o, "[profile p%d]\nk%d = v%d\nk = %d\n", i, i, i, i);
    ini = parse(many);
    CHECK_INT(lw_ini_section_count(ini), 20000);
    CHECK_STR(lw_ini_profile_get(ini, LW_INI_CONFIG, "p12345", "k"), "12345");
    CHECK_STR(lw_ini_get(ini, "profile p19999", "k19999"), "v19999");
    lw_ini_free(ini);
    free(many);
}

static char tmpdir[64];

static void write_file(const char *path, const char *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (f) {
        fwrite(data, 1, n, f);
        fclose(f);
    }
}

static void test_load_files(void)
{
    char path[128];
    struct lw_ini *ini = NULL;

    snprintf(path, sizeof path, "%s/missing", tmpdir);
    CHECK_INT(lw_ini_load(path, &ini, &err), 0);
    CHECK(ini != NULL);
    CHECK_INT(lw_ini_section_count(ini), 0);
    lw_ini_free(ini);

    snprintf(path, sizeof path, "%s/missing/below", tmpdir);
    CHECK_INT(lw_ini_load(path, &ini, &err), 0);
    lw_ini_free(ini);

    snprintf(path, sizeof path, "%s/config", tmpdir);
    const char *text = "[profile x]\nregion = ap-south-1\n";
    write_file(path, text, strlen(text));
    CHECK_INT(lw_ini_load(path, &ini, &err), 0);
    CHECK_STR(lw_ini_profile_get(ini, LW_INI_CONFIG, "x", "region"), "ap-south-1");
    lw_ini_free(ini);

    snprintf(path, sizeof path, "%s/broken", tmpdir);
    text = "[x]\nsecret-ish line\n";
    write_file(path, text, strlen(text));
    CHECK_INT(lw_ini_load(path, &ini, &err), -1);
    CHECK(ini == NULL);
    CHECK(strstr(err.message, path) != NULL);
    CHECK(strstr(err.message, ":2:") != NULL);
    CHECK(strstr(err.message, "secret-ish") == NULL);

    CHECK_INT(lw_ini_load(tmpdir, &ini, &err), -1);          /* a directory */
    CHECK_STR(err.code, "ConfigReadError");
    CHECK(strstr(err.message, tmpdir) != NULL);

    snprintf(path, sizeof path, "%s/huge", tmpdir);
    size_t n = LW_INI_MAX_FILE + 1;
    char *data = malloc(n);
    memset(data, '#', n);
    write_file(path, data, n);
    free(data);
    CHECK_INT(lw_ini_load(path, &ini, &err), -1);
    CHECK_STR(err.code, "ConfigReadError");
    CHECK(strstr(err.message, path) != NULL);
    CHECK(strstr(err.message, "larger than") != NULL);

    snprintf(path, sizeof path, "%s/exact", tmpdir);       /* exactly the limit is fine */
    data = malloc(LW_INI_MAX_FILE);
    memset(data, ';', LW_INI_MAX_FILE);
    write_file(path, data, LW_INI_MAX_FILE);
    free(data);
    CHECK_INT(lw_ini_load(path, &ini, &err), 0);
    lw_ini_free(ini);

    CHECK_INT(lw_ini_load("/dev/null", &ini, &err), 0);     /* AWS_CONFIG_FILE=/dev/null */
    CHECK_INT(lw_ini_section_count(ini), 0);
    lw_ini_free(ini);

    if (geteuid() != 0) {                                    /* root reads anything */
        snprintf(path, sizeof path, "%s/config", tmpdir);
        chmod(path, 0);
        CHECK_INT(lw_ini_load(path, &ini, &err), -1);
        CHECK_STR(err.code, "ConfigReadError");
        CHECK(strstr(err.message, "Permission denied") != NULL);
    }
}

static void test_default_path(void)
{
    char out[256];
    CHECK_INT(lw_ini_default_path(LW_INI_CONFIG, NULL, "/home/u", out, sizeof out), 0);
    CHECK_STR(out, "/home/u/.aws/config");
    CHECK_INT(lw_ini_default_path(LW_INI_CREDENTIALS, "", "/home/u", out, sizeof out), 0);
    CHECK_STR(out, "/home/u/.aws/credentials");
    CHECK_INT(lw_ini_default_path(LW_INI_CONFIG, "/etc/aws.cfg", NULL, out, sizeof out), 0);
    CHECK_STR(out, "/etc/aws.cfg");
    CHECK_INT(lw_ini_default_path(LW_INI_CONFIG, "~/cfg", "/h", out, sizeof out), 0);
    CHECK_STR(out, "/h/cfg");
    CHECK_INT(lw_ini_default_path(LW_INI_CONFIG, "~", "/h", out, sizeof out), 0);
    CHECK_STR(out, "/h");
    CHECK_INT(lw_ini_default_path(LW_INI_CONFIG, "~other/cfg", "/h", out, sizeof out), 0);
    CHECK_STR(out, "~other/cfg");
    CHECK_INT(lw_ini_default_path(LW_INI_CONFIG, "~/cfg", NULL, out, sizeof out), -1);
    CHECK_INT(lw_ini_default_path(LW_INI_CONFIG, NULL, "", out, sizeof out), -1);
    CHECK_INT(lw_ini_default_path(LW_INI_CONFIG, NULL, "/home/u", out, 10), -1);
}

static unsigned rnd_state = 12345;

static unsigned rnd(unsigned n)
{
    rnd_state = rnd_state * 1103515245u + 12345u;
    return (rnd_state >> 8) % n;
}

/* Append a random word over characters that matter to the parser. */
static size_t rnd_word(char *buf, size_t o, size_t max)
{
    static const char chars[] = "abcAB_-. \t\"'\\#;=:[]~";
    for (unsigned k = rnd(8); k > 0 && o < max; k--)
        buf[o++] = chars[rnd(sizeof chars - 1)];
    return o;
}

/* Random inputs built from line shapes (headers, settings, continuations,
 * comments, blank and garbage lines, mixed line endings, stray bytes):
 * each parse succeeds or fails with a message naming the buffer, and
 * nothing crashes or leaks (run under ASan/valgrind). */
static void test_random_inputs(void)
{
    char buf[512];
    int ok = 0, bad = 0;
    for (int i = 0; i < 20000; i++) {
        size_t n = 0, max = sizeof buf - 16;
        for (unsigned lines = rnd(10); lines > 0 && n < max; lines--) {
            switch (rnd(8)) {
            case 0: buf[n++] = '['; n = rnd_word(buf, n, max); buf[n++] = ']'; break;
            case 1: case 2: case 3:
                n = rnd_word(buf, n, max);
                buf[n++] = rnd(2) ? '=' : ':';
                n = rnd_word(buf, n, max);
                break;
            case 4:
                for (unsigned k = rnd(4) + 1; k > 0; k--)
                    buf[n++] = rnd(2) ? ' ' : '\t';
                n = rnd_word(buf, n, max);
                break;
            case 5: buf[n++] = rnd(2) ? '#' : ';'; n = rnd_word(buf, n, max); break;
            case 6: break;
            default: n = rnd_word(buf, n, max); break;
            }
            if (rnd(32) == 0)
                buf[n++] = (char)(rnd(2) ? 0xff : 0xef);    /* invalid UTF-8 */
            if (rnd(64) == 0)
                buf[n++] = '\0';
            unsigned eol = rnd(4);
            if (eol != 1)
                buf[n++] = eol == 0 ? '\r' : '\n';
            if (eol == 1) {
                buf[n++] = '\r';
                buf[n++] = '\n';
            }
        }
        struct lw_ini *ini = NULL;
        if (lw_ini_parse(buf, n, "fuzz", &ini, &err) == 0) {
            ok++;
            for (size_t s = 0; s < lw_ini_section_count(ini); s++) {
                const char *name = lw_ini_section_name(ini, s);
                lw_ini_get(ini, name, "a");
                lw_ini_get_sub(ini, name, "a", "b");
            }
            lw_ini_profile_section(ini, LW_INI_CONFIG, "a");
            lw_ini_services_section(ini, "a");
            lw_ini_free(ini);
        } else {
            bad++;
            CHECK(strncmp(err.message, "fuzz:", 5) == 0);
            CHECK(ini == NULL);
        }
    }
    printf("     random inputs: %d parsed, %d rejected\n", ok, bad);
    CHECK(ok > 1000);
    CHECK(bad > 1000);
}

int main(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/lw_test_ini.XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    RUN(test_basic_sections_and_keys);
    RUN(test_whitespace_and_delimiters);
    RUN(test_comments);
    RUN(test_continuation_lines);
    RUN(test_sub_sections);
    RUN(test_errors_name_line_never_value);
    RUN(test_bom_crlf_cr);
    RUN(test_empty_inputs);
    RUN(test_duplicates_last_wins_sections_merge);
    RUN(test_defaults_section);
    RUN(test_section_header_quirks);
    RUN(test_config_profile_sections);
    RUN(test_default_vs_profile_default_order);
    RUN(test_services_sections);
    RUN(test_huge_line_and_many_sections);
    RUN(test_load_files);
    RUN(test_default_path);
    RUN(test_random_inputs);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmpdir);
    return T_DONE();
}
