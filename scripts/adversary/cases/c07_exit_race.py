"""Class 7: a race at exit. Commands that read a large input start work on other threads (a hash of the image, the
firmware-db read ahead while the command line is parsed); every error path must end them before the process exits.
Each error path below runs 25 times on a 64 MiB input: any crash (signal 11, 6, "corrupted size vs. prev_size"),
any second line, any other exit status fails the case."""
import os
from harness import Case

CLS = "7-exit-race"
RUNS = 25
SIZE = 64 * 1024 * 1024


def big(ctx):
    """A 64 MiB file of pseudo-random bytes (no layout claims it), made once."""
    p = os.path.join(ctx.root, "generated", "c07-64mib.bin")
    if not os.path.exists(p):
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            block = os.urandom(1 << 20)
            for i in range(SIZE >> 20):
                f.write(block[i:] + block[:i])
    return p


def big_image(ctx):
    """The largest image fw generate makes (64 MiB), a valid one."""
    p = os.path.join(ctx.root, "generated", "c07-64mib-spc.bin")
    if not os.path.exists(p):
        import subprocess
        subprocess.run([ctx.binary, "fw", "generate", "--family", "spc-microcode", "--size", "0x4000000", "-o", p,
                        "--force-overwrite"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return p


def cases(ctx):
    raw = big(ctx)
    img = big_image(ctx)
    # Each path: (name, args builder given (folder, input), allowed exit statuses)
    paths = []
    for label, inp in (("random", raw), ("image", img)):
        paths += [
            (f"fw inspect {label} --db missing", lambda d, i: ["fw", "inspect", i, "--db", d + "/no-such-db"], (2,)),
            (f"fw inspect {label} --db empty folder", lambda d, i: ["fw", "inspect", i, "--db", d + "/empty"], (2,)),
            (f"fw inspect {label} --db is a file", lambda d, i: ["fw", "inspect", i, "--db", i], (2,)),
            (f"fw inspect {label} --json --db missing", lambda d, i: ["fw", "inspect", "--json", i, "--db", d + "/nope"], (2,)),
            (f"fw inspect {label} --member on a .bin", lambda d, i: ["fw", "inspect", i, "--member", "x.bin"], (2,)),
            (f"fw diff {label} --db missing", lambda d, i: ["fw", "diff", i, i, "--db", d + "/nope"], (2,)),
            (f"fw patch {label} --db missing", lambda d, i: ["fw", "patch", i, "--speed", "MCC-004=8x", "-o", d + "/o.bin",
                                                             "--db", d + "/nope"], (2,)),
            (f"flash {label} --db missing", lambda d, i: ["flash", "emu:synthetic-writer", i, "--yes", "--db", d + "/nope"], (2, 3)),
        ]
    paths += [
        ("fw inspect random (unidentified: a success)", lambda d, i: ["fw", "inspect", i], None),
        ("fw inspect random --db with a broken family file", lambda d, i: ["fw", "inspect", i, "--db", d + "/broken"], (2,)),
        ("media search --db missing over 64 MiB", lambda d, i: ["media", "search", "RICOHJPN-R01", i, "--db", d + "/nope"], (2,)),
    ]
    for name, build, codes in paths:
        inp = img if " image " in f" {name} " else raw
        for n in range(RUNS):
            c = Case(CLS, f"{name} #{n + 1}", [], codes=codes or (0,), ok=codes is None)
            c.cwd = ctx.folder(CLS, name)
            os.mkdir(os.path.join(c.cwd, "empty"))
            broken = os.path.join(c.cwd, "broken")
            os.makedirs(os.path.join(broken, "families"))
            with open(os.path.join(broken, "families", "x.yaml"), "w") as f:
                f.write("id: [unclosed\n")
            c.args = build(c.cwd, inp)
            c.inputs = [inp]
            c.allowed_new = ["empty", "broken"]
            yield c
