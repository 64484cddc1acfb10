/* common/clock.h — the one clock every program times itself with. */
#ifndef CLOCK_H
#define CLOCK_H

/* clock_now: seconds on the monotonic wall clock (never jumps with NTP or date). */
double clock_now(void);

/* clock_tick: the smallest step the clock is seen to take, in seconds,
 * measured the way STREAM's checktick does (not the resolution it claims). */
double clock_tick(void);

#endif
