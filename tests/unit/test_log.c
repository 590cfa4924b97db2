/*
 * test_log.c - the logger writes one line per call, whatever the message holds.
 *
 * Messages carry strings from outside (an API error message, a field of an
 * event, a file name), so the logger escapes them itself after formatting:
 * a line break cannot forge a second line, ESC cannot reach a terminal, and
 * bytes that are not UTF-8 do not make a JSON line invalid. Each case logs
 * through ola_log_write into a temporary stream and reads back exactly what
 * was written, in the text and the JSON format.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "agent/core/log.h"

/* Logs "%s" of msg (and comp) in fmt; returns what was written (caller frees). */
static char *logged(enum ola_log_format fmt, const char *comp, const char *msg)
{
    FILE *f = tmpfile();
    char *text;
    long len;

    assert_non_null(f);
    ola_log_setup(OLA_LOG_DEBUG, fmt, f);
    ola_log_write(OLA_LOG_WARN, comp, 0, "got: %s", msg);
    ola_log_setup(OLA_LOG_INFO, OLA_LOG_TEXT, NULL);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    len = ftell(f);
    assert_true(len > 0);
    rewind(f);
    text = calloc(1, (size_t)len + 1);
    assert_non_null(text);
    assert_int_equal(fread(text, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    return text;
}

/* One line, ended by its only newline, with no control byte, and valid UTF-8. */
static void assert_one_clean_line(const char *line)
{
    size_t i, n = strlen(line);
    json_t *utf8;

    assert_true(n > 0 && line[n - 1] == '\n');
    for (i = 0; i + 1 < n; i++) {
        unsigned char c = (unsigned char)line[i];

        if (c < 0x20 || c == 0x7f)
            fail_msg("control byte 0x%02x at %zu in: %s", c, i, line);
    }
    utf8 = json_stringn(line, n); /* NULL when the bytes are not UTF-8 */
    if (utf8 == NULL)
        fail_msg("not UTF-8: %s", line);
    json_decref(utf8);
}

/* The text of a text line after "level comp: ", without the newline. */
static const char *text_msg(const char *line, const char *comp)
{
    char prefix[64];
    const char *p;

    snprintf(prefix, sizeof(prefix), " warn %s: ", comp);
    p = strstr(line, prefix);
    assert_non_null(p);
    return p + strlen(prefix);
}

static const char hostile[] = "bad\nX 2026-01-01T00:00:00.000Z error agent: forged\r"
                              "\x1b[31mred\x1b[0m\ttab \xff\xfe \xc3( end\x7f \\ "
                              "\xc2\x9b"
                              "c1 ok\xc3\xa9";

/* Text: every control character, DEL, C1 control and stray byte is escaped. */
static void test_text_escapes(void **state)
{
    char *line = logged(OLA_LOG_TEXT, "source", hostile);

    (void)state;
    assert_one_clean_line(line);
    assert_string_equal(text_msg(line, "source"),
                        "got: bad\\nX 2026-01-01T00:00:00.000Z error agent: forged\\r"
                        "\\x1b[31mred\\x1b[0m\\ttab \\xff\\xfe \\xc3( end\\x7f \\\\ "
                        "\\u009bc1 ok\xc3\xa9\n");
    free(line);
}

/* JSON: the same message is one valid JSON object whose msg holds the escapes. */
static void test_json_escapes(void **state)
{
    char *line = logged(OLA_LOG_JSON, "source", hostile);
    json_error_t jerr;
    json_t *j;
    const char *msg;

    (void)state;
    assert_true(strchr(line, '\n') == line + strlen(line) - 1);
    for (const char *p = line; *p != '\n'; p++)
        assert_true((unsigned char)*p >= 0x20 && *p != 0x7f);
    j = json_loads(line, 0, &jerr);
    if (j == NULL)
        fail_msg("not JSON (%s): %s", jerr.text, line);
    msg = json_string_value(json_object_get(j, "msg"));
    assert_non_null(msg);
    /* control characters travel as JSON escapes, so a reader gets them back;
     * bytes that are not UTF-8 cannot, and read as \xHH */
    assert_string_equal(msg, "got: bad\nX 2026-01-01T00:00:00.000Z error agent: forged\r"
                             "\x1b[31mred\x1b[0m\ttab \\xff\\xfe \\xc3( end\x7f \\ "
                             "\xc2\x9b"
                             "c1 ok\xc3\xa9");
    assert_non_null(strstr(line, "\\u001b[31m"));
    assert_non_null(strstr(line, "\\u009b"));
    assert_string_equal(json_string_value(json_object_get(j, "comp")), "source");
    json_decref(j);
    free(line);
}

/* A string with a NUL (a JSON "\u0000" decoded) is cut at the NUL by %s. */
static void test_nul_truncates(void **state)
{
    static const char with_nul[] = "before\0\nX forged line";
    char *t = logged(OLA_LOG_TEXT, "page", with_nul);
    char *j = logged(OLA_LOG_JSON, "page", with_nul);

    (void)state;
    assert_one_clean_line(t);
    assert_string_equal(text_msg(t, "page"), "got: before\n");
    assert_one_clean_line(j);
    assert_non_null(strstr(j, "\"msg\":\"got: before\"}"));
    free(t);
    free(j);
}

/* The component name is escaped too; a plain line is left as it is. */
static void test_comp_and_plain(void **state)
{
    char *t = logged(OLA_LOG_TEXT, "out\nput", "plain, ok: 100%");
    char *j;

    (void)state;
    assert_one_clean_line(t);
    assert_string_equal(text_msg(t, "out\\nput"), "got: plain, ok: 100%\n");
    j = logged(OLA_LOG_JSON, "out\"put", "a \"quoted\" word");
    assert_one_clean_line(j);
    assert_non_null(strstr(j, "\"comp\":\"out\\\"put\",\"msg\":\"got: a \\\"quoted\\\" "
                              "word\"}"));
    free(t);
    free(j);
}

/* A message longer than the format buffer is cut, still as one clean line. */
static void test_long_message(void **state)
{
    char *big = malloc(10000), *t;
    size_t i;

    (void)state;
    assert_non_null(big);
    for (i = 0; i < 9999; i++)
        big[i] = i % 50 == 49 ? '\n' : (char)('a' + i % 26);
    big[9999] = '\0';
    t = logged(OLA_LOG_TEXT, "x", big);
    assert_one_clean_line(t);
    assert_non_null(strstr(t, "...\n"));
    free(t);
    free(big);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text_escapes),  cmocka_unit_test(test_json_escapes),
        cmocka_unit_test(test_nul_truncates), cmocka_unit_test(test_comp_and_plain),
        cmocka_unit_test(test_long_message),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
