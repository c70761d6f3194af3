"""Class 10: resources. Every command stays under 10 s and 200 MB on inputs up to the size limits it states: `fw
generate --size` up to 64 MiB ("1 byte to 64 MiB"), images of 64 MiB for `fw inspect`, `fw patch`, `fw diff` (two of
them, differing everywhere and in one byte), `flash --dry-run` and `media search` over a folder of many 64 MiB files,
`dump` of the largest emulated flash. The harness measures wall time and peak RSS; exit statuses are what each command
says for its outcome (a failed patch or a diff that finds differences is not a resource failure)."""
import os, subprocess
from harness import Case

CLS = "10-resources"
MIB = 1 << 20


def _file(ctx, name, make):
    p = os.path.join(ctx.root, "generated", name)
    if not os.path.exists(p):
        os.makedirs(os.path.dirname(p), exist_ok=True)
        make(p)
    return p


def _random(p, seed=0):
    with open(p, "wb") as f:
        block = os.urandom(MIB)
        for i in range(64):
            f.write(block[(i + seed) % MIB:] + block[:(i + seed) % MIB])


def cases(ctx):
    ra = _file(ctx, "c10-a.bin", _random)
    rb = _file(ctx, "c10-b.bin", lambda p: _random(p, 7))
    one = _file(ctx, "c10-a1.bin", lambda p: (open(p, "wb").write(open(ra, "rb").read()[:-1] + b"\x00")))
    spc = _file(ctx, "c10-spc.bin", lambda p: subprocess.run(
        [ctx.binary, "fw", "generate", "--family", "spc-microcode", "--size", "0x4000000", "--vendor", "ODFLASH",
         "--product", "SCSI_DEBUG_CD", "-o", p], check=True, stdout=subprocess.DEVNULL))

    def case(name, args, inputs, ok=False, codes=(1, 2, 3, 4, 5), allowed=(), report=False):
        c = Case(CLS, name, args, inputs=inputs, ok=ok, codes=codes, allowed_new=list(allowed), report=report)
        return c

    for fam, size in (("spc-microcode", "0x4000000"), ("mediatek-mt1959", "0x4000000"), ("lg-renesas", "0x4000000"),
                      ("spc-microcode", "67108864")):
        for json in (False, True):
            c = case(f"fw generate {fam} --size {size}{' --json' if json else ''}", [], [], ok=True, allowed=["out.bin"])
            c.cwd = ctx.folder(CLS, c.name)
            c.args = ["fw", "generate", "--family", fam, "--size", size, "-o", c.cwd + "/out.bin"] + (["--json"] if json else [])
            yield c
    for label, p in (("random", ra), ("spc image", spc)):
        # 0: valid or not verifiable; 1: examined and found invalid
        yield case(f"fw inspect 64 MiB {label}", ["fw", "inspect", p], [p], codes=(0, 1), report=True)
        yield case(f"fw inspect --json --heuristic 64 MiB {label}", ["fw", "inspect", "--json", "--heuristic", p], [p],
                   codes=(0, 1), report=True)
        c = case(f"fw patch 64 MiB {label}", [], [p], codes=(2, 4), allowed=["out.bin"])
        c.cwd = ctx.folder(CLS, c.name)
        c.args = ["fw", "patch", p, "--speed", "MCC-004=8x", "-o", c.cwd + "/out.bin"]
        yield c
    yield case("fw diff two 64 MiB files differing everywhere", ["fw", "diff", ra, rb], [ra, rb], codes=(1,), report=True)
    yield case("fw diff two 64 MiB files differing everywhere --json", ["fw", "diff", "--json", ra, rb], [ra, rb], codes=(1,), report=True)
    yield case("fw diff 64 MiB files differing in one byte", ["fw", "diff", ra, one], [ra, one], codes=(1,), report=True)
    yield case("fw diff 64 MiB --max-ranges 100000", ["fw", "diff", ra, rb, "--max-ranges", "100000"], [ra, rb], codes=(1,), report=True)
    yield case("fw diff 64 MiB identical", ["fw", "diff", spc, spc], [spc], ok=True)
    yield case("flash --dry-run 64 MiB spc image", ["flash", "emu:scsi-debug-cd", spc, "--dry-run", "--allow-untested",
                                                     "--no-backup"], [spc], codes=(1, 4))
    c = case("dump emu:ihas324y", [], [], ok=True, allowed=["d.bin"])
    c.cwd = ctx.folder(CLS, c.name)
    c.args = ["dump", "emu:ihas324y", c.cwd + "/d.bin"]
    yield c
    # media search over a folder of 24 files of 64 MiB (hard links: no disk cost) and one of each kind
    for n in (8, 24):
        c = case(f"media search over {n} files of 64 MiB", [], [ra], ok=True, allowed=["lib"])
        c.cwd = ctx.folder(CLS, c.name)
        lib = os.path.join(c.cwd, "lib")
        os.mkdir(lib)
        for i in range(n):
            os.link(ra if i % 2 else spc, os.path.join(lib, f"img{i:02d}.bin"))
        c.args = ["media", "search", "RICOHJPN-R01", lib]
        yield c
        c2 = case(f"media search --mentions over {n} files of 64 MiB", ["media", "search", "--mentions", "RICOHJPN-R01", lib],
                  [ra], ok=True, allowed=["lib"])
        c2.cwd = c.cwd
        yield c2
