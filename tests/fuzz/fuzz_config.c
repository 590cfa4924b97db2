/*
 * fuzz_config.c - libFuzzer harness for the YAML config loader (config/).
 *
 * The input is written to a temporary file (mode 0644, so the literal-secret
 * check runs too) and loaded with ola_cfg_load_file, as `olagent run` does;
 * then the settings are read, the masked dump is written to /dev/null, each
 * output's format options are read, and every typed reader is run on every
 * key of every map, so the duration, size, percent, bool and number parsers
 * see fuzzed text. Checks: a failure always says why and, for the file,
 * where ("file:line: ..." or "file: ..."); an accepted document has sane
 * settings. stdin is /dev/null so a client_secret_file of /dev/stdin cannot
 * hang a run.
 */
#include <string.h>
#include <unistd.h>

#include "agent/settings.h"
#include "config/config.h"
#include "fuzz.h"
#include "outputs/formats/format.h"

static char ola_fz_dir[64];
static char ola_fz_path[128];
static FILE *ola_fz_null;

static void ola_fz_cleanup(void)
{
    if (ola_fz_path[0] != '\0')
        unlink(ola_fz_path);
    if (ola_fz_dir[0] != '\0')
        rmdir(ola_fz_dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    ola_fuzz_tmpdir(ola_fz_dir, sizeof(ola_fz_dir), "config");
    snprintf(ola_fz_path, sizeof(ola_fz_path), "%s/olagent.yaml", ola_fz_dir);
    atexit(ola_fz_cleanup);
    ola_fz_null = ola_fuzz_quiet_log();
    if (freopen("/dev/null", "r", stdin) == NULL)
        abort();
    /* variables the fuzzer can reach through ${...} */
    setenv("OLA_FZ_SECRET", "s3cr3t", 1);
    setenv("OLA_FZ_EMPTY", "", 1);
    setenv("OLA_FZ_URL", "https://acme.onelogin.com", 1);
    return 0;
}

/* Every typed reader on every key of every map below n. */
static void ola_fz_readers(const struct ola_cfg *n, int depth)
{
    static const char *const names[] = {"us", "eu", "text", "json", NULL};
    size_t i;

    if (depth > 80)
        return;
    if (ola_cfg_type(n) == OLA_CFG_SEQ) {
        for (i = 0; i < ola_cfg_len(n); i++)
            ola_fz_readers(ola_cfg_at(n, i), depth + 1);
        return;
    }
    if (ola_cfg_type(n) != OLA_CFG_MAP)
        return;
    for (i = 0; i < ola_cfg_len(n); i++) {
        const char *key = ola_cfg_key_at(n, i);
        struct ola_err err;
        const char *s;
        long long ll;
        double d;
        bool b;
        int64_t ms;
        uint64_t sz;
        int e;

        OLA_FUZZ_CHECK(key != NULL);
        OLA_FUZZ_CHECK(ola_cfg_key_line(n, i) > 0);
        if (ola_cfg_str(n, key, NULL, &s, &err) != 0)
            OLA_FUZZ_CHECK(err.msg[0] != '\0');
        if (ola_cfg_int(n, key, 0, -1000, 1000, &ll, &err) == 0)
            OLA_FUZZ_CHECK(ll >= -1000 && ll <= 1000);
        if (ola_cfg_duration(n, key, 0, 1, INT64_C(86400000), &ms, &err) == 0)
            OLA_FUZZ_CHECK(ms == 0 || (ms >= 1 && ms <= INT64_C(86400000)));
        (void)ola_cfg_double(n, key, 0, &d, &err);
        (void)ola_cfg_bool(n, key, false, &b, &err);
        (void)ola_cfg_size(n, key, 0, &sz, &err);
        (void)ola_cfg_percent(n, key, 0, &d, &err);
        if (ola_cfg_enum(n, key, names, 0, &e, &err) == 0)
            OLA_FUZZ_CHECK(e >= 0 && e < 4);
        (void)ola_cfg_path(ola_cfg_get(n, key));
        ola_fz_readers(ola_cfg_get(n, key), depth + 1);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ola_cfg_doc *doc = NULL;
    struct ola_settings s;
    struct ola_err err;
    size_t i, plen = strlen(ola_fz_path);

    if (ola_fuzz_write_file(ola_fz_path, data, size, 0644) != 0)
        abort();
    if (ola_cfg_load_file(ola_fz_path, &doc, &err) != 0) {
        /* every load error names the file first */
        OLA_FUZZ_CHECK(doc == NULL);
        OLA_FUZZ_CHECK(strncmp(err.msg, ola_fz_path, plen) == 0 && err.msg[plen] == ':');
        return 0;
    }
    OLA_FUZZ_CHECK(ola_cfg_root(doc) != NULL);
    ola_fz_readers(ola_cfg_root(doc), 0);
    ola_cfg_dump(doc, ola_fz_null);
    if (ola_settings_load(doc, INT64_C(1700000000000), &s, &err) != 0) {
        OLA_FUZZ_CHECK(strncmp(err.msg, ola_fz_path, plen) == 0 ||
                       strstr(err.msg, "out of memory") != NULL);
        goto out;
    }
    OLA_FUZZ_CHECK(s.onelogin.base_url != NULL && s.onelogin.client_id != NULL &&
                   s.onelogin.client_secret != NULL);
    OLA_FUZZ_CHECK(strncmp(s.onelogin.base_url, "https://", 8) == 0 ||
                   s.onelogin.allow_insecure_http);
    OLA_FUZZ_CHECK(s.n_outputs >= 1 && s.n_outputs <= OLA_MAX_OUTPUTS);
    OLA_FUZZ_CHECK(s.onelogin.late_sweep_ms >= s.onelogin.poll_interval_ms);
    for (i = 0; i < s.n_outputs; i++) {
        struct ola_format_opts fo;

        OLA_FUZZ_CHECK(s.outputs[i].type != NULL && s.outputs[i].name != NULL);
        if (ola_format_opts_load(s.outputs[i].node, &fo, &err) == 0)
            OLA_FUZZ_CHECK(fo.leef_delim != '\0');
    }
out:
    ola_cfg_doc_destroy(doc);
    return 0;
}
