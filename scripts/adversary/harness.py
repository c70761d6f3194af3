"""The adversary's harness: runs generated bad-input cases against the built odflash binary and judges each by the
contract every command keeps on bad input (README, "Exit status"):

  * no crash (no signal), and an exit status the case allows (by default any of 1..5);
  * one error: exactly one non-empty line on stderr and nothing on stdout, or with --json exactly one JSON object
    on stdout of type "error" and nothing on stderr; the line is at most MAX_LINE characters, holds no raw control
    character (ESC, CR, NUL ...) and no decoder internals ("DecodingError", "Swift.", "Fatal error");
  * the inputs are byte-identical afterwards (hash, or size + mtime for files too large to hash);
  * no file appears in the case's folder that the case does not allow (outputs, temp files, journals);
  * under TIME_LIMIT seconds of wall time and MEM_LIMIT bytes of peak RSS.

A case that is expected to succeed (a valid input in an odd form, e.g. CRLF line endings) says so with ok=True; then
the exit status must be 0 and only the resource and input checks apply. A case whose codes include 0 may either
succeed (judged like ok) or fail cleanly (judged as an error).

Case generators live in scripts/adversary/cases/*.py; each defines `cases(ctx)` returning or yielding Case objects,
and/or `checks(ctx)` yielding Check objects (several processes at once, a kill at a random moment, repeated runs).
Nothing here knows how odflash parses anything: the cases are built from the README and --help alone.
"""
import dataclasses, hashlib, json, os, resource, shutil, signal, subprocess, sys, tempfile, time

MAX_LINE = 600
TIME_LIMIT = 10.0
MEM_LIMIT = 200 * 1024 * 1024
HASH_LIMIT = 256 * 1024 * 1024
FORBIDDEN_TEXT = ("DecodingError", "Swift.", "Fatal error", "Stack dump", "dataCorrupted", "codingPath")


@dataclasses.dataclass
class Case:
    cls: str                      # the class, e.g. "1-db-integers"
    name: str                     # what makes this case bad, short
    args: list                    # arguments after the binary
    stdin: object = None          # None (empty pipe), bytes, a path (str) opened for reading, or "closed"
    env: dict = None              # extra environment
    inputs: list = dataclasses.field(default_factory=list)     # paths that must stay byte-identical
    allowed_new: list = dataclasses.field(default_factory=list)  # names that may appear in the case folder
    codes: tuple = (1, 2, 3, 4, 5)  # allowed exit statuses
    ok: bool = False              # the input is valid in an odd form: must succeed (exit 0)
    contains: str = None          # part of the error text naming the cause (case-insensitive)
    cwd: str = None               # folder watched for stray files (default: the case's folder)
    time_limit: float = TIME_LIMIT
    special: list = dataclasses.field(default_factory=list)   # paths that must stay what they are (device, FIFO)
    stdin_flags: int = os.O_RDONLY  # how a path given as stdin is opened (os.O_WRONLY: a write-only stdin)
    out_contains: object = None   # ok cases: part of stdout that must be there (e.g. "UNFINISHED"), or a check(stdout)
    clean_output: bool = False    # no raw control character anywhere on stdout or stderr (names are escaped)
    creates: list = dataclasses.field(default_factory=list)   # ok cases: paths (str or bytes) that must exist after
    report: bool = False          # the command answers a problem with a report on stdout (`db lint`): exit in codes,
                                  # nothing on stderr, `contains` looked for on stdout, every line bounded and clean


@dataclasses.dataclass
class Check:
    """A case that is more than one process (concurrent runs, a kill at a random moment, repeated runs): a generator's
    module-level `checks(ctx)` yields these; `run()` does the whole check and returns the contract's violations (empty:
    passed). The runner counts them with the cases."""
    cls: str
    name: str
    run: object                   # a function of no arguments returning a list of violation strings


class Context:
    def __init__(self, binary, root):
        self.binary = binary
        self.root = root
        self.repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        self.db = os.path.join(self.repo, "firmware-db")
        self._n = 0
        self._generated = {}

    def folder(self, cls, name):
        """A fresh folder for one case."""
        self._n += 1
        safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in name)[:40]
        p = os.path.join(self.root, f"{self._n:05d}-{cls[:12]}-{safe}")
        os.makedirs(p)
        return p

    def write(self, folder, name, data):
        p = os.path.join(folder, name)
        with open(p, "wb") as f:
            f.write(data if isinstance(data, (bytes, bytearray)) else data.encode())
        return p

    def generated(self, family, size=None):
        """The bytes of a synthetic image made by `fw generate` (cached); callers copy them into their folder."""
        key = (family, size)
        if key not in self._generated:
            d = os.path.join(self.root, "generated")
            os.makedirs(d, exist_ok=True)
            out = os.path.join(d, f"{family}-{size or 'default'}.bin")
            args = [self.binary, "fw", "generate", "--family", family, "-o", out, "--force-overwrite"]
            if size: args += ["--size", str(size)]
            r = subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            if r.returncode != 0:
                raise RuntimeError(f"fw generate --family {family} failed: {r.stderr.decode(errors='replace')}")
            self._generated[key] = open(out, "rb").read()
        return self._generated[key]

    def db_copy(self, folder):
        """A private copy of firmware-db a case may corrupt."""
        dst = os.path.join(folder, "db")
        shutil.copytree(self.db, dst)
        return dst


def _fingerprint(path):
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return ("missing",)
    import stat as S
    if not S.S_ISREG(st.st_mode):
        return ("special", S.S_IFMT(st.st_mode), st.st_ino, st.st_rdev)
    if st.st_size > HASH_LIMIT or st.st_blocks * 512 < st.st_size // 2:
        return ("large", st.st_size, st.st_mtime_ns, st.st_ino)
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            b = f.read(1 << 20)
            if not b: break
            h.update(b)
    return ("file", st.st_size, h.hexdigest())


def _listing(folder):
    out = set()
    for dp, dns, fns in os.walk(folder):
        if os.path.basename(dp) == "db" or "/db/" in dp + "/":
            continue
        for n in fns + dns:
            out.add(os.path.relpath(os.path.join(dp, n), folder))
    return out


def _has_control(s):
    return any((ord(c) < 0x20 and c not in "\n\t") or ord(c) == 0x7F or 0x80 <= ord(c) < 0xA0 for c in s)



def _line_checks(bad, what, line):
    """One line of a report or an error: bounded, no raw control character, no decoder internals."""
    if len(line) > MAX_LINE:
        bad.append(f"{what} line of {len(line)} characters (limit {MAX_LINE})")
    if _has_control(line):
        bad.append(f"raw control character in the {what}: " + repr(line[:120]))
    for w in FORBIDDEN_TEXT:
        if w in line:
            bad.append(f"decoder internals in the {what} ({w}): " + line[:160])

def run_case(ctx, case):
    """Runs one case; returns a list of the contract's violations (empty: passed) and facts about the run."""
    folder = case.cwd
    fps = {p: _fingerprint(p) for p in case.inputs}
    sp = {p: _fingerprint(p) for p in case.special}
    before = _listing(folder) if folder else set()
    env = dict(os.environ)
    env.pop("ODFLASH_DB", None)
    env.update({"NO_COLOR": "1", "HOME": folder or ctx.root, "XDG_STATE_HOME": os.path.join(folder or ctx.root, ".state")})
    if case.env: env.update(case.env)
    stdin = subprocess.PIPE
    close_stdin = False
    opened = None
    if case.stdin == "closed":
        stdin = None
        close_stdin = True
    elif isinstance(case.stdin, str):
        # os.open, not open(): a folder or a write-only descriptor are valid (bad) standard inputs
        opened = os.open(case.stdin, case.stdin_flags | os.O_CLOEXEC)
        stdin = opened
    out_f = tempfile.TemporaryFile(dir=ctx.root)
    err_f = tempfile.TemporaryFile(dir=ctx.root)

    def preexec():
        if close_stdin:
            os.close(0)
        os.setpgrp()

    t0 = time.monotonic()
    p = subprocess.Popen([ctx.binary] + case.args, stdin=stdin, stdout=out_f, stderr=err_f, cwd=folder, env=env,
                         preexec_fn=preexec)
    if stdin == subprocess.PIPE:
        try:
            if isinstance(case.stdin, (bytes, bytearray)):
                p.stdin.write(case.stdin)
            p.stdin.close()
        except BrokenPipeError:
            pass
    status = None
    rusage = None
    timed_out = False
    while True:
        pid, st, ru = os.wait4(p.pid, os.WNOHANG)
        if pid:
            status, rusage = st, ru
            p.returncode = os.waitstatus_to_exitcode(st)
            break
        if time.monotonic() - t0 > case.time_limit * 3:
            timed_out = True
            os.killpg(p.pid, signal.SIGKILL)
            _, st, ru = os.wait4(p.pid, 0)
            status, rusage = st, ru
            p.returncode = os.waitstatus_to_exitcode(st)
            break
        time.sleep(0.005)
    elapsed = time.monotonic() - t0
    if opened is not None: os.close(opened)
    out_f.seek(0); err_f.seek(0)
    out = out_f.read().decode("utf-8", errors="replace")
    err = err_f.read().decode("utf-8", errors="replace")
    out_f.close(); err_f.close()
    rss = rusage.ru_maxrss * 1024

    bad = []
    code = p.returncode
    if timed_out:
        bad.append(f"killed after {elapsed:.1f} s")
    elif code < 0:
        bad.append(f"crashed with signal {-code}")
    elif case.ok or (code == 0 and 0 in case.codes):
        # a case that may succeed (codes include 0) and did: only the resource and input checks apply
        if code != 0:
            bad.append(f"exit {code}, expected success: {(err or out).strip()[:200]}")
        elif callable(case.out_contains):
            try:
                good = case.out_contains(out)
            except Exception as e:  # noqa: BLE001 (a malformed output is a failed check)
                good = False
            if not good:
                bad.append("output fails the case's check: " + out.strip()[-200:])
        elif case.out_contains and case.out_contains.lower() not in out.lower():
            bad.append(f"output does not say {case.out_contains!r}: " + out.strip()[-200:])
        for pth in case.creates:
            if not os.path.lexists(pth):
                bad.append(f"output not written: {os.fsdecode(pth)!r}")
    elif case.report:
        if code not in case.codes:
            bad.append(f"exit {code}, expected one of {list(case.codes)}: {(err or out).strip()[:200]}")
        if err.strip():
            bad.append("stderr not empty for a report: " + err.strip()[:160])
        for line in out.splitlines():
            _line_checks(bad, "report", line)
        if case.contains and case.contains.lower() not in out.lower():
            bad.append(f"report does not name the cause ({case.contains!r}): " + out.strip()[:200])
    else:
        if code not in case.codes:
            bad.append(f"exit {code}, expected one of {list(case.codes)}")
        json_mode = "--json" in case.args
        if json_mode:
            lines = [l for l in out.splitlines() if l.strip()]
            if err.strip():
                bad.append("stderr not empty with --json: " + err.strip()[:120])
            doc = None
            try:
                doc = json.loads(out)
            except ValueError:
                # NDJSON commands: the last line is the error
                try:
                    doc = json.loads(lines[-1]) if lines else None
                except ValueError:
                    pass
            if not isinstance(doc, dict) or doc.get("type") != "error":
                bad.append("no JSON error object on stdout: " + out.strip()[:160])
            text = (doc or {}).get("error", {}).get("message", "") if isinstance(doc, dict) else out
        else:
            lines = [l for l in err.splitlines() if l.strip()]
            if out.strip():
                # progress and reports may precede a flash's error; one-shot commands print nothing on stdout
                if not case.args or case.args[0] not in ("flash", "dump", "restore"):
                    bad.append("stdout not empty on error: " + out.strip()[:120])
            if len(lines) != 1 and not (case.args and case.args[0] in ("flash", "dump", "restore")):
                bad.append(f"{len(lines)} lines on stderr, expected one: " + err.strip()[:200])
            text = lines[-1] if lines else ""
        _line_checks(bad, "error", text)
        if case.contains and case.contains.lower() not in text.lower():
            bad.append(f"error does not name the cause ({case.contains!r}): " + text[:200])
    if case.clean_output:
        for what, text in (("stdout", out), ("stderr", err)):
            if _has_control(text):
                i = next(i for i, c in enumerate(text) if _has_control(c))
                bad.append(f"raw control character on {what}: " + repr(text[max(0, i - 60):i + 20]))
    if elapsed > case.time_limit:
        bad.append(f"{elapsed:.1f} s (limit {case.time_limit:.0f} s)")
    if rss > MEM_LIMIT:
        bad.append(f"peak RSS {rss // (1024 * 1024)} MB (limit {MEM_LIMIT // (1024 * 1024)} MB)")
    for pth, fp in fps.items():
        if _fingerprint(pth) != fp:
            bad.append(f"input modified: {os.path.basename(pth)}")
    for pth, fp in sp.items():
        if _fingerprint(pth) != fp:
            bad.append(f"special file replaced: {pth}")
    if folder:
        new = _listing(folder) - before
        stray = sorted(n for n in new if not any(n == a or n.startswith(a + "/") for a in case.allowed_new)
                       and not n.startswith(".state"))
        if stray:
            bad.append("files left behind: " + ", ".join(repr(s) for s in stray[:5]))
    return bad, {"exit": code, "seconds": round(elapsed, 3), "rss_mb": rss // (1024 * 1024),
                 "stderr": err.strip()[:300], "stdout": out.strip()[:300]}
