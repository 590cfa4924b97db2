/*
 * main.c - the olagent command line (placeholder until the CLI lands).
 */
#include <stdio.h>

int main(void)
{
    puts("olagent " OLA_VERSION);
    return 0;
}
