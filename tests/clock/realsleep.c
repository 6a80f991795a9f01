/* Loaded before libfaketime in the shifted-clock test runs (see dev.py).
 *
 * The runs move the wall clock only (FAKETIME_DONT_FAKE_MONOTONIC=1): timeouts and lock waits keep the
 * real monotonic clock, or a thread waiting 0.3 s would wait a year. libfaketime 0.9.10 still rewrites
 * an absolute CLOCK_MONOTONIC clock_nanosleep (Python's time.sleep) by the fake offset and fails it with
 * EINVAL; these two sleeps go straight to the kernel, on the clock the caller named.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

int clock_nanosleep(clockid_t clock_id, int flags, const struct timespec *req, struct timespec *rem) {
    return syscall(SYS_clock_nanosleep, clock_id, flags, req, rem) == -1 ? errno : 0;
}

int nanosleep(const struct timespec *req, struct timespec *rem) {
    return syscall(SYS_nanosleep, req, rem) == -1 ? -1 : 0;
}
