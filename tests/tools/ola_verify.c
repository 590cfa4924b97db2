/*
 * ola_verify.c - `ola_verify DIR`: checks the manifests under DIR.
 *
 * Stands in for `olagent verify DIR` until the CLI wires it: runs
 * ola_manifest_verify_dir, prints one line per manifest on stdout and the
 * first break on stderr. Exit 0 when every hash and link holds, 1 on a
 * break, 2 on usage errors.
 */
#include <stdio.h>

#include "outputs/manifest.h"

int main(int argc, char **argv)
{
    struct ola_err err = {0, ""};

    if (argc != 2) {
        fprintf(stderr, "usage: %s DIR\n", argv[0]);
        return 2;
    }
    if (ola_manifest_verify_dir(argv[1], stdout, &err) != 0) {
        fprintf(stderr, "verify: %s\n", err.msg);
        return 1;
    }
    return 0;
}
