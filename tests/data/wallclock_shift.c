/* An LD_PRELOAD shim that moves CLOCK_REALTIME, as one process sees it, by an offset in nanoseconds
 * that a test writes into the file named by $WALLCLOCK_SHIFT_FILE (8 bytes, little-endian int64,
 * mmap'ed: a change is seen by the very next clock read, with no system call).
 *
 * Only the wall clock moves: CLOCK_MONOTONIC and CLOCK_BOOTTIME stay true, as when an admin runs
 * `date -s`. libfaketime is not used: it hangs Python's threading waits (see the project notes).
 * Built by tests/test_clock_change.py with gcc -shared -fPIC.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static volatile int64_t *shift_ns;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static int (*real_clock_gettime)(clockid_t, struct timespec *);

static void setup(void) {
    real_clock_gettime = (int (*)(clockid_t, struct timespec *))dlsym(RTLD_NEXT, "clock_gettime");
    const char *path = getenv("WALLCLOCK_SHIFT_FILE");
    if (path == NULL) return;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    void *map = mmap(NULL, sizeof(int64_t), PROT_READ, MAP_SHARED, fd, 0);
    close(fd);
    if (map != MAP_FAILED) shift_ns = (volatile int64_t *)map;
}

static void shift(struct timespec *ts) {
    if (shift_ns == NULL) return;
    int64_t ns = (int64_t)ts->tv_sec * 1000000000LL + ts->tv_nsec + *shift_ns;
    ts->tv_sec = ns / 1000000000LL;
    ts->tv_nsec = ns % 1000000000LL;
    if (ts->tv_nsec < 0) { ts->tv_nsec += 1000000000LL; ts->tv_sec -= 1; }
}

int clock_gettime(clockid_t id, struct timespec *ts) {
    pthread_once(&once, setup);
    int result = real_clock_gettime(id, ts);
    if (result == 0 && (id == CLOCK_REALTIME || id == CLOCK_REALTIME_COARSE)) shift(ts);
    return result;
}

int gettimeofday(struct timeval *tv, void *tz) {
    struct timespec ts;
    (void)tz;
    int result = clock_gettime(CLOCK_REALTIME, &ts);
    if (result == 0 && tv != NULL) { tv->tv_sec = ts.tv_sec; tv->tv_usec = ts.tv_nsec / 1000; }
    return result;
}

time_t time(time_t *out) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    if (out != NULL) *out = ts.tv_sec;
    return ts.tv_sec;
}
