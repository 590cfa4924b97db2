/*
 * rng.h - the one pseudo-random generator: jitter, sampling, never secrets.
 */
#ifndef OLA_RNG_H
#define OLA_RNG_H

#include <stdint.h>

/* State of one generator; one per user, never shared between threads. */
struct ola_rng {
    uint64_t s;
};

/* seed 0: seeded from the clock, the pid and the generator's address. */
void ola_rng_seed(struct ola_rng *r, uint64_t seed);
/* The next 64 pseudo-random bits. */
uint64_t ola_rng_next(struct ola_rng *r);
/* Uniform in [0, n]; n = 0 gives 0. */
uint64_t ola_rng_upto(struct ola_rng *r, uint64_t n);

#endif
