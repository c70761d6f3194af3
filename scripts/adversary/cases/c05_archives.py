"""Class 5: archives. Zip and gzip containers whose structure lies (offsets beyond the file, declared sizes that
differ from the data, zip64 markers, entries sharing one local header, CRC-32 mismatches, too many members, names with
control characters, ambiguous --member names), concatenated gzip members and trailing garbage. Built with python's
zipfile and gzip, and with struct for the raw bytes of the lying ones. Every command that reads an image (fw inspect,
fw members, fw patch --member, fw diff, media search) must end each in one bounded error (exit 2) that names the
limit or the lie; never a silently used image. A valid container in an odd but legal form must work."""
import gzip, io, os, struct, zipfile, zlib
from harness import Case

CLS = "5-archives"
MiB = 1 << 20


def _zip(members, method=zipfile.ZIP_DEFLATED):
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w", method) as z:
        for name, data in members:
            z.writestr(zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0)) if isinstance(name, str) else name, data,
                       compress_type=method)
    return b.getvalue()


def _eocd(data):
    i = data.rfind(b"PK\x05\x06")
    assert i >= 0
    return i


def _cd_entries(data):
    """Offsets of every central-directory header."""
    e = _eocd(data)
    n, size, off = struct.unpack_from("<HII", data, e + 10)
    out, p = [], off
    for _ in range(n):
        out.append(p)
        fl, el, cl = struct.unpack_from("<HHH", data, p + 28)
        p += 46 + fl + el + cl
    return out


def _patch(data, off, fmt, value):
    b = bytearray(data)
    struct.pack_into(fmt, b, off, value)
    return bytes(b)


def _raw_zip(entries):
    """A zip from raw (name bytes, local-header offset override or None, data, declared sizes override) tuples; every
    central entry is written by hand so it can point anywhere."""
    out = bytearray()
    cds = []
    locals_ = {}
    for name, lho, data, csize, usize, crc in entries:
        if lho is None:
            lho = len(out)
            c = crc if crc is not None else zlib.crc32(data)
            out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 0, 0, 0, c, len(data) if csize is None else csize,
                               len(data) if usize is None else usize, len(name), 0) + name + data
            locals_[name] = lho
        c = crc if crc is not None else zlib.crc32(data)
        cds.append(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 0, 0, 0, c,
                               len(data) if csize is None else csize, len(data) if usize is None else usize,
                               len(name), 0, 0, 0, 0, 0, lho) + name)
    cd_off = len(out)
    for c in cds:
        out += c
    out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(cds) & 0xFFFF, len(cds) & 0xFFFF, len(out) - cd_off, cd_off, 0)
    return bytes(out)


def cases(ctx):
    img = ctx.generated("synthetic-test")
    small = img[:4096]
    good = _zip([("fw.bin", img), ("readme.txt", b"hello")])
    first_cd = _cd_entries(good)[0]

    bad = []   # (name, zip bytes, contains)
    e = _eocd(good)
    bad.append(("central directory beyond the file", _patch(good, e + 16, "<I", len(good) + 100000), None))
    bad.append(("central directory size beyond the file", _patch(good, e + 12, "<I", 0x7FFFFFFF), None))
    bad.append(("central directory at FFFFFFFFh", _patch(good, e + 16, "<I", 0xFFFFFFFF), None))
    bad.append(("entry count FFFFh", _patch(_patch(good, e + 8, "<H", 0xFFFF), e + 10, "<H", 0xFFFF), None))
    bad.append(("local header beyond the file", _patch(good, first_cd + 42, "<I", len(good) + 4096), None))
    bad.append(("local header offset FFFFFFFFh", _patch(good, first_cd + 42, "<I", 0xFFFFFFFF), None))
    bad.append(("local header inside the central directory", _patch(good, first_cd + 42, "<I", first_cd), None))
    for field, off in (("compressed", 20), ("uncompressed", 24)):
        bad.append((f"zip64 {field} size FFFFFFFFh", _patch(good, first_cd + off, "<I", 0xFFFFFFFF), None))
    bad.append(("a name length past the end", _patch(good, first_cd + 28, "<H", 0xFFFF), None))
    # declared sizes that lie about a stored 4096-byte member
    for label, csize, usize in [("stored size 10 vs 4096", 10, 10), ("stored size 60 MiB vs 4096", 60 * MiB, 60 * MiB),
                                ("uncompressed 10 vs 4096", None, 10), ("uncompressed 60 MiB vs 4096", None, 60 * MiB),
                                ("compressed 10 vs 4096", 10, None), ("sizes 0 vs 4096", 0, 0)]:
        bad.append((label, _raw_zip([(b"fw.bin", None, small, csize, usize, None)]), None))
    # a deflated member that inflates past what it declares (and past any image size)
    z = bytearray(_zip([("fw.bin", b"\0" * (80 * MiB))]))
    cd = _cd_entries(bytes(z))[0]
    struct.pack_into("<I", z, cd + 24, 4096)
    bad.append(("inflates to 80 MiB, declares 4096", bytes(z), None))
    bad.append(("declares 4 GiB - 1", _patch(good, first_cd + 24, "<I", 0xFFFFFFFE), None))
    bad.append(("CRC-32 mismatch", _raw_zip([(b"fw.bin", None, img, None, None, zlib.crc32(img) ^ 1)]), "CRC"))
    zd = bytearray(_zip([("fw.bin", img)]))
    zd[60 + 1000] ^= 0xFF
    bad.append(("deflate data damaged", bytes(zd), None))
    bad.append(("5,000 entries sharing one local header",
                _raw_zip([(b"fw.bin", None, small, None, None, None)] +
                         [(b"m%05d.bin" % i, 0, small, None, None, None) for i in range(5000)]), None))
    bad.append(("50 entries sharing one local header",
                _raw_zip([(b"fw.bin", None, small, None, None, None)] +
                         [(b"m%02d.bin" % i, 0, small, None, None, None) for i in range(50)]), None))
    bad.append(("20,000 members", _zip([(f"d/{i:05d}.txt", b"x") for i in range(20000)], zipfile.ZIP_STORED), "at most"))
    bad.append(("a 60,000-byte member name", _zip([("n" * 60000 + ".bin", small)]), None))
    bad.append(("encrypted flag", _patch(good, first_cd + 8, "<H", 1), None))
    bad.append(("compression method 99", _patch(good, first_cd + 10, "<H", 99), None))
    bad.append(("truncated to half", good[:len(good) // 2], None))
    bad.append(("only an end record", struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 0, 0, 0, 0, 0), None))
    bad.append(("a zip in a zip", _zip([("inner.bin", _zip([("fw.bin", img)]))]), None))
    bad.append(("two images, no --member", _zip([("a.bin", img), ("b.bin", img)]), "--member"))
    bad.append(("no image inside", _zip([("readme.txt", b"hi")]), None))
    bad.append(("names with ESC, CR, LF", _zip([("a\x1b[2J.bin", img), ("b\r\n.bin", img), ("c\x07\x9b.bin", img)]),
                "--member"))
    bad.append(("600 images, no --member", _zip([(f"img{i:03d}.bin", small) for i in range(600)], zipfile.ZIP_STORED),
                "--member"))

    for bi, (label, data, contains) in enumerate(bad):
        # every lie through inspect and members; patch, diff and search take turns (they share the reader)
        for cmd in ("inspect", "members", ("patch", "diff", "search")[bi % 3]):
            if cmd == "members" and label in ("two images, no --member", "only an end record", "names with ESC, CR, LF", "600 images, no --member",
                                              "no image inside", "a zip in a zip", "CRC-32 mismatch",
                                              "deflate data damaged", "inflates to 80 MiB, declares 4096"):
                continue  # listing does not extract: these are valid listings
            if cmd == "search" and label in ("two images, no --member", "only an end record", "names with ESC, CR, LF", "600 images, no --member",
                                             "no image inside", "a zip in a zip"):
                continue  # search looks at every member: nothing ambiguous
            js = cmd in ("inspect", "members") and len(label) % 2 == 0
            c = Case(CLS, f"{cmd}: {label}{' json' if js else ''}", [], codes=(2,),
                     contains=contains if cmd != "search" or contains != "--member" else None, time_limit=5,
                     clean_output=True)
            c.cwd = ctx.folder(c.cls, c.name)
            z = ctx.write(c.cwd, "in.zip", data)
            ok = ctx.write(c.cwd, "ok.bin", img)
            if cmd == "inspect":
                c.args = ["fw", "inspect", z]
            elif cmd == "members":
                c.args = ["fw", "members", z]
            elif cmd == "patch":
                c.args = ["fw", "patch", z, "--speed", "MCC-004=8x", "-o", os.path.join(c.cwd, "out.bin")]
            elif cmd == "diff":
                c.args = ["fw", "diff", ok, z]
            else:
                c.args = ["media", "search", "MCC-004", z]
            if js: c.args.append("--json")
            c.inputs = [z, ok]
            yield c

    # --member that names several members, or none
    amb = _zip([("a/x.bin", img), ("b/x.bin", img), ("c/y.bin", img)])
    for member, contains in [("x.bin", "a/x.bin"), ("z.bin", "z.bin"), ("", None), ("a/", None), ("/x.bin", None),
                             ("\x1b[2J", None), ("a/x.bin\n", None)]:
        for cmd in ("inspect", "patch"):
            c = Case(CLS, f"{cmd} --member {member!r} of a/x.bin, b/x.bin", [], codes=(2,), contains=contains,
                     clean_output=True)
            c.cwd = ctx.folder(c.cls, c.name)
            z = ctx.write(c.cwd, "in.zip", amb)
            c.args = ["fw", cmd, z, "--member", member]
            if cmd == "patch": c.args += ["--speed", "MCC-004=8x", "-o", os.path.join(c.cwd, "out.bin")]
            c.inputs = [z]
            yield c
    # the full path picks one of them
    c = Case(CLS, "inspect --member a/x.bin of a/x.bin, b/x.bin", [], ok=True, out_contains="synthetic-test")
    c.cwd = ctx.folder(c.cls, c.name)
    z = ctx.write(c.cwd, "in.zip", amb)
    c.args = ["fw", "inspect", z, "--member", "a/x.bin"]
    c.inputs = [z]
    yield c

    # gzip
    half = len(img) // 2
    gz_bad = [("trailing garbage", gzip.compress(img) + b"garbage!" * 8, "trailing"),
              ("trailing zeros", gzip.compress(img) + b"\0" * 1024, "trailing"),
              ("truncated", gzip.compress(img)[:-100], None),
              ("bad CRC in the trailer", gzip.compress(img)[:-8] + b"\0\0\0\0" + gzip.compress(img)[-4:], None),
              ("bad ISIZE in the trailer", gzip.compress(img)[:-4] + b"\1\0\0\0", None),
              ("header only", gzip.compress(img)[:10], None),
              ("first member then garbage member", gzip.compress(img[:half]) + b"\x1f\x8b\x08\x00garbage", None),
              ("200 MiB of zeros", None, "at most"),
              ("1000 empty members then the image", None, None)]
    for label, data, contains in gz_bad:
        if data is None and label.startswith("200"):
            p = os.path.join(ctx.root, "shared", "zeros200.gz")
            os.makedirs(os.path.dirname(p), exist_ok=True)
            if not os.path.exists(p):
                co = zlib.compressobj(9, zlib.DEFLATED, 31)
                with open(p, "wb") as f:
                    for _ in range(200):
                        f.write(co.compress(b"\0" * MiB))
                    f.write(co.flush())
            data = open(p, "rb").read()
        if data is None:
            continue
        for cmd in ("inspect", ("diff", "search")[len(label) % 2]):
            c = Case(CLS, f"gzip {cmd}: {label}", [], codes=(2,), contains=contains, time_limit=5)
            c.cwd = ctx.folder(c.cls, c.name)
            g = ctx.write(c.cwd, "in.bin.gz", data)
            ok = ctx.write(c.cwd, "ok.bin", img)
            c.args = {"inspect": ["fw", "inspect", g], "diff": ["fw", "diff", ok, g],
                      "search": ["media", "search", "MCC-004", g]}[cmd]
            c.inputs = [g, ok]
            yield c
    # concatenated members are one stream (RFC 1952): the whole image, never only its first member
    for label, data in [("two members", gzip.compress(img[:half]) + gzip.compress(img[half:])),
                        ("three members with an empty one", gzip.compress(img[:half]) + gzip.compress(b"") +
                         gzip.compress(img[half:])),
                        ("one member per 64 KiB", b"".join(gzip.compress(img[i:i + 65536]) for i in range(0, len(img), 65536)))]:
        c = Case(CLS, f"gzip concatenated: {label}", [], ok=True, out_contains="Valid:         yes")
        c.cwd = ctx.folder(c.cls, c.name)
        g = ctx.write(c.cwd, "in.bin.gz", data)
        c.args = ["fw", "inspect", g]
        c.inputs = [g]
        yield c
    # legal zips in odd forms that must work: stored, a comment, a data descriptor, a folder entry
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.comment = b"vendor download"
        zf.writestr("docs/", b"")
        with zf.open("fw/image.bin", "w") as f:   # streamed: sizes in a data descriptor
            f.write(img)
    for label, data in [("stored", _zip([("fw.bin", img)], zipfile.ZIP_STORED)), ("comment, folder, data descriptor", buf.getvalue())]:
        c = Case(CLS, f"zip legal: {label}", [], ok=True, out_contains="Valid:         yes")
        c.cwd = ctx.folder(c.cls, c.name)
        z = ctx.write(c.cwd, "in.zip", data)
        c.args = ["fw", "inspect", z]
        c.inputs = [z]
        yield c
    # members named with control characters are listed escaped, never raw
    for js in (False, True):
        c = Case(CLS, f"members: names with ESC, CR, LF listed escaped{' json' if js else ''}", [], ok=True,
                 clean_output=True)
        c.cwd = ctx.folder(c.cls, c.name)
        z = ctx.write(c.cwd, "in.zip", _zip([("a\x1b[2J.bin", small), ("b\r\n.bin", small), ("c\x9b\x07.txt", b"x")]))
        c.args = ["fw", "members", z] + (["--json"] if js else [])
        c.inputs = [z]
        yield c
