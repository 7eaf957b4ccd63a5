/*
 * clock.h - monotonic milliseconds, for deadlines and elapsed times;
 * wall-clock milliseconds since the epoch, for times others read (the
 * run object, the store).
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
