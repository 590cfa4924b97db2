/*
 * regex_guard.h - limits a rule's regex must meet before regcomp sees it.
 *
 * glibc's regcomp unrolls counted repetitions and computes epsilon closures
 * over the result, so a short pattern can cost seconds and gigabytes to
 * compile ("(x{0,1000}){0,1000}", "((x*)*){0,20}" five times), and its
 * backreference matcher crashes on some patterns (CVE-2019-9192,
 * "(|)(\1\1)*"). The guard reads the pattern the way regcomp does (POSIX
 * ERE, REG_EXTENDED) and refuses these shapes up front. What it accepts is
 * listed in docs/rules.md ("Regular expressions").
 */
#ifndef OLA_REGEX_GUARD_H
#define OLA_REGEX_GUARD_H

#include <stddef.h>

#define OLA_RE_MAX_LEN     1024 /* bytes of pattern */
#define OLA_RE_MAX_COUNT   100  /* m and n in {m}, {m,}, {m,n} */
#define OLA_RE_MAX_PRODUCT 1000 /* repetition factors multiplied along a nesting */
#define OLA_RE_MAX_SIZE    2000 /* elements once every repetition is unrolled */
#define OLA_RE_MAX_DEPTH   32   /* groups inside groups */

/*
 * Checks pattern (NUL-terminated, borrowed) against the limits above.
 * Returns 0 when regcomp may compile it (regcomp still reports plain syntax
 * errors such as an unclosed group), or -1 with a one-line reason in
 * why[0..n) ("backreference \1 at offset 4 is not supported"). Pure and
 * thread-safe; runs in time linear in the pattern's length.
 */
int ola_regex_guard(const char *pattern, char *why, size_t n);

#endif
