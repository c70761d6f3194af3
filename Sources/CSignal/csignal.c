#define _GNU_SOURCE
#include "csignal.h"
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t pending = 0;
static volatile sig_atomic_t last = 0;
static volatile sig_atomic_t count = 0;
static volatile sig_atomic_t deferred = 0;
static volatile sig_atomic_t window = 0;
static volatile sig_atomic_t tstp = 0;
static volatile sig_atomic_t newline = 0;
static int users = 0;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static const int terminating[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
#define NTERM 4
static struct sigaction saved[NTERM], saved_tstp;
static int caught[NTERM], caught_tstp;

static void say(const char *s) {
    ssize_t r;
    if (newline) { r = write(2, "\n", 1); (void)r; }
    r = write(2, s, strlen(s));
    (void)r;
}

static void handler(int sig) {
    int saved_errno = errno;
    last = sig;
    // Whether it arrived in the window is stored before the count moves: a thread that sees the new count sees it.
    if (window > 0) deferred = deferred + 1;
    count = count + 1;
    if (sig == SIGTSTP) {
        tstp = 1;
        say("suspend requested: deferred until the flash is done and the drive is safe\n");
    } else {
        if (pending == 0) pending = sig;
        if (window > 0) say("interrupt requested: the flash goes on until the drive is safe; odflash stops after it\n");
        else say("interrupt requested: odflash stops after the current command\n");
    }
    errno = saved_errno;
}

/// Catches `sig` unless it is ignored; returns 1 when it was caught (`old` then holds the previous action).
static int catch_signal(int sig, struct sigaction *old) {
    struct sigaction sa;
    if (sigaction(sig, NULL, old) != 0 || old->sa_handler == SIG_IGN) return 0;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    return sigaction(sig, &sa, NULL) == 0;
}

void odsig_acquire(int newline_first) {
    pthread_mutex_lock(&lock);
    if (users++ == 0) {
        newline = newline_first;
        pending = 0; last = 0; count = 0; deferred = 0; tstp = 0;
        for (int i = 0; i < NTERM; i++) caught[i] = catch_signal(terminating[i], &saved[i]);
        signal(SIGPIPE, SIG_IGN);
    }
    pthread_mutex_unlock(&lock);
}

void odsig_release(void) {
    pthread_mutex_lock(&lock);
    if (users > 0 && --users == 0) {
        for (int i = 0; i < NTERM; i++) if (caught[i]) sigaction(terminating[i], &saved[i], NULL);
        pending = 0; last = 0; count = 0; deferred = 0;
    }
    pthread_mutex_unlock(&lock);
}

int odsig_installed(void) { return users > 0; }

void odsig_window_enter(void) {
    pthread_mutex_lock(&lock);
    if (window == 0) caught_tstp = catch_signal(SIGTSTP, &saved_tstp);
    window = window + 1;
    pthread_mutex_unlock(&lock);
}

void odsig_window_leave(void) {
    int stop = 0;
    pthread_mutex_lock(&lock);
    if (window > 0) {
        window = window - 1;
        if (window == 0) {
            if (caught_tstp) sigaction(SIGTSTP, &saved_tstp, NULL);
            caught_tstp = 0;
            stop = tstp;
            tstp = 0;
        }
    }
    pthread_mutex_unlock(&lock);
    // The suspend deferred in the window, now that the drive is safe.
    if (stop) raise(SIGTSTP);
}

int odsig_pending(void) { return pending; }
int odsig_last(void) { return last; }
int odsig_count(void) { return count; }
int odsig_deferred_count(void) { return deferred; }

double odsig_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

void odsig_sleep(double seconds) {
    if (!(seconds > 0)) return;
    struct timespec now, deadline;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long long ns = (long long)(seconds * 1e9);
    deadline.tv_sec = now.tv_sec + (time_t)(ns / 1000000000LL);
    deadline.tv_nsec = now.tv_nsec + (long)(ns % 1000000000LL);
    if (deadline.tv_nsec >= 1000000000L) { deadline.tv_sec += 1; deadline.tv_nsec -= 1000000000L; }
#ifdef __linux__
    // An interrupted sleep returns EINTR: sleep again until the same deadline.
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &deadline, NULL) == EINTR) {}
#else
    for (;;) {
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec > deadline.tv_sec || (now.tv_sec == deadline.tv_sec && now.tv_nsec >= deadline.tv_nsec)) break;
        struct timespec left = { deadline.tv_sec - now.tv_sec, deadline.tv_nsec - now.tv_nsec };
        if (left.tv_nsec < 0) { left.tv_sec -= 1; left.tv_nsec += 1000000000L; }
        nanosleep(&left, NULL);
    }
#endif
}
