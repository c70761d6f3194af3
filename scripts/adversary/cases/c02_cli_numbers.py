"""Class 2: numbers and names on the command line. Every case is a usage error (exit 2) with one line naming the
option, and nothing is written. Generated from the option grammar in --help: each numeric option of every command
(fw diff --max-ranges, fw generate --size/--count/--seed, journal --last, region --set, fw patch --speed) gets the
values at and beyond the edges of every integer type, floats that overflow, hex where the help says decimal, and
text that is not a number; speeds get one strict grammar ('8x', '2.4x', comma-separated)."""
from harness import Case

EDGE_INTS = ["-1", "-9223372036854775808", "9223372036854775808", "18446744073709551616", "1e300", "0x", "--1", "",
             " 4", "4 ", "NaN"]
BAD_SPEEDS = ["1e300x", "inf", "infx", "-infx", "nanx", "9223372036854775808x", "-4x", "0x", "4xx", "x", "4,", ",4x",
              "1e-300x", "0x10x", "4x,4x" * 500, "", "4x,,8x", "4.5.5x", "-0x", "4 x", " 4x", "4x ", "+4x", "4X,", "1e3x",
              "9223372036854775807x", "-9223372036854775808x", "\u0664x"]
# Every integer the lexers of the world accept one way or another, and none of which is an ordinary count.
INT_FORMS = ["-1", "-9223372036854775808", "9223372036854775807", "9223372036854775808", "18446744073709551616",
             "1e300", "1.5", "inf", "NaN", "", " ", "0x", "--1", "4 ", " 4", "4x", "\u0664", "1_000"]
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
    # fw generate --count and --seed, journal --last, region --set: the same forms.
    for v in INT_FORMS + ["0"]:
        c = Case("2-cli-numbers", f"generate --count {v!r}", [], codes=(2,))
        c.cwd = ctx.folder(c.cls, c.name)
        c.args = ["fw", "generate", "--family", "synthetic-test", f"--count={v}", "-o", c.cwd + "/out"]
        yield c
    for v in INT_FORMS:
        if v in ("-1", "9223372036854775807", "-9223372036854775808", "9223372036854775808"):
            continue    # a seed may be any 64-bit value
        c = Case("2-cli-numbers", f"generate --seed {v!r}", [], codes=(2,))
        c.cwd = ctx.folder(c.cls, c.name)
        c.args = ["fw", "generate", "--family", "synthetic-test", f"--seed={v}", "-o", c.cwd + "/out.bin"]
        yield c
    for v in INT_FORMS:
        for json in (False, True):
            c = Case("2-cli-numbers", f"journal --last {v!r}{' json' if json else ''}", [], codes=(2,))
            c.cwd = ctx.folder(c.cls, c.name)
            c.args = ["journal", f"--last={v}", "--journal", c.cwd + "/journal.jsonl"] + (["--json"] if json else [])
            yield c
    for v in INT_FORMS + ["0", "9", "0x1"]:
        c = Case("2-cli-numbers", f"region --set {v!r}", [], codes=(2,))
        c.cwd = ctx.folder(c.cls, c.name)
        c.args = ["region", "emu:ihas324y", f"--set={v}", "--yes"]
        yield c
    for v in ["0x", "1e3", "4k", "0x10x", "0b100", "-0x100", "0x-100"]:
        c = Case("2-cli-numbers", f"generate spc --size {v}", [], codes=(2,))
        c.cwd = ctx.folder(c.cls, c.name)
        c.args = ["fw", "generate", "--family", "spc-microcode", "--size", v, "-o", c.cwd + "/out.bin"]
        yield c
    for v in ["1e300", "1.5", "0x10", "", "4 "]:
        for json in (False, True):
            c = Case("2-cli-numbers", f"diff --max-ranges {v!r}{' json' if json else ''}", [], codes=(2,))
            c.cwd = ctx.folder(c.cls, c.name)
            a = ctx.write(c.cwd, "a.bin", img)
            b = ctx.write(c.cwd, "b.bin", img[:-1] + b"\x01")
            c.args = ["fw", "diff", a, b, f"--max-ranges={v}"] + (["--json"] if json else [])
            c.inputs = [a, b]
            yield c
    for ctl in CONTROL:
        c = Case("2-cli-numbers", f"rename to {ctl!r}", [], codes=(2,))
        c.cwd = ctx.folder(c.cls, c.name)
        src = ctx.write(c.cwd, "in.bin", img)
        c.args = ["fw", "patch", src, "--rename", f"RICOHJPN-R01-02=EVIL{ctl}CODE", "-o", c.cwd + "/out.bin"]
        c.inputs = [src]
        c.contains = None if any(ord(ch) >= 0x80 for ch in ctl) else "\\x"
        yield c
        # the same character in the old code, and in a long name (refused for the character, before any length check)
        for where, arg in (("old", f"EVIL{ctl}CODE=RICOHJPN-R01-02"), ("long", f"RICOHJPN-R01-02={'A' * 40}{ctl}")):
            c = Case("2-cli-numbers", f"rename {where} {ctl!r}", [], codes=(2,))
            c.cwd = ctx.folder(c.cls, c.name)
            src = ctx.write(c.cwd, "in.bin", img)
            c.args = ["fw", "patch", src, "--rename", arg, "-o", c.cwd + "/out.bin"]
            c.inputs = [src]
            c.contains = None if any(ord(ch) >= 0x80 for ch in ctl) else "\\x"
            yield c
