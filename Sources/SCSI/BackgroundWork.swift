import Dispatch

/// Work started on another thread (an image's hash, the firmware-db read ahead). Every piece is counted, and the
/// program joins them all before it exits (Runner.main): exit() runs library teardown (libcrypto's among them), and a
/// thread still inside such a library when it does crashes the process on an error path that returns early.
public enum BackgroundWork {
    private static let group = DispatchGroup()

    /// Runs `body` on a global queue, counted until it returns.
    public static func run(_ body: @escaping @Sendable () -> Void) {
        group.enter()
        DispatchQueue.global().async {
            body()
            group.leave()
        }
    }

    /// Waits for every piece started so far.
    public static func joinAll() {
        group.wait()
    }
}
