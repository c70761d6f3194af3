"""Class 2: numbers and names on the command line. Every case is a usage error (exit 2) with one line naming the
option, and nothing is written. Generated from the option grammar in --help: each numeric option gets the values
at and beyond the edges of every integer type, floats that overflow, and text that is not a number."""
from harness import Case

EDGE_INTS = ["-1", "-9223372036854775808", "9223372036854775808", "18446744073709551616", "1e300", "0x", "--1", "",
             " 4", "4 ", "NaN"]
BAD_SPEEDS = ["1e300x", "inf", "infx", "-infx", "nanx", "9223372036854775808x", "-4x", "0x", "4xx", "x", "4,", ",4x",
              "1e-300x", "0x10x", "4x,4x" * 500]
CONTROL = ["\x1b[2J", "\x01", "\r", "\n", "\x7f", "\x1b]0;title\x07", "\u009b2J"]


def cases(ctx):
    img = ctx.generated("synthetic-test")
    for v in EDGE_INTS:
        def mk(args_fn, what, v=v):
            return args_fn
        c = Case("2-cli-numbers", f"diff --max-ranges {v!r}", [], codes=(2,))
        c.cwd = ctx.folder(c.cls, c.name)
        a = ctx.write(c.cwd, "a.bin", img)
        b = ctx.write(c.cwd, "b.bin", img[:-1] + b"\x01")
        c.args = ["fw", "diff", a, b, f"--max-ranges={v}"]
        c.inputs = [a, b]
        yield c
    for v in BAD_SPEEDS:
        for json in (False, True):
            c = Case("2-cli-numbers", f"patch --speed {v[:20]!r}{' json' if json else ''}", [], codes=(2,))
            c.cwd = ctx.folder(c.cls, c.name)
            src = ctx.write(c.cwd, "in.bin", img)
            c.args = ["fw", "patch", src, "--speed", f"RICOHJPN-R01-02={v}", "-o", c.cwd + "/out.bin"] + (["--json"] if json else [])
            c.inputs = [src]
            yield c
    for v in ["0", "1", "0x100", "-1", "4096x", "9223372036854775807", "18446744073709551616"]:
        for fam in ("plextor", "nec-optiarc", "mediatek-mt1959"):
            c = Case("2-cli-numbers", f"generate {fam} --size {v}", [], codes=(2,))
            c.cwd = ctx.folder(c.cls, c.name)
            c.args = ["fw", "generate", "--family", fam, "--size", v, "-o", c.cwd + "/out.bin"]
            yield c
    for ctl in CONTROL:
        c = Case("2-cli-numbers", f"rename to {ctl!r}", [], codes=(2,))
        c.cwd = ctx.folder(c.cls, c.name)
        src = ctx.write(c.cwd, "in.bin", img)
        c.args = ["fw", "patch", src, "--rename", f"RICOHJPN-R01-02=EVIL{ctl}CODE", "-o", c.cwd + "/out.bin"]
        c.inputs = [src]
        yield c
