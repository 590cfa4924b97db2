/*
 * rng.c - splitmix64, the one pseudo-random generator of the agent.
 *
 * Backoff jitter and test sampling need spread, not secrecy: splitmix64 (a
 * Weyl sequence through a 64-bit finaliser) passes BigCrush, needs one word
 * of state and accepts any seed, 0 included. A range is the remainder of a
 * 64-bit draw: its bias, (n + 1) / 2^64, is below 2^-30 for any wait that
 * fits in a year of milliseconds.
 */
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#include "agent/core/rng.h"

void ola_rng_seed(struct ola_rng *r, uint64_t seed)
{
    if (seed == 0) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        seed = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
        seed ^= (uint64_t)getpid() << 32;
        seed ^= (uint64_t)(uintptr_t)r;
    }
    r->s = seed;
}

uint64_t ola_rng_next(struct ola_rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

uint64_t ola_rng_upto(struct ola_rng *r, uint64_t n)
{
    if (n == UINT64_MAX)
        return ola_rng_next(r);
    return ola_rng_next(r) % (n + 1);
}
