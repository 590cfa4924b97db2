/*
 * fuzz_json.c - libFuzzer harness for the event parser (agent/core/json_parse.c).
 *
 * The input is any bytes. ola_json_parse must give Jansson's verdict
 * (json_loadb with JSON_REJECT_DUPLICATES) and, when both accept, a tree that
 * dumps to the same bytes, reals at 17 digits. Bytes holding a NUL must be
 * refused whatever Jansson says (2.14 skips one after a number). A refusal
 * must say where: a position inside the input, a line and a column.
 */
#include <string.h>

#include <jansson.h>

#include "agent/core/json_parse.h"
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data;
    json_t *j, *o;
    json_error_t oe;
    char *dj, *dol;

    o = ola_json_parse(p, size, &oe);
    if (o == NULL)
        OLA_FUZZ_CHECK(oe.text[0] != '\0' && oe.position >= 0 &&
                       (size_t)oe.position <= size && oe.line >= 1 && oe.column >= 1);
    if (memchr(p, '\0', size) != NULL) {
        OLA_FUZZ_CHECK(o == NULL);
        return 0;
    }
    j = json_loadb(p, size, JSON_REJECT_DUPLICATES, NULL);
    OLA_FUZZ_CHECK((j == NULL) == (o == NULL));
    if (j != NULL) {
        dj = json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(17));
        dol = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(17));
        OLA_FUZZ_CHECK(dj != NULL && dol != NULL && strcmp(dj, dol) == 0);
        OLA_FUZZ_CHECK(json_equal(j, o));
        free(dj);
        free(dol);
    }
    json_decref(j);
    json_decref(o);
    return 0;
}
