"""Class 4: writing to special files and to the input. Every command that writes a file (`fw patch -o`, `fw generate
-o`, `dump OUT`, `flash --backup-dir/--transcript/--journal`, `restore --journal`, `--transcript` on every command that
talks to a device) is pointed at every kind of target that is not a new regular file: a character device (/dev/null
and a copy made with mknod where permitted), a FIFO, a folder, a symbolic link, the command's own input (by its name,
through a symlinked folder, a hard link, a bind mount where mount is permitted) and an existing image without
--force-overwrite. Each must be refused with one line, the target must stay what it was (a device node or FIFO is never
replaced by a regular file, even with --force-overwrite), the inputs byte-identical and no temp file left.

Then `kill -9` at random moments of `fw patch` and `dump` (and `fw generate`), 18 times each: no `.NAME.odflash-*.tmp`
may survive, neither right after the kill nor after the next run of the same command."""
import os, random, shutil, signal, stat, subprocess, time
from harness import Case, Check, run_case

CLS = "4-special-writes"
SYNTH = ["--family", "synthetic-test", "--revision", "1.01"]
NEC = ["--family", "nec-optiarc", "--layout", "nec-2m-opti3", "--size", "1769480", "--drive-id", "G245",
       "--vendor", "ATAPI", "--product", "iHAS324   Y", "--revision", "BL1Y"]
_cache = {}


def gen(ctx, args):
    key = tuple(args)
    if key not in _cache:
        d = os.path.join(ctx.root, "generated")
        os.makedirs(d, exist_ok=True)
        out = os.path.join(d, f"c04-{len(_cache)}.bin")
        r = subprocess.run([ctx.binary, "fw", "generate"] + args + ["-o", out, "--force-overwrite"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if r.returncode != 0:
            raise RuntimeError("fw generate failed: " + r.stderr.decode(errors="replace"))
        _cache[key] = open(out, "rb").read()
    return _cache[key]


def can_mknod(folder):
    p = os.path.join(folder, ".probe-null")
    try:
        os.mknod(p, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
        os.unlink(p)
        return True
    except OSError:
        return False


# Target kinds. Each returns (path, specials, extra inputs) for a case folder; None when it does not apply.
def t_devnull(folder, inp):
    return "/dev/null", ["/dev/null"], []


def t_chardev(folder, inp):
    p = os.path.join(folder, "nulldev")
    try:
        os.mknod(p, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    except OSError:
        return None
    return p, [p], []


def t_fifo(folder, inp):
    p = os.path.join(folder, "fifo")
    os.mkfifo(p)
    return p, [p], []


def t_dir(folder, inp):
    p = os.path.join(folder, "adir")
    os.mkdir(p)
    return p, [], []


def t_symlink(folder, inp):
    other = os.path.join(folder, "other.bin")
    with open(other, "wb") as f:
        f.write(b"keep me" * 100)
    p = os.path.join(folder, "link.bin")
    os.symlink(other, p)
    return p, [p], [other]


def t_dangling(folder, inp):
    p = os.path.join(folder, "dangling.bin")
    os.symlink(os.path.join(folder, "nowhere.bin"), p)
    return p, [p], []


def t_existing(folder, inp):
    p = os.path.join(folder, "existing.bin")
    with open(p, "wb") as f:
        f.write(b"\x55\xaa" * 4096)
    return p, [], [p]


def t_input(folder, inp):
    return (inp, [], [inp]) if inp else None


def t_input_symdir(folder, inp):
    if not inp: return None
    ln = os.path.join(folder, "viadir")
    os.symlink(os.path.dirname(inp), ln)
    return os.path.join(ln, os.path.basename(inp)), [], [inp]


def t_input_hardlink(folder, inp):
    if not inp: return None
    hl = os.path.join(folder, "hard.bin")
    os.link(inp, hl)
    return hl, [], [inp, hl]


def t_input_dotdot(folder, inp):
    if not inp: return None
    sub = os.path.join(folder, "sub")
    os.mkdir(sub)
    return os.path.join(sub, "..", os.path.basename(inp)), [], [inp]


KINDS = [("dev-null", t_devnull), ("char-device", t_chardev), ("fifo", t_fifo), ("folder", t_dir),
         ("symlink", t_symlink), ("dangling-symlink", t_dangling), ("existing-image", t_existing),
         ("input", t_input), ("input-via-symlinked-folder", t_input_symdir), ("input-hard-link", t_input_hardlink),
         ("input-via-dotdot", t_input_dotdot)]
# The names a case may leave: what the kind itself made.
MADE = ["nulldev", "fifo", "adir", "other.bin", "link.bin", "dangling.bin", "existing.bin", "viadir", "hard.bin", "sub",
        "in.bin", "img.bin", "backup.bin", "t.jsonl", "backups"]


def writers(ctx, folder):
    """(name, args builder taking the target, input path or None, which slot, can force, allowed new names)."""
    synth = ctx.write(folder, "in.bin", gen(ctx, SYNTH))
    out = []
    # fw patch: the output, and the input itself
    out.append(("fw patch -o", synth, lambda t: ["fw", "patch", synth, "--speed", "MCC-004=8x,16x", "-o", t], True))
    out.append(("fw generate -o", None, lambda t: ["fw", "generate", "--family", "synthetic-test", "-o", t], True))
    out.append(("dump OUT", None, lambda t: ["dump", "emu:ihas324y", t], True))
    out.append(("dump --json OUT", None, lambda t: ["dump", "--json", "emu:ihas324y", t], True))
    out.append(("flash --transcript", synth, lambda t: ["flash", "emu:synthetic-writer", synth, "--yes", "--allow-untested",
                                                        "--no-backup", "--transcript", t], False))
    out.append(("flash --journal", synth, lambda t: ["flash", "emu:synthetic-writer", synth, "--yes", "--allow-untested",
                                                     "--no-backup", "--journal", t], False))
    out.append(("flash --dry-run --journal", synth, lambda t: ["flash", "emu:synthetic-writer", synth, "--dry-run",
                                                               "--allow-untested", "--journal", t], False))
    out.append(("flash --backup-dir", synth, lambda t: ["flash", "emu:synthetic-writer", synth, "--yes", "--allow-untested",
                                                        "--backup-dir", t], False))
    out.append(("restore --journal", synth, lambda t: ["restore", "emu:synthetic-writer", synth, "--yes", "--allow-untested",
                                                       "--no-backup", "--journal", t], False))
    out.append(("restore --transcript", synth, lambda t: ["restore", "emu:synthetic-writer", synth, "--yes",
                                                          "--allow-untested", "--no-backup", "--transcript", t], False))
    out.append(("media --check --transcript", synth, lambda t: ["media", "emu:ihas124y-cmc", "--check", "--firmware", synth,
                                                                "--transcript", t], False))
    for cmd in (["info", "emu:ihas324y"], ["region", "emu:ihas324y"], ["booktype", "emu:ihas324y"],
                ["media", "emu:ihas124y-cmc"], ["dump", "emu:ihas324y", os.path.join(folder, "backup.bin")],
                ["scan", "--emulated", "--sysfs", "/nonexistent"]):
        out.append((" ".join(cmd[:2]) + " --transcript", None, lambda t, cmd=cmd: cmd + ["--transcript", t], False))
    return out


def replay_source(ctx, folder):
    """A recorded JSON-lines transcript of `info emu:ihas324y`: the input of `info replay:FILE`."""
    p = os.path.join(folder, "t.jsonl")
    subprocess.run([ctx.binary, "info", "emu:ihas324y", "--transcript", p], stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, cwd=folder)
    return p


def cases(ctx):
    probe = ctx.folder(CLS, "probe")
    mknod_ok = can_mknod(probe)
    shutil.rmtree(probe)
    for wi in range(len(writers(ctx, ctx.folder(CLS, "listing")))):
        for kind, fn in KINDS:
            if kind == "char-device" and not mknod_ok:
                continue
            for force in (False, True):
                c = Case(CLS, "", [])
                c.cwd = ctx.folder(CLS, f"{wi}-{kind}")
                name, inp, build, can_force = writers(ctx, c.cwd)[wi]
                if force and not can_force:
                    shutil.rmtree(c.cwd)
                    continue
                t = fn(c.cwd, inp)
                if t is None:
                    shutil.rmtree(c.cwd)
                    continue
                target, specials, extra = t
                c.name = f"{name} onto {kind}" + (" --force-overwrite" if force else "")
                c.args = build(target) + (["--force-overwrite"] if force else [])
                c.inputs = sorted(set(([inp] if inp else []) + extra))
                c.special = specials
                c.allowed_new = MADE
                c.time_limit = 10.0
                if name == "flash --backup-dir" and kind == "folder":
                    c.ok = True   # a folder is what --backup-dir names: the backup goes into it
                elif kind == "existing-image" and not force:
                    c.codes = (4,)
                elif kind == "existing-image" and force:
                    if name.split()[0] in ("fw", "dump") and "--transcript" not in name:
                        # --force-overwrite replaces an existing output: a success, and the file may change
                        c.ok = True
                        c.inputs = [inp] if inp else []
                        c.allowed_new = MADE + ["existing.bin"]
                    else:
                        c.codes = (4,)
                else:
                    c.codes = (1, 2, 4)
                yield c
    # A replay transcript is the input of `info replay:FILE`: --transcript onto it is refused.
    for via in ("name", "symlinked-folder", "hard-link"):
        c = Case(CLS, f"info replay --transcript onto its transcript ({via})", [])
        c.cwd = ctx.folder(CLS, c.name)
        src = replay_source(ctx, c.cwd)
        target = {"name": lambda: src, "symlinked-folder": lambda: t_input_symdir(c.cwd, src)[0],
                  "hard-link": lambda: t_input_hardlink(c.cwd, src)[0]}[via]()
        c.args = ["info", "replay:" + src, "--transcript", target]
        c.inputs = [src]
        c.allowed_new = MADE
        c.codes = (1, 2, 4)
        yield c
    # --journal onto an existing image that is not a journal: appending JSON lines would corrupt it
    for cmd in ("flash", "restore"):
        c = Case(CLS, f"{cmd} --journal onto another firmware image", [])
        c.cwd = ctx.folder(CLS, c.name)
        src = ctx.write(c.cwd, "in.bin", gen(ctx, SYNTH))
        other = ctx.write(c.cwd, "img.bin", gen(ctx, NEC))
        c.args = [cmd, "emu:synthetic-writer", src, "--yes", "--allow-untested", "--no-backup", "--journal", other]
        c.inputs = [src, other]
        c.allowed_new = MADE
        c.codes = (4,)
        yield c


# ---- checks: bind mounts (need a teardown) and kill -9 at random moments ----

def _bind_check(ctx, wi):
    def run():
        folder = ctx.folder(CLS, f"bind-{wi}")
        name, inp, build, _ = writers(ctx, folder)[wi]
        mnt = os.path.join(folder, "mnt")
        os.mkdir(mnt)
        r = subprocess.run(["mount", "--bind", folder, mnt], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if r.returncode != 0:
            return []   # mount not permitted here: nothing to judge
        try:
            c = Case(CLS, name, build(os.path.join(mnt, os.path.basename(inp))), inputs=[inp], cwd=folder,
                     allowed_new=MADE + ["mnt"], codes=(1, 2, 4))
            bad, _ = run_case(ctx, c)
            return bad
        finally:
            subprocess.run(["umount", mnt], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return run


def _tmp_left(folder):
    return sorted(n for n in os.listdir(folder) if ".odflash-" in n and n.endswith(".tmp"))


def _kill_check(ctx, what, args_fn, rounds, rng):
    def run():
        folder = ctx.folder(CLS, "kill9-" + what.replace(" ", "-"))
        env = dict(os.environ, NO_COLOR="1", HOME=folder)
        env.pop("ODFLASH_DB", None)
        bad = []
        # How long one run takes, so that the kills land all over it.
        out = os.path.join(folder, "out.bin")
        t0 = time.monotonic()
        subprocess.run([ctx.binary] + args_fn(folder, out), cwd=folder, env=env, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        span = max(0.02, time.monotonic() - t0)
        for i in range(rounds):
            for p in (out,):
                if os.path.exists(p): os.unlink(p)
            p = subprocess.Popen([ctx.binary] + args_fn(folder, out), cwd=folder, env=env, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
            if i % 2 == 0:
                time.sleep(rng.uniform(0.3, 1.0) * span)
            else:
                # the moment the process starts writing: anything new in the folder (as inotify would see it)
                before = set(os.listdir(folder))
                deadline = time.monotonic() + 3 * span
                while time.monotonic() < deadline and p.poll() is None and set(os.listdir(folder)) <= before:
                    time.sleep(0.0005)
                time.sleep(rng.uniform(0, 0.002))
            p.send_signal(signal.SIGKILL)
            p.wait()
            left = _tmp_left(folder)
            if left:
                bad.append(f"kill -9 after {i + 1} runs left {left[0]}")
                break
        # The next run of the same command leaves none either (it cleans what an older version left, and says so).
        stale = os.path.join(folder, ".out.bin.odflash-99999-1234.tmp")
        with open(stale, "wb") as f:
            f.write(b"half")
        old = time.time() - 3600
        os.utime(stale, (old, old))
        if os.path.exists(out): os.unlink(out)
        r = subprocess.run([ctx.binary] + args_fn(folder, out), cwd=folder, env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE)
        if r.returncode != 0:
            bad.append(f"the run after the kills failed ({r.returncode}): {r.stderr.decode(errors='replace')[:200]}")
        if _tmp_left(folder):
            bad.append("a stale temp file of the same output survives the next run: " + ", ".join(_tmp_left(folder)))
        elif "temp" not in (r.stderr + r.stdout).decode(errors="replace").lower():
            bad.append("the next run removed a stale temp file without saying so")
        return bad
    return run


def checks(ctx):
    rng = random.Random(4)
    folder = ctx.folder(CLS, "bind-listing")
    ws = writers(ctx, folder)
    for wi, (name, inp, _, _) in enumerate(ws):
        if inp:
            yield Check(CLS, f"{name} onto its input through a bind mount", _bind_check(ctx, wi))
    big = gen(ctx, NEC)
    synth = gen(ctx, SYNTH)

    def patch_args(folder, out):
        p = os.path.join(folder, "in.bin")
        if not os.path.exists(p):
            open(p, "wb").write(synth)
        return ["fw", "patch", p, "--speed", "MCC-004=8x,16x", "-o", out]

    def gen_args(folder, out):
        return ["fw", "generate"] + NEC + ["-o", out]

    def dump_args(folder, out):
        return ["dump", "emu:ihas324y", out]

    def gen_big_args(folder, out):
        # the largest image fw generate makes: the write takes long enough for kills to land in it
        return ["fw", "generate", "--family", "spc-microcode", "--size", "0x4000000", "-o", out]

    for what, fn in (("fw patch", patch_args), ("fw generate", gen_args), ("dump", dump_args),
                     ("fw generate 64 MiB", gen_big_args)):
        yield Check(CLS, f"kill -9 at random moments of {what} (18 runs)", _kill_check(ctx, what, fn, 18, rng))
