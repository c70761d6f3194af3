"""Class 1: integers and ranges in firmware-db and the emulator profiles. Every number in every YAML file of a copy
of firmware-db is a candidate: the generator walks the files (PyYAML's composer gives each plain scalar's place),
groups the numeric scalars by the key that holds them, and for each key substitutes values no field can hold —
2^63-1, -1, 2^64, 2^63, 1e308 — and, for offsets, sizes and lengths, a place beyond every image (1 GiB), and for
chunk sizes, strides and steps zero. Then:

  * `db lint --db COPY` must report it: exit 1, the issue on stdout naming the file and the line of the value;
  * a command that consumes the file (`fw generate`, `fw inspect`, `db models`, `info emu:NAME`,
    `flash --dry-run`) must refuse the db: exit 2, one line naming the file and line, no trap.

Plus structural cases from the issue: `speed_bits` of 100 entries or 1e308, a CDB template of 100,000 bytes, and
nested aliases ("billion laughs") in a family, models.yaml and a profile: bounded, one clear error naming aliases.
"""
import os, re
from harness import Case

try:
    import yaml
except ImportError:  # pragma: no cover
    yaml = None

CLS = "1-db-integers"
NUM = re.compile(r"^-?(0x[0-9a-fA-F]+|\d+(\.\d+)?)$")
UNIVERSAL = ["9223372036854775807", "-1"]
ROTATING = ["18446744073709551616", "0x8000000000000000", "1e308"]
BEYOND = "0x40000000"
PLACE = re.compile(r"(offset|size|length|at|from|to|start|end|address|chunk|stride|range)", re.I)
NONZERO = re.compile(r"(chunk|stride|step|sizes?$|^size|length$|block_size|tries|successes)", re.I)
SIGNED = ("delta",)         # a displacement: negative is its own meaning
NOT_PLACE = re.compile(r"^(table|match|seconds|timeout|tries|successes|order|interval|gap_ms|subtract_from)$")
ZERO_OK = ("set_length",)     # no parameter data: the length a command without data has


def _sites(path):
    """(key, line, start index, end index) of every plain numeric scalar, in file order."""
    text = open(path, encoding="utf-8").read()
    out = []
    seen = set()

    def walk(n, key, size):
        if id(n) in seen:
            return
        seen.add(id(n))
        if isinstance(n, yaml.ScalarNode):
            if n.style is None and NUM.match(n.value):
                out.append((key, n.start_mark.line + 1, n.start_mark.index, n.end_mark.index, n.value, size))
        elif isinstance(n, yaml.SequenceNode):
            for x in n.value:
                walk(x, key, size)
        elif isinstance(n, yaml.MappingNode):
            # An image layout: its largest exact size bounds every place in it.
            sizes = [v for k, v in n.value if isinstance(k, yaml.ScalarNode) and k.value == "sizes"]
            if key == "images" and sizes and isinstance(sizes[0], yaml.SequenceNode):
                size = max(int(x.value, 0) for x in sizes[0].value)
            for k, v in n.value:
                walk(v, k.value if isinstance(k, yaml.ScalarNode) else key, size)
    walk(yaml.compose(text), None, None)
    return text, sorted(out, key=lambda s: s[2])


def _values(key, i, original, size):
    vals = [v for v in UNIVERSAL if not (v == "-1" and key in SIGNED)]
    if i % 2 == 0:
        vals.append(ROTATING[(i // 2) % len(ROTATING)])
    if size and key in ("offset", "key"):
        vals.append(hex(size))      # just past the layout's largest image
    if key and PLACE.search(key) and not NOT_PLACE.match(key):
        vals.append(BEYOND)
    if key and NONZERO.search(key) and key not in ZERO_OK:
        vals.append("0")
    return vals


def _consumers(ctx, kind, stem, n):
    """The commands that read the substituted file, as (name, args, needs image) — one is picked per case."""
    if kind == "emulator":
        out = [("info", ["info", f"emu:{stem}"])]
        if stem == "synthetic-writer":
            out.append(("dry-run", ["flash", "--dry-run", "--yes", f"emu:{stem}", "@img:synthetic-test"]))
        return out
    if kind == "families":
        out = [("generate", ["fw", "generate", "--family", stem, "-o", "@out"]),
               ("inspect", ["fw", "inspect", f"@img:{stem}"])]
        if stem == "synthetic-test":
            out.append(("dry-run", ["flash", "--dry-run", "--yes", "emu:synthetic-writer", "@img:synthetic-test"]))
        out.append(("models", ["db", "models"]))
        return out
    return [("models", ["db", "models", "--all"])]


def _image(ctx, family):
    try:
        return ctx.generated(family)
    except RuntimeError:
        return None


def _cases_for(ctx, rel, text, value_at, line, label, consumer_index):
    """A lint case and a consumer case for one substituted text."""
    kind = rel.split("/")[0] if "/" in rel else "models"
    stem = os.path.splitext(os.path.basename(rel))[0]
    where = f"{rel}:{line}" if line else rel
    # db lint: a report on stdout naming file:line
    c = Case(CLS, f"lint {rel} {label}", [], codes=(1,), report=True, contains=where)
    c.cwd = ctx.folder(c.cls, c.name)
    db = ctx.db_copy(c.cwd)
    p = ctx.write(db, rel, text)
    c.args = ["db", "lint", "--db", db]
    c.inputs = [p]
    yield c
    # one consumer
    cons = _consumers(ctx, kind, stem, consumer_index)
    name, args = cons[consumer_index % len(cons)]
    c = Case(CLS, f"{name} {rel} {label}", [], codes=(2,), contains=where)
    c.cwd = ctx.folder(c.cls, c.name)
    db = ctx.db_copy(c.cwd)
    p = ctx.write(db, rel, text)
    out = []
    for a in args:
        if a == "@out":
            out.append(os.path.join(c.cwd, "out.bin"))
        elif a.startswith("@img:"):
            img = _image(ctx, a[5:])
            if img is None:
                name, args = "models", ["db", "models"]
                out = list(args)
                break
            out.append(ctx.write(c.cwd, "image.bin", img))
            c.inputs.append(out[-1])
        else:
            out.append(a)
    c.args = out + ["--db", db]
    c.inputs.append(p)
    yield c


def _laughs(depth=9, width=10, indent=""):
    lines = [f"{indent}l0: &l0 [\"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\"]"]
    for d in range(1, depth):
        lines.append(f"{indent}l{d}: &l{d} [" + ", ".join([f"*l{d - 1}"] * width) + "]")
    return lines


def cases(ctx):
    if yaml is None:
        return
    files = []
    for sub in ("families", "emulator"):
        d = os.path.join(ctx.db, sub)
        files += [f"{sub}/{n}" for n in sorted(os.listdir(d)) if n.endswith(".yaml")]
    files.append("models.yaml")
    # Every numeric site, grouped by (folder, key); each key is exercised at one site (rotating over its files).
    by_key = {}
    texts = {}
    for rel in files:
        text, sites = _sites(os.path.join(ctx.db, rel))
        texts[rel] = text
        kind = rel.split("/")[0]
        for s in sites:
            by_key.setdefault((kind, s[0]), []).append((rel,) + s)
    n = 0
    for i, ((kind, key), sites) in enumerate(sorted(by_key.items(), key=lambda kv: (kv[0][0], str(kv[0][1])))):
        first = sites[i % len(sites)]
        for j, v in enumerate(_values(key, i, first[5], first[6])):
            site = sites[(i + j) % len(sites)] if v != hex(first[6] or 0) else first
            if v == "-1" and site[5].startswith("-"):
                site = first
            rel, _, line, a, b, _, _ = site
            text = texts[rel]
            new = text[:a] + v + text[b:]
            # db lint for every value; a consuming command for every other one
            gen = _cases_for(ctx, rel, new, a, line, f"{key}={v}", n // 2)
            yield next(gen)
            if n % 2 == 0:
                yield from gen
            n += 1

    # Structural cases named by the issue.
    st = "families/synthetic-test.yaml"
    text = texts[st]
    m = re.search(r"speed_bits: \[[^\]]*\]", text)
    line = text[:m.start()].count("\n") + 1
    hundred = "speed_bits: [" + ", ".join(str(k % 16 + 1) for k in range(100)) + "]"
    yield from _cases_for(ctx, st, text[:m.start()] + hundred + text[m.end():], m.start(), line, "speed_bits x100", n); n += 1
    huge = "speed_bits: [1e308, 2, 4]"
    yield from _cases_for(ctx, st, text[:m.start()] + huge + text[m.end():], m.start(), line, "speed_bits 1e308", n); n += 1
    m = re.search(r'cdb: "3B 07 00 \{offset:3\} \{length:3\} 00"', text)
    line = text[:m.start()].count("\n") + 1
    long_cdb = 'cdb: "3B 07 00 {offset:3} {length:3} 00' + " 00" * 33330 + '"'
    yield from _cases_for(ctx, st, text[:m.start()] + long_cdb + text[m.end():], m.start(), line, "cdb of 100,000 bytes", n); n += 1

    # Billion laughs: nested aliases, in a family, models.yaml and a profile. The error must say 'alias'.
    for rel in (st, "models.yaml", "emulator/synthetic-writer.yaml"):
        text = texts[rel]
        if rel == "models.yaml":
            new = text.replace("schema: 1\n", "schema: 1\nnotes:\n" + "\n".join(_laughs(indent="  ")) + "\n", 1)
        else:
            new = text.rstrip("\n") + "\nnotes:\n" + "\n".join(_laughs(indent="  ")) + "\n"
        for cmd in ("lint", "consumer"):
            gen = list(_cases_for(ctx, rel, new, 0, None, "billion laughs", n))
            c = gen[0] if cmd == "lint" else gen[1]
            c.contains = "alias"
            yield c
        n += 1

    # The pristine copy works: the consumers succeed (the cases above fail for their value, not the setup).
    for rel, args in (("families/synthetic-test.yaml", ["fw", "generate", "--family", "synthetic-test", "-o", "@out"]),
                      ("emulator/synthetic-writer.yaml", ["info", "emu:synthetic-writer"])):
        c = Case(CLS, f"pristine {args[0]} {args[1]}", [], ok=True)
        c.cwd = ctx.folder(c.cls, c.name)
        db = ctx.db_copy(c.cwd)
        c.args = [os.path.join(c.cwd, "out.bin") if a == "@out" else a for a in args] + ["--db", db]
        c.allowed_new = ["out.bin"]
        yield c
