/*
 * clock.h - monotonic milliseconds, for deadlines and elapsed times; and
 * the wall clock in milliseconds since the epoch, for what is stored or
 * sent (leases, webhook timestamps).
 */
#ifndef MJ_CLOCK_H
#define MJ_CLOCK_H

#include <time.h>

static inline long long
clock_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline long long
clock_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#endif /* MJ_CLOCK_H */
