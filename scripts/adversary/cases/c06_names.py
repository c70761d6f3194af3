"""Class 6: names. File names are bytes on Linux: a name that is not UTF-8 must be opened and written exactly (fw
inspect, fw patch -o, fw generate -o, fw diff, media search over a folder, journal --journal, replay:FILE). Names
with control characters (ESC sequences, CR, LF, BEL, DEL, C1 CSI) are printed escaped in errors, tables and JSON,
never raw to the terminal. Errors are one line of bounded length (a path of thousands of characters, a zip with
many members) and name the file and the cause."""
import io, json, os, zipfile
from harness import Case

CLS = "6-names"
NON_UTF8 = [b"\xff\xfe.bin", b"caf\xe9.bin", b"\xc3(.bin", b"\xed\xa0\x80.bin", b"\xef\x9f\xbf-pua.bin", b"\x80"]
CONTROL = ["esc\x1b[2J.bin", "cr\r.bin", "lf\n.bin", "bel\x07.bin", "del\x7f.bin", "csi\u009b2J.bin",
           "title\x1b]0;pwned\x07.bin", "tab\t.bin"]


def _b(folder, name):
    return os.fsencode(folder) + b"/" + name


def cases(ctx):
    img = ctx.generated("synthetic-test")
    # --- names that are not UTF-8 work, byte for byte
    for ni, name in enumerate(NON_UTF8):
        label = repr(name)[2:-1]
        for js in (ni % 2 == 1,):
            sfx = " json" if js else ""
            J = ["--json"] if js else []
            c = Case(CLS, f"inspect {label}{sfx}", [], ok=True, clean_output=True)
            c.cwd = ctx.folder(c.cls, c.name)
            p = _b(c.cwd, name)
            open(p, "wb").write(img)
            c.args = ["fw", "inspect", p] + J
            c.inputs = [os.fsdecode(p)]
            yield c

            c = Case(CLS, f"patch -o {label}{sfx}", [], ok=True, clean_output=True)
            c.cwd = ctx.folder(c.cls, c.name)
            src = ctx.write(c.cwd, "in.bin", img)
            out = _b(c.cwd, name)
            c.args = ["fw", "patch", src, "--speed", "MCC-004=8x", "-o", out] + J
            c.inputs = [src]
            c.allowed_new = [os.fsdecode(name)]
            c.creates = [out]
            yield c

            c = Case(CLS, f"patch {label} -o out{sfx}", [], ok=True, clean_output=True)
            c.cwd = ctx.folder(c.cls, c.name)
            src = _b(c.cwd, name)
            open(src, "wb").write(img)
            c.args = ["fw", "patch", src, "--speed", "MCC-004=8x", "-o", _b(c.cwd, b"out.bin")] + J
            c.inputs = [os.fsdecode(src)]
            c.allowed_new = ["out.bin"]
            c.creates = [_b(c.cwd, b"out.bin")]
            yield c

            c = Case(CLS, f"generate -o {label}{sfx}", [], ok=True, clean_output=True)
            c.cwd = ctx.folder(c.cls, c.name)
            out = _b(c.cwd, name)
            c.args = ["fw", "generate", "--family", "synthetic-test", "-o", out] + J
            c.allowed_new = [os.fsdecode(name)]
            c.creates = [out]
            yield c

            c = Case(CLS, f"diff {label} with itself{sfx}", [], ok=True, clean_output=True)
            c.cwd = ctx.folder(c.cls, c.name)
            a = _b(c.cwd, name)
            open(a, "wb").write(img)
            b = ctx.write(c.cwd, "b.bin", img)
            c.args = ["fw", "diff", a, b] + J
            c.inputs = [os.fsdecode(a), b]
            yield c

            c = Case(CLS, f"media search a folder holding {label}{sfx}", [], ok=True, clean_output=True,
                     out_contains=None if js else "1 of 1")
            c.cwd = ctx.folder(c.cls, c.name)
            d = os.path.join(c.cwd, "imgs")
            os.makedirs(d)
            a = _b(d, name)
            open(a, "wb").write(img)
            c.args = ["media", "search", "MCC-004", d] + J
            c.inputs = [os.fsdecode(a)]
            yield c

            c = Case(CLS, f"journal --journal {label}{sfx}", [], ok=True, clean_output=True)
            c.cwd = ctx.folder(c.cls, c.name)
            j = _b(c.cwd, name)
            e = {"device": "emu:x", "drive": "A B C", "event": "committing", "family": "f", "image": "i.bin",
                 "protocolName": "p", "sha256": "00" * 32, "time": "2026-01-01T00:00:00Z"}
            open(j, "wb").write(json.dumps(e).encode() + b"\n")
            c.args = ["journal", "--journal", j] + J
            c.inputs = [os.fsdecode(j)]
            yield c

            c = Case(CLS, f"missing {label}: the name in the error{sfx}", [], codes=(2,), clean_output=True)
            c.cwd = ctx.folder(c.cls, c.name)
            c.args = ["fw", "inspect", _b(c.cwd, b"missing-" + name)] + J
            yield c

    # a replay transcript under a non-UTF-8 name
    c = Case(CLS, "replay from a non-UTF-8 name", [], ok=True, clean_output=True)
    c.cwd = ctx.folder(c.cls, c.name)
    t = _b(c.cwd, b"t\xff.jsonl")
    import subprocess
    subprocess.run([ctx.binary, "info", "emu:ihas124y", "--transcript", os.path.join(c.cwd, "rec.jsonl")], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=c.cwd)
    os.rename(os.path.join(c.cwd, "rec.jsonl"), t)
    c.args = ["info", b"replay:" + t]
    c.inputs = [os.fsdecode(t)]
    yield c

    # --- control characters in names: escaped everywhere
    for ni, name in enumerate(CONTROL):
        label = repr(name)[1:-1]
        for js in (ni % 2 == 1,):
            sfx = " json" if js else ""
            J = ["--json"] if js else []
            c = Case(CLS, f"missing {label}{sfx}", [], codes=(2,), clean_output=True)
            c.cwd = ctx.folder(c.cls, c.name)
            c.args = ["fw", "inspect", os.path.join(c.cwd, name)] + J
            yield c

            c = Case(CLS, f"inspect {label}{sfx}", [], ok=True, clean_output=True)
            c.cwd = ctx.folder(c.cls, c.name)
            p = ctx.write(c.cwd, name, img)
            c.args = ["fw", "inspect", p] + J
            c.inputs = [p]
            yield c

            c = Case(CLS, f"not an image {label}{sfx}", [], codes=(2,), clean_output=True)
            c.cwd = ctx.folder(c.cls, c.name)
            p = ctx.write(c.cwd, name, b"")
            c.args = ["fw", "inspect", p] + J
            c.inputs = [p]
            yield c

            c = Case(CLS, f"patch -o {label}{sfx}", [], ok=True, clean_output=True)
            c.cwd = ctx.folder(c.cls, c.name)
            src = ctx.write(c.cwd, "in.bin", img)
            c.args = ["fw", "patch", src, "--speed", "MCC-004=8x", "-o", os.path.join(c.cwd, name)] + J
            c.inputs = [src]
            c.allowed_new = [name]
            c.creates = [os.path.join(c.cwd, name)]
            yield c

            c = Case(CLS, f"patch -o existing {label}{sfx}", [], codes=(4,), clean_output=True)
            c.cwd = ctx.folder(c.cls, c.name)
            src = ctx.write(c.cwd, "in.bin", img)
            existing = ctx.write(c.cwd, name, b"keep")
            c.args = ["fw", "patch", src, "--speed", "MCC-004=8x", "-o", existing] + J
            c.inputs = [src, existing]
            yield c

            c = Case(CLS, f"media search a folder holding {label}{sfx}", [], ok=True, clean_output=True)
            c.cwd = ctx.folder(c.cls, c.name)
            d = os.path.join(c.cwd, "imgs")
            os.makedirs(d)
            p = ctx.write(d, name, img)
            c.args = ["media", "search", "MCC-004", d] + J
            c.inputs = [p]
            yield c

            c = Case(CLS, f"replay:{label} missing{sfx}", [], codes=(2, 3), clean_output=True)
            c.cwd = ctx.folder(c.cls, c.name)
            c.args = ["info", "replay:" + os.path.join(c.cwd, name)] + J
            yield c

            c = Case(CLS, f"journal entry fields with {label}{sfx}", [], ok=True, clean_output=True)
            c.cwd = ctx.folder(c.cls, c.name)
            e = {"device": "emu:" + name, "drive": name, "event": "committing", "family": "f", "image": name,
                 "protocolName": name, "sha256": "00" * 32, "time": "2026-01-01T00:00:00Z", "detail": name}
            j = ctx.write(c.cwd, "journal.jsonl", json.dumps(e).encode() + b"\n")
            c.args = ["journal", "--journal", j] + J
            c.inputs = [j]
            yield c

    # --- long names and long lists: one bounded line
    for n in (300, 1000, 4000, 100000):
        for js in (False, True):
            c = Case(CLS, f"a path of {n} characters{' json' if js else ''}", [], codes=(2,), clean_output=True)
            c.cwd = ctx.folder(c.cls, c.name)
            c.args = ["fw", "inspect", os.path.join(c.cwd, ("d" * 200 + "/") * (n // 201) + "x.bin")] + (["--json"] if js else [])
            yield c
    for n in (50, 900):
        b = io.BytesIO()
        with zipfile.ZipFile(b, "w", zipfile.ZIP_STORED) as z:
            for i in range(n):
                z.writestr(f"{'long-folder-name/' * 4}image-{i:05d}-\x1b[31m.bin", b"x" * 16)
        for js in (False, True):
            c = Case(CLS, f"{n} images in a zip, none chosen{' json' if js else ''}", [], codes=(2,), contains="--member",
                     clean_output=True)
            c.cwd = ctx.folder(c.cls, c.name)
            z = ctx.write(c.cwd, "many.zip", b.getvalue())
            c.args = ["fw", "inspect", z] + (["--json"] if js else [])
            c.inputs = [z]
            yield c
            c = Case(CLS, f"{n} images in a zip, --member missing{' json' if js else ''}", [], codes=(2,),
                     contains="nope.bin", clean_output=True)
            c.cwd = ctx.folder(c.cls, c.name)
            z = ctx.write(c.cwd, "many.zip", b.getvalue())
            c.args = ["fw", "inspect", z, "--member", "nope.bin"] + (["--json"] if js else [])
            c.inputs = [z]
            yield c
    # a replay error about a 100 KB line names the line, not its content
    c = Case(CLS, "replay error of a 100 KB line", [], codes=(2,), contains="line 1", clean_output=True)
    c.cwd = ctx.folder(c.cls, c.name)
    t = ctx.write(c.cwd, "t.jsonl", json.dumps({"seq": 1, "cdb": "12 00 00 00 60 00", "name": "\x1b" * 50000,
                                                "direction": "in" * 25000}) + "\n")
    c.args = ["info", "replay:" + t]
    c.inputs = [t]
    yield c
