// Signal handling for the flash's protected write window, in C because a signal handler may only touch
// sig_atomic_t variables and call async-signal-safe functions (write(2)), which Swift code cannot promise.
#ifndef CSIGNAL_H
#define CSIGNAL_H

/// Installs handlers that only record SIGINT, SIGTERM, SIGHUP and SIGQUIT (SA_RESTART; a signal that was ignored when
/// the process started, as nohup ignores SIGHUP, stays ignored) and ignores SIGPIPE for the rest of the process (the
/// report is written after the flash, perhaps to a closed pipe). Counted: the first call installs, the matching last
/// odsig_release restores the previous dispositions and forgets what was received. Each
/// arriving signal prints one line on stderr (after a newline when `newline_first`, to end a progress bar); what it
/// says depends on whether a write window is open.
void odsig_acquire(int newline_first);
void odsig_release(void);
/// 1 while the handlers are installed.
int odsig_installed(void);
/// Opens a write window (nested windows count): SIGTSTP is recorded instead of stopping the process.
void odsig_window_enter(void);
/// Closes a window; when the last closes, SIGTSTP gets its previous disposition again and a deferred one is delivered.
void odsig_window_leave(void);
/// The first terminating signal received (0: none).
int odsig_pending(void);
/// The last signal received; how many arrived (terminating ones and SIGTSTP); how many of them inside a window.
int odsig_last(void);
int odsig_count(void);
int odsig_deferred_count(void);
/// Sleeps until `seconds` from now on the monotonic clock; a signal does not shorten it (the sleep resumes).
void odsig_sleep(double seconds);
/// Seconds on the monotonic clock.
double odsig_now(void);

#endif
