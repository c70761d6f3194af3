"""Shared by scripts/bench-fw and scripts/bench-flash: every figure is a ratio A vs B, both measured in the same run,
alternating (A, B, A, B, ...), so that the load of a shared machine falls on both alike. A figure is printed with the
min, median and max of its per-pair ratios and judged on the median."""
import os, statistics, subprocess, sys, time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)


def run_once(cmd, stdin=None):
    """One fresh process: (wall seconds, peak RSS in KiB, CPU seconds (user + system), all of that process alone).
    posix_spawn and wait4 keep the harness's own cost small and equal for A and B; wait4 gives the child's own rusage."""
    devnull = os.open(os.devnull, os.O_RDWR)
    try:
        actions = [(os.POSIX_SPAWN_DUP2, devnull, 1), (os.POSIX_SPAWN_DUP2, devnull, 2)]
        if stdin is None:
            actions.append((os.POSIX_SPAWN_DUP2, devnull, 0))
        t = time.perf_counter()
        pid = os.posix_spawn(cmd[0], cmd, os.environ, file_actions=actions)
        _, status, ru = os.wait4(pid, 0)
        dt = time.perf_counter() - t
    finally:
        os.close(devnull)
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        sys.exit(f"bench: {' '.join(cmd)} exited {code}: {r.stderr.decode(errors='replace').strip()[:300]}")
    return dt, ru.ru_maxrss, ru.ru_utime + ru.ru_stime


def alternate(a, b, runs, warm=2):
    """Runs A and B alternately (the order flips every round), `runs` times each after `warm` unmeasured rounds.
    Returns the lists of (seconds, rss) for A and for B."""
    for _ in range(warm):
        run_once(a); run_once(b)
    ra, rb = [], []
    for i in range(runs):
        if i % 2 == 0:
            ra.append(run_once(a)); rb.append(run_once(b))
        else:
            rb.append(run_once(b)); ra.append(run_once(a))
    return ra, rb


class Report:
    def __init__(self, title):
        self.title = title
        self.rows = []
        self.missed = []
        print(f"{'figure':52} {'A':>9} {'B':>9}   {'ratio min / median / max':>26}  target")
        print("(wall time, judged; 'cpu' is the median ratio of CPU time, user + system, printed because the wall time of a"
              " loaded machine is noisy)")

    def ratio(self, name, ratios, target, a_desc="", b_desc="", note=""):
        """ratios: per-pair A/B values. Judged on the median."""
        lo, med, hi = min(ratios), statistics.median(ratios), max(ratios)
        ok = med <= target
        if not ok:
            self.missed.append(name)
        print(f"{name:52} {a_desc:>9} {b_desc:>9}   {lo:7.2f} / {med:5.2f} / {hi:5.2f}x   <= {target:.2f}x  {'ok' if ok else 'MISSED'}{note}",
              flush=True)
        self.rows.append((name, lo, med, hi, target, ok))
        return med

    def timed(self, name, a_runs, b_runs, target):
        ta = [r[0] for r in a_runs]; tb = [r[0] for r in b_runs]
        ratios = [x / y for x, y in zip(ta, tb)]
        cpu = statistics.median(a[2] / max(b[2], 1e-6) for a, b in zip(a_runs, b_runs))
        return self.ratio(name, ratios, target, f"{statistics.median(ta)*1000:.1f}ms", f"{statistics.median(tb)*1000:.1f}ms", f"  (cpu {cpu:.2f}x)")

    def finish(self):
        if self.missed:
            print(f"{self.title}: missed targets: " + ", ".join(self.missed))
            return 1
        print(f"{self.title}: all targets met")
        return 0


def build_odflash():
    """The release build with the static Swift runtime, the way it ships."""
    print("bench: building odflash (scripts/build-release: the binary every install and package ships)", flush=True)
    r = subprocess.run([os.path.join(ROOT, "scripts", "build-release")], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if r.returncode != 0:
        sys.exit("bench: build failed:\n" + r.stderr.decode(errors="replace")[-2000:])
    return r.stdout.decode().strip().splitlines()[-1]


HELLO = """import Foundation
// The peer of the start-up and size figures: a static Swift program with Foundation that prints one line (what the
// issue's targets were set against: 21 MB with ProcessInfo, which FoundationEssentials provides).
print("hello \\(ProcessInfo.processInfo.arguments.count)")
"""


def build_hello(work):
    """A static "hello" with Foundation, built by the same toolchain with the same flags as odflash; cached per
    toolchain version under WORK/hello."""
    version = sh(["swift", "--version"]).stdout.decode().strip().splitlines()[0]
    pkg = os.path.join(work, "hello")
    os.makedirs(os.path.join(pkg, "Sources", "hello"), exist_ok=True)
    stamp = os.path.join(pkg, "toolchain")
    manifest = ('// swift-tools-version:6.0\nimport PackageDescription\n'
                'let package = Package(name: "hello", targets: [.executableTarget(name: "hello")])\n')
    flags = ["-c", "release", "--static-swift-stdlib"]
    binp = None
    fresh = os.path.exists(stamp) and open(stamp).read() == version + HELLO + manifest
    if fresh:
        binp = os.path.join(sh(["swift", "build"] + flags + ["--show-bin-path"], cwd=pkg).stdout.decode().strip(), "hello")
        if os.path.exists(binp):
            return binp
    print("bench: building the static hello peer (once per toolchain)", flush=True)
    open(os.path.join(pkg, "Package.swift"), "w").write(manifest)
    open(os.path.join(pkg, "Sources", "hello", "main.swift"), "w").write(HELLO)
    sh(["swift", "build"] + flags, cwd=pkg)
    open(stamp, "w").write(version + HELLO + manifest)
    return os.path.join(sh(["swift", "build"] + flags + ["--show-bin-path"], cwd=pkg).stdout.decode().strip(), "hello")


def stripped_size(path, work):
    out = os.path.join(work, os.path.basename(path) + ".stripped")
    sh(["strip", "-o", out, path])
    return os.path.getsize(out)
