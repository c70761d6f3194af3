// What `odflash --version` says about the build. scripts/install writes BuildStamp.generated.swift (git commit and
// build date; not in git) and builds with -DODFLASH_STAMPED; a plain `swift build` uses the fallback below.
#if !ODFLASH_STAMPED
enum BuildStamp {
    static let commit = "unknown"
    static let date = "unknown"
}
#endif

enum BuildInfo {
    static let version = "0.1.0"
}
