"""Class 3: reading special files. Every input a command reads (sense from standard input, the flash journal, a replay
transcript, a firmware image) is given as something that is not a small regular file: a folder, a closed or
write-only descriptor, /dev/zero, a FIFO nobody writes to, /proc and /sys files, huge or sparse files, and
transcripts whose lines are malformed in every field. Each must end in one bounded error (exit 2: bad input) within
the time and memory limits, never a hang; a valid input in an odd form (CRLF, a non-UTF-8 line among valid ones)
must still work. Generated from README ("Transcripts", the journal's events, "Exit status") and --help."""
import gzip, json, os, stat
from harness import Case

CLS = "3-special-reads"
MiB = 1 << 20


def _shared(ctx, name, make):
    """A big input written once for all cases (streamed, never held in memory), reused read-only."""
    d = os.path.join(ctx.root, "shared")
    os.makedirs(d, exist_ok=True)
    p = os.path.join(d, name)
    if not os.path.exists(p):
        make(p)
    return p


def _sparse(p, size):
    with open(p, "wb") as f:
        f.truncate(size)


def _repeat(p, unit, total):
    block = unit * (MiB // len(unit))
    with open(p, "wb") as f:
        left = total
        while left > 0:
            f.write(block[:left])
            left -= len(block)


def _fifo(folder, name="fifo"):
    p = os.path.join(folder, name)
    os.mkfifo(p)
    return p


def _sys_file():
    for p in ("/sys/devices/system/cpu/online", "/sys/kernel/mm/transparent_hugepage/enabled", "/sys/power/state"):
        if os.path.exists(p):
            return p
    return None


SPECIAL_LABELS = ("/dev/zero", "/dev/null", "a FIFO without writer", "a folder", "/proc/self/status", "/proc/self/mem",
                  "/proc/cpuinfo", "a /sys file")


def _special(ctx, c, label):
    """The path of one special input for case c (a FIFO or folder is made in its subfolder x), or None."""
    x = os.path.join(c.cwd, "x")
    os.makedirs(x, exist_ok=True)
    c.allowed_new = list(c.allowed_new) + ["x"]
    if label == "a FIFO without writer":
        p = _fifo(x)
        c.special = [p]
        return p
    if label == "a folder":
        return x
    if label == "a /sys file":
        return _sys_file()
    return label


def _transcript(ctx):
    """A valid JSON-lines transcript of `info emu:ihas124y` (recorded once)."""
    def make(p):
        import subprocess
        r = subprocess.run([ctx.binary, "info", "emu:ihas124y", "--transcript", p], stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, cwd=os.path.dirname(p))
        if r.returncode != 0:
            raise RuntimeError("recording a transcript failed: " + r.stderr.decode(errors="replace"))
    return open(_shared(ctx, "info.jsonl", make), "rb").read()


def _journal_lines(unfinished=True):
    base = {"device": "emu:ihas124y", "drive": "ATAPI iHAS124   Y BL0X", "family": "nec-optiarc", "image": "img.bin",
            "protocolName": "nec-optiarc class 3 (Flash2MOpti3)", "sha256": "ab" * 32}
    done = [dict(base, event="start", time="2026-01-01T10:00:00Z"),
            dict(base, event="committing", time="2026-01-01T10:00:01Z"),
            dict(base, event="success", detail="flashed", time="2026-01-01T10:00:09Z")]
    open_ = [dict(base, event="start", time="2026-01-02T10:00:00Z"),
             dict(base, event="preparing", detail="enter safe mode", time="2026-01-02T10:00:00Z"),
             dict(base, event="committing", time="2026-01-02T10:00:01Z")]
    return [json.dumps(e, sort_keys=True).encode() for e in done + (open_ if unfinished else [])]


def _json_unfinished(out):
    u = json.loads(out)["unfinished"]
    return len(u) == 1 and u[0]["event"] == "committing" and u[0]["time"] == "2026-01-02T10:00:01Z"


def cases(ctx):
    # --- sense - : standard input that is not a small stream of text
    spaces = _shared(ctx, "spaces-300MiB", lambda p: _repeat(p, b" ", 300 * MiB))
    sparse1g = _shared(ctx, "sparse-1GiB", lambda p: _sparse(p, 1 << 30))
    for label, stdin, flags, extra in [
            ("a folder", "DIR", os.O_RDONLY, {}), ("closed", "closed", os.O_RDONLY, {}),
            ("write-only", "FILE", os.O_WRONLY, {}), ("/dev/zero", "/dev/zero", os.O_RDONLY, {"contains": "at most"}),
            ("300 MiB of spaces", spaces, os.O_RDONLY, {"contains": "at most"}),
            ("a 1 GiB sparse file", sparse1g, os.O_RDONLY, {"contains": "at most"}),
            ("/dev/null", "/dev/null", os.O_RDONLY, {})]:
        for js in (False, True):
            c = Case(CLS, f"sense - from {label}{' json' if js else ''}", ["sense", "-"] + (["--json"] if js else []),
                     codes=(2,), stdin_flags=flags, **extra)
            c.cwd = ctx.folder(c.cls, c.name)
            if stdin == "DIR":
                stdin = c.cwd
            elif stdin == "FILE":
                stdin = ctx.write(c.cwd, "stdin.txt", b"03/0C/00\n")
                c.inputs = [stdin]
            c.stdin = stdin
            yield c

    # --- journal --journal SPECIAL
    sparse4g = _shared(ctx, "sparse-4GiB.jsonl", lambda p: _sparse(p, 4 << 30))
    c = Case(CLS, "journal: a sparse 4 GiB file", ["journal", "--journal", sparse4g], codes=(2,), contains="at most",
             inputs=[sparse4g])
    yield c
    c = Case(CLS, "journal: a sparse 4 GiB file json", ["journal", "--journal", sparse4g, "--json"], codes=(2,),
             contains="at most", inputs=[sparse4g])
    yield c
    for li, label in enumerate(SPECIAL_LABELS):
        for js in (li % 2 == 1,):
            c = Case(CLS, f"journal: {label}{' json' if js else ''}", [], codes=(2,), time_limit=5)
            c.cwd = ctx.folder(c.cls, c.name)
            path = _special(ctx, c, label)
            if path is None: continue
            c.args = ["journal", "--journal", path] + (["--json"] if js else [])
            yield c

    # --- journals in odd but valid forms must still name the unfinished flash
    for label, transform in [
            ("CRLF", lambda ls: b"\r\n".join(ls) + b"\r\n"),
            ("CRLF and a non-UTF-8 line", lambda ls: b"\r\n".join(ls[:-1] + [b"\xff\xfe garbage \xc3(", ls[-1]]) + b"\r\n"),
            ("a non-UTF-8 line", lambda ls: b"\n".join(ls[:3] + [b"\x80\x81\x82"] + ls[3:]) + b"\n"),
            ("no final newline", lambda ls: b"\n".join(ls)),
            ("blank lines and CR", lambda ls: b"\n\r\n".join(ls) + b"\n\n"),
            ("a truncated last line after it", lambda ls: b"\n".join(ls) + b"\n{\"event\":\"succ"),
            ("a NUL line", lambda ls: b"\n".join(ls[:4] + [b"\x00" * 40] + ls[4:]) + b"\n")]:
        for js in (False, True):
            c = Case(CLS, f"journal with {label}: unfinished flash{' json' if js else ''}", [], ok=True,
                     out_contains=_json_unfinished if js else "UNFINISHED")
            c.cwd = ctx.folder(c.cls, c.name)
            j = ctx.write(c.cwd, "journal.jsonl", transform(_journal_lines()))
            c.args = ["journal", "--journal", j] + (["--json"] if js else [])
            c.inputs = [j]
            yield c

    # --- replay transcripts
    good = _transcript(ctx)
    lines = [l for l in good.split(b"\n") if l]
    empty256 = _shared(ctx, "empty-lines-256MiB.jsonl", lambda p: _repeat(p, b"\n", 256 * MiB))

    def replay_case(name, data=None, path=None, codes=(2,), contains=None, ok=False, **kw):
        for js in (len(name) % 2 == 1,):
            c = Case(CLS, f"replay: {name}{' json' if js else ''}", [], codes=codes, contains=contains, ok=ok, **kw)
            c.cwd = ctx.folder(c.cls, c.name)
            p = path or ctx.write(c.cwd, "t.jsonl", data)
            c.args = ["info", "replay:" + p] + (["--json"] if js else [])
            c.inputs = [p]
            yield c

    yield from replay_case("256 MiB of empty lines", path=empty256, contains="at most")
    yield from replay_case("a sparse 1 GiB file", path=sparse1g, contains="at most")
    yield from replay_case("150,000 lines", data=b"\n".join(lines * (150000 // len(lines) + 1)) + b"\n", codes=(1, 2))
    yield from replay_case("200,000 nested arrays", data=b"[" * 200000 + b"]" * 200000 + b"\n", contains="line 1")
    yield from replay_case("200,000 nested objects", data=b'{"a":' * 200000 + b"1" + b"}" * 200000 + b"\n",
                           contains="line 1")
    yield from replay_case("a NUL inside a line", data=lines[0][:20] + b"\x00" + lines[0][20:] + b"\n" + b"\n".join(lines[1:]),
                           contains="line 1")
    yield from replay_case("CRLF endings", data=b"\r\n".join(lines) + b"\r\n", ok=True)
    yield from replay_case("no final newline", data=b"\n".join(lines), ok=True)
    yield from replay_case("empty file", data=b"", codes=(1, 2))
    yield from replay_case("only blank lines", data=b"\n\r\n  \n", codes=(1, 2))
    yield from replay_case("not UTF-8", data=b"\xff\xfe" + lines[0][2:] + b"\n", contains="line 1")
    yield from replay_case("one 100 KB garbage line", data=b"x" * 100000 + b"\n")
    yield from replay_case("a 100 KB string field", data=json.dumps(dict(json.loads(lines[0]), name="N" * 100000)).encode() + b"\n",
                           codes=(1, 2))
    # every field of the first record, in turn, given values of the wrong type or out of range
    first = json.loads(lines[0])
    rest = b"\n".join(lines[1:]) + b"\n"
    bad_values = [("2^70", 2 ** 70), ("-1", -1), ("1e308", 1e308), ("null", None), ("nested", [[[[]]]]),
                  ("a string", "sideways"), ("an object", {"a": 1}), ("true", True), ("a 10k string", "Z" * 10000)]
    for fi, field in enumerate(sorted(first)):
        # four of the bad values per field, rotating, so that every value meets several fields
        for label, v in [bad_values[(fi + k * 2) % len(bad_values)] for k in range(4)]:
            if isinstance(first[field], str) and isinstance(v, str) and field not in ("direction", "status", "cdb",
                                                                                      "dataIn", "dataInSHA256"):
                continue  # another string where a free text is expected is valid
            rec = dict(first)
            rec[field] = v
            data = json.dumps(rec).encode() + b"\n" + rest
            c = Case(CLS, f"replay: {field} = {label}", [], codes=(1, 2))
            c.cwd = ctx.folder(c.cls, c.name)
            p = ctx.write(c.cwd, "t.jsonl", data)
            c.args = ["info", "replay:" + p]
            c.inputs = [p]
            yield c
    yield from replay_case('direction "sideways"', data=json.dumps(dict(first, direction="sideways")).encode() + b"\n" + rest,
                           contains="direction")
    yield from replay_case("statusCode 2^70", data=json.dumps(dict(first, statusCode=2 ** 70)).encode() + b"\n" + rest,
                           contains="statusCode")
    yield from replay_case("a missing field", data=json.dumps({k: v for k, v in first.items() if k != "cdb"}).encode()
                           + b"\n" + rest, contains="line 1")
    # replay of special files
    for label in SPECIAL_LABELS:
        c = Case(CLS, f"replay: {label}", [], codes=(2, 3), time_limit=5)
        c.cwd = ctx.folder(c.cls, c.name)
        path = _special(ctx, c, label)
        if path is None: continue
        c.args = ["info", "replay:" + path]
        yield c

    # --- firmware images that are special files
    img = ctx.generated("synthetic-test")
    for li, label in enumerate(SPECIAL_LABELS + ("a sparse 1 GiB file", "a gzip bomb", "a zip bomb")):
        # every special file as an image for inspect, and for one of the other readers in turn
        for cmd in ("inspect", ("patch", "diff", "search")[li % 3]):
            c = Case(CLS, f"fw {cmd}: {label}", [], codes=(2,), time_limit=5)
            c.cwd = ctx.folder(c.cls, c.name)
            if label == "a sparse 1 GiB file":
                path = sparse1g
            elif label == "a gzip bomb":
                path = _shared(ctx, "bomb.gz", lambda p: open(p, "wb").write(
                    gzip.compress(b"\0" * (200 * MiB), compresslevel=9)))
            elif label == "a zip bomb":
                def mkzip(p):
                    import zipfile
                    with zipfile.ZipFile(p, "w", zipfile.ZIP_DEFLATED) as z:
                        with z.open("fw.bin", "w", force_zip64=True) as f:
                            for _ in range(200):
                                f.write(b"\0" * MiB)
                path = _shared(ctx, "bomb.zip", mkzip)
            else:
                path = _special(ctx, c, label)
            if path is None: continue
            if cmd == "search" and label == "a folder":
                c.ok, c.codes = True, (0,)   # searching a folder (here an empty one) is what search does
            if label in ("a gzip bomb", "a zip bomb", "a sparse 1 GiB file"):
                c.contains = "at most"
            other = ctx.write(c.cwd, "ok.bin", img)
            if cmd == "inspect":
                c.args = ["fw", "inspect", path]
            elif cmd == "patch":
                c.args = ["fw", "patch", path, "--speed", "MCC-004=8x", "-o", os.path.join(c.cwd, "out.bin")]
            elif cmd == "diff":
                c.args = ["fw", "diff", other, path]
            else:
                c.args = ["media", "search", "MCC-004", path]
            c.inputs = [other] + ([path] if os.path.isfile(path) and not path.startswith(("/proc", "/sys")) else [])
            yield c
    # a folder searched by media search that holds a FIFO and a link to /dev/zero beside a good image: the good image
    # is found, the specials are skipped (not read, not waited on)
    c = Case(CLS, "media search: folder with a FIFO and /dev/zero", [], ok=True, out_contains="1 of", time_limit=5)
    c.cwd = ctx.folder(c.cls, c.name)
    d = os.path.join(c.cwd, "imgs")
    os.makedirs(d)
    good_img = ctx.write(d, "good.bin", img)
    fifo = _fifo(d, "fifo.bin")
    os.symlink("/dev/zero", os.path.join(d, "zero.bin"))
    c.args = ["media", "search", "MCC-004", d]
    c.inputs = [good_img]
    c.special = [fifo]
    yield c
