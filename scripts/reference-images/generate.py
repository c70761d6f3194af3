#!/usr/bin/env python3
"""Independent reference firmware images for `odflash fw inspect`.

Written from the public rules only (Binflash, pxfw/qpxtool, OmniPatcher,
cyrozap's MT1887 notes; see /work/shared/reference/image-format-facts.md and
the source lines cited in each record).  It deliberately shares no code or
tables with odflash, so that the checker can disagree with odflash.

usage: generate.py OUTDIR
Writes OUTDIR/*.bin and OUTDIR/expected.json.  Deterministic (fixed seeds).
"""

import array
import hashlib
import json
import os
import random
import re
import struct
import sys

SEED = 0x0DF1A5


def rng(tag):
    # one independent, reproducible stream per image
    return random.Random(f"{SEED}:{tag}")


# ---------------------------------------------------------------- checksums

def sum16_words(data, byteorder):
    """u16 sum of 16-bit words of the given byte order ("big" or "little")."""
    assert len(data) % 2 == 0
    a = array.array("H", data)
    if sys.byteorder != byteorder:
        a.byteswap()
    return sum(a) & 0xFFFF


def sum_be16_words(data):
    """Binflash dump checksum: u16 sum of big-endian 16-bit words."""
    return sum16_words(data, "big")


def sum_le16_words(data):
    """cyrozap validate_fw.py: u16 sum of little-endian 16-bit words."""
    return sum16_words(data, "little")


def sum_bytes16(data, start):
    """pxfw csum_init/csum_update: unsigned short start value plus every byte."""
    return (start + sum(data)) & 0xFFFF


def hx(v):
    return "%04Xh" % v


# ---------------------------------------------------------------- records

IMAGES = []  # (name, bytes, record)


def add(name, data, description, rule, expect):
    IMAGES.append((name, bytes(data), {
        "file": name,
        "size": len(data),
        "description": description,
        "rule": rule,
        "expect": expect,
    }))


VALID_OK = [True]
VALID_BAD = [False]
VALID_NONE = [None]
NOT_TRUE = [False, None]

# ================================================================ NEC / Optiarc
#
# Binflash dump format (necinterface.cpp DumpFirmware 1988-2139, FirmwareToFile
# 598-625, GetDriveTypeFromBuffer 346-392, ReadFirmware 412-510, Flash2M* 1198,
# 1269, 1340, 1411, Flash2MOptiBD 1549-1553; drive IDs necinternal.cpp 693-1269,
# flash classes 1570-1650).

NEC_INQ_PATTERN = b"\x07\x00\x03\x00\x78\x00\x78\x00\x78\x00"
NEC_INQ_OFFSET = 394  # from the START of the pattern (necinterface.cpp 576-580: Firmware+i+id_offset)

# class -> (data length before checksum, has trailing checksum, layout)
NEC_CLASSES = {
    "2m": dict(data=0x1E0000, layout="nec-2m", rule="FlashSize2M: dump 10000h..1F0000h (necinterface.cpp 1989, 2004), checksum BE at 1E0000h (2007-2008, 1198), ID at 1E0002h (369-372)"),
    "opti": dict(data=0x1C0000, layout="nec-2m-opti", rule="FlashSize2MOpti/Opti2: dump 30000h..1F0000h (necinterface.cpp 2020-2026, 2044-2048), checksum BE at 1C0000h (1269, 1340), ID at 1C0002h (374-377)"),
    "opti3": dict(data=0x1B0000, layout="nec-2m-opti3", rule="FlashSize2MOpti3: dump 30000h..1E0000h (necinterface.cpp 2065-2066, 2084-2088), checksum BE at 1B0000h (1411), ID at 1B0002h (379-382)"),
}


def nec_body(r, n):
    return bytearray(r.randbytes(n))


def nec_inquiry_block(vendor, product, rev, specific):
    blk = bytearray(NEC_INQ_OFFSET + 8 + 16 + 4 + 20)
    blk[0:len(NEC_INQ_PATTERN)] = NEC_INQ_PATTERN
    o = NEC_INQ_OFFSET
    blk[o:o + 8] = vendor.ljust(8).encode()
    blk[o + 8:o + 24] = product.ljust(16).encode()
    blk[o + 24:o + 28] = rev.ljust(4).encode()
    blk[o + 28:o + 48] = specific.ljust(20).encode()
    return blk


def nec_dump(cls, drive_id, r, inquiry=None, bootcode=None, inq_at=0x2345):
    c = NEC_CLASSES[cls]
    body = nec_body(r, c["data"])
    if inquiry:
        blk = nec_inquiry_block(*inquiry)
        body[inq_at:inq_at + len(blk)] = blk
    assert (NEC_INQ_PATTERN in body) == bool(inquiry)
    cs = sum_be16_words(body)
    out = body + struct.pack(">H", cs) + drive_id.encode()
    if bootcode is not None:
        out += struct.pack(">H", bootcode)
    return out, cs


def gen_nec():
    models = {"K355": "3550", "G245": "7240", "D570": "5170", "Q200": "5200"}
    for cls, did, label in (("2m", "K355", "NEC ND-3550A"), ("opti3", "G245", "Optiarc AD-7240S / iHAS324 Y"),
                            ("opti", "D570", "Optiarc AD-5170A"), ("opti", "Q200", "Optiarc AD-5200A (Opti2)")):
        c = NEC_CLASSES[cls]
        size_min = c["data"] + 6
        base_rule = c["rule"] + "; checksum = u16 sum of BE words of the dumped data, start 0 (necinterface.cpp 621-625, 1876); ID %s in the table (necinternal.cpp IdentifyDrive)" % did
        tag = f"nec-{cls}-{did}"
        data, cs = nec_dump(cls, did, rng(tag + "-min"))
        good = dict(identified=True, family="nec-optiarc", layout=c["layout"], valid=VALID_OK,
                    checksum=dict(status="OK", stored=hx(cs), computed=hx(cs)), models_contain=models[did],
                    problems="empty", exit=0)
        add(f"{tag}-minimal.bin", data, f"{label}: minimal Binflash dump ({size_min} bytes): random body, trailing BE checksum, drive ID, no INQUIRY block, no bootcode",
            base_rule, good)
        if did not in ("K355", "G245"):
            continue
        inq = ("_NEC", "DVD_RW ND-3550A", "1.05", "2005/03/14") if did == "K355" else \
              ("Optiarc", "DVD RW AD-7240S", "1.04", "2010/08/03")
        bc = 0x3035 if did == "K355" else 0x3038
        data, cs = nec_dump(cls, did, rng(tag + "-max"), inquiry=inq, bootcode=bc)
        exp = dict(good, checksum=dict(status="OK", stored=hx(cs), computed=hx(cs)))
        add(f"{tag}-maximal.bin", data,
            f"{label}: maximal dump ({size_min + 2} bytes): INQUIRY pattern 07 00 03 00 78 00 78 00 78 00 with '{inq[0]}'/'{inq[1]}'/'{inq[2]}' 394 bytes from its start, bootcode {bc:04X}h after the ID",
            base_rule + "; bootcode variant necinterface.cpp 369-372/379-382, 2137-2139; INQUIRY strings 556-580", exp)

        # broken variants, 2M and Opti3 each
        d0, cs0 = nec_dump(cls, did, rng(tag + "-bad"))
        off = c["data"]
        bad = bytearray(d0)
        bad[off:off + 2] = struct.pack(">H", cs0 ^ 0xFFFF)
        add(f"{tag}-bad-checksum.bin", bad, f"{label}: minimal dump with the stored checksum inverted (stored {cs0 ^ 0xFFFF:04X}h, computed {cs0:04X}h)",
            base_rule + "; the drive checks the checksum Binflash sends (1198/1411)",
            dict(identified=True, family="nec-optiarc", layout=c["layout"], valid=VALID_BAD,
                 checksum=dict(status="BAD", stored=hx(cs0 ^ 0xFFFF), computed=hx(cs0)), models_contain=models[did], exit=1))

        bogus = "K399" if did == "K355" else "G299"
        d1, cs1 = nec_dump(cls, bogus, rng(tag + "-badid"))
        add(f"{tag}-unknown-id.bin", d1, f"{label} layout with drive ID '{bogus}', which is not in Binflash's table; size and checksum are right",
            c["rule"] + "; IdentifyDrive returns DT_INVALID when no ID matches (necinternal.cpp 1266-1269), GetDriveTypeFromBuffer then fails",
            dict(identified=True, family="nec-optiarc", valid=VALID_BAD,
                 checksum=dict(status="OK", stored=hx(cs1), computed=hx(cs1)), problems="nonempty", exit=1))

        trunc = d0[:-1]
        add(f"{tag}-truncated.bin", trunc, f"{label} minimal dump with the last byte cut ({len(trunc)} bytes; the ID is cut to 3 chars)",
            "GetDriveTypeFromBuffer: any other size is DT_INVALID (necinterface.cpp 388-392); ReadFirmware finds no ID at the end (434-458)",
            dict(identified=None, valid=NOT_TRUE, when_identified=dict(family="nec-optiarc", valid=VALID_BAD, exit=1)))
        pad = d0 + b"\xFF" * 16
        add(f"{tag}-padded.bin", pad, f"{label} minimal dump followed by 16 FFh bytes ({len(pad)} bytes)",
            "GetDriveTypeFromBuffer: any other size is DT_INVALID (necinterface.cpp 388-392); ReadFirmware: last 4/6 bytes are no ID (434-458)",
            dict(identified=None, valid=NOT_TRUE, when_identified=dict(family="nec-optiarc", valid=VALID_BAD, exit=1)))

    # aliases IdentifyDrive accepts besides the ID Binflash writes (necinternal.cpp 729-730, 949-950)
    for cls, did, model, line in (("2m", "K315", "3550", "necinternal.cpp 729-730: 'K315' or 'K355' is K355 (NEC 3550A)"),
                                  ("opti3", "P245", "7240", "necinternal.cpp 949-950: 'G245' or 'P245' is G245 (Optiarc 7240S - LiteOn iHAS324 Y)")):
        c = NEC_CLASSES[cls]
        data, cs = nec_dump(cls, did, rng(f"nec-{cls}-{did}"))
        add(f"nec-{cls}-{did}-alias.bin", data, f"minimal {cls} dump carrying the alias drive ID '{did}'",
            c["rule"] + "; " + line + "; GetDriveTypeFromBuffer calls IdentifyDrive on the ID bytes (necinterface.cpp 372, 382)",
            dict(identified=True, family="nec-optiarc", layout=c["layout"], valid=VALID_OK,
                 checksum=dict(status="OK", stored=hx(cs), computed=hx(cs)), models_contain=model, problems="empty", exit=0))

    # a 2M-class ID in an Opti3-size dump: ReadFirmware takes K355 -> FlashSize2M -> 1966086 bytes, more than the file: rejected
    data, cs = nec_dump("opti3", "K355", rng("nec-opti3-K355"))
    add("nec-opti3-size-K355-id.bin", data, "1769478-byte (Opti3-size) dump, BE checksum right at 1B0000h, but the ID at 1B0002h is 'K355', a FlashSize2M drive",
        "necinterface.cpp 379-382 (ID read at 1B0002h), 478-481 (K355 is FlashSize2M: 1966086 bytes expected), 503-509 (filesize < 0: not accepted); "
        "necinternal.cpp 1580-1582 (K355 -> FlashSize2M)",
        dict(identified=None, valid=NOT_TRUE, when_identified=dict(family="nec-optiarc", valid=VALID_BAD, exit=1)))

    # several dumps in one file: ReadFirmware walks back from the end, one dump at a time (necinterface.cpp 412-510)
    d2m, _ = nec_dump("2m", "K355", rng("nec-combined-2m"))
    d3, _ = nec_dump("opti3", "G245", rng("nec-combined-opti3"))
    add("nec-combined-K355-G245.bin", d2m + d3,
        "a K355 2M dump (1966086 bytes) followed by a G245 Opti3 dump (1769478 bytes) in one file, each with its right checksum",
        "necinterface.cpp 431-509: ReadFirmware finds G245 in the last 4 bytes, subtracts 1769478, then finds K355 and subtracts 1966086 (filesize 0): "
        "both firmwares are accepted and the one for the drive is picked (503-509)",
        dict(identified=True, family="nec-optiarc", valid=[True, None]))

    # BD class: 1901058 = 1D0200h data + BE checksum; ID at 42h (inside the summed data)
    r = rng("nec-bd")
    body = bytearray(r.randbytes(0x1D0200))
    body[0x42:0x46] = b"C500"
    cs = sum_be16_words(body)
    data = body + struct.pack(">H", cs)
    assert len(data) == 1901058
    add("nec-bd-C500-minimal.bin", data, "Optiarc BC-5500A (FlashSize2MOptiBD): 1901058 bytes, ID 'C500' at 42h, BE word-sum checksum of [0,1D0200h) at 1D0200h",
        "necinterface.cpp 384-386 (size 1901058, ID at 42h), 448-455 (end-1900992), Flash2MOptiBD 1549-1553 (checksum verified by Binflash); necinternal.cpp C500 -> FlashSize2MOptiBD",
        dict(identified=True, family="nec-optiarc", layout="nec-bd", valid=VALID_OK,
             checksum=dict(status="OK", stored=hx(cs), computed=hx(cs)), models_contain="5500", problems="empty", exit=0))
    bad = bytearray(data)
    bad[0x1D0200:0x1D0202] = struct.pack(">H", cs ^ 0xFFFF)
    add("nec-bd-C500-bad-checksum.bin", bad, "BC-5500A image with the checksum at 1D0200h inverted",
        "Flash2MOptiBD refuses: FE_SEND_CHECKSUM (necinterface.cpp 1552-1553)",
        dict(identified=True, family="nec-optiarc", layout="nec-bd", valid=VALID_BAD,
             checksum=dict(status="BAD", stored=hx(cs ^ 0xFFFF), computed=hx(cs)), exit=1))

    # Older classes: dumps carry no checksum Binflash computes (FirmwareToFile called with chksum 0),
    # the stored checksums inside are the drive's own, algorithm not public -> nothing verifiable.
    r = rng("nec-1m")
    d = bytearray(r.randbytes(0xFA000)) + b"K310"
    add("nec-1m-K310-minimal.bin", d, "NEC ND-3x00A (FlashSize1M) dump: 6000h..100000h = FA000h bytes, then ID 'K310' (1024004 bytes)",
        "necinterface.cpp 1964-1985 (dump, no checksum passed to FirmwareToFile), 364-367 (size 1024004, ID at FA000h), 473-476; necinternal.cpp K310 -> K350 -> FlashSize1M",
        dict(identified=True, family="nec-optiarc", layout="nec-1m", valid=VALID_NONE, exit=0))
    r = rng("nec-768k")
    d = bytearray(r.randbytes(0xB8000)) + b"L210"
    add("nec-768k-L210-minimal.bin", d, "NEC ND-6x00A (FlashSize768K) dump: 8000h..C0000h = B8000h bytes, then ID 'L210' (753668 bytes)",
        "necinterface.cpp 1948-1961 (dump, no checksum), 359-362 (size 753668, ID at B8000h); necinternal.cpp L210 -> L2 -> FlashSize768K",
        dict(identified=True, family="nec-optiarc", layout="nec-768k", valid=VALID_NONE, exit=0))
    r = rng("nec-640k")
    d = bytearray(r.randbytes(0x7B000)) + b"L110" + bytearray(r.randbytes(0x20000)) + b"L110"
    assert len(d) == 634888
    add("nec-640k-L110-minimal.bin", d, "NEC ND-5x00A (FlashSize640K) dump: 5000h..80000h, ID, bank 1 240000h..260000h, ID again (634888 bytes)",
        "necinterface.cpp 1921-1945 (dump, no checksum), 354-357 (size 634888, ID at 9B004h); necinternal.cpp L110 -> L1 -> FlashSize640K",
        dict(identified=True, family="nec-optiarc", layout="nec-640k", valid=VALID_NONE, exit=0))


# ================================================================ Plextor (pxfw)

PLEX = {
    # layout: (64-byte header INQUIRY-like text, prefix length pxfw compares, size, crc offset, start)
    "px-w4824a": ("PLEXTOR ", "CD-R   PX-W4824A", 24, 524288, 0x79FFE, 0x8000, "4824A"),
    "px-716a": ("PLEXTOR ", "DVDR   PX-716A", 23, 983040, 0xEFFFE, 0, "716A"),
    "px-716al": ("PLEXTOR ", "DVDR   PX-716AL", 23, 983040, 0xEFFFE, 0, "716AL"),
    "px-760a": ("PLEXTOR ", "DVDR   PX-760A", 22, 2031616, 0x1EFFFE, 0, "760A"),
}
PLEX_MORE = {
    # name: (product, prefix len, size, crc offset, start, source lines)
    "PX-W5224A": ("CD-R   PX-W5224A", 24, 524288, 0x79FFE, 0x8000, "pxfw.cpp 67-69, 112-114; PLEXTOR_5224 200h <= PLEXTOR_PREMIUM: start 8000h"),
    "PREMIUM": ("CD-R   PREMIUM", 22, 524288, 0x7C7FE, 0x8000, "pxfw.cpp 75-77, 116-118; PLEXTOR_PREMIUM <= PLEXTOR_PREMIUM: start 8000h"),
    "PREMIUM2": ("CD-R   PREMIUM2", 23, 983040, 0xEFFFE, 0, "pxfw.cpp 71-73 (tested before the 22-byte PREMIUM prefix), 120-122; PLEXTOR_PREMIUM2 80000h: start 0"),
    "PX-708A": ("DVDR   PX-708A", 22, 983040, 0xEFFFE, 0, "pxfw.cpp 79-81, 124-126; PLEXTOR_708 800h: start 0"),
    "PX-712A": ("DVDR   PX-712A", 22, 1028096, 0xEFFFE, 0, "pxfw.cpp 83-88, 132-134 (FWSZ 1028096, checksum at EFFFEh: not at the end of the file); start 0"),
}

PLEX_RULE = ("pxfw.cpp FW_convert_to_ID 61-101 (prefix and checksum offset), PLEXTOR_convert_to_ID 108-154 (size), "
             "csum_init 241-244 (start 8000h if ID <= PLEXTOR_PREMIUM), csum_update 246-251, 568-570 (sum of [0,crc_offs), BE at crc_offs)")


def plex_image(layout, r, maximal):
    ven, prod, plen, size, crc, start, _ = PLEX[layout]
    img = bytearray(size) if not maximal else bytearray(r.randbytes(size))
    full = ven + prod.ljust(16)
    if maximal:
        hdr = (full + "1.11" + " 05/08/19 10:00 " + "Copyright PLEXTOR").ljust(64).encode()
    else:
        hdr = full[:plen].encode()
    img[0:len(hdr)] = hdr
    assert img[:plen].decode() == full[:plen]
    cs = sum_bytes16(img[:crc], start)
    img[crc:crc + 2] = struct.pack(">H", cs)
    return img, cs


def gen_plextor():
    for layout in PLEX:
        ven, prod, plen, size, crc, start, model = PLEX[layout]
        for kind in ("minimal", "maximal"):
            img, cs = plex_image(layout, rng(f"{layout}-{kind}"), kind == "maximal")
            exp = dict(identified=True, family="plextor", layout=layout, valid=VALID_OK,
                       checksum=dict(status="OK", stored=hx(cs), computed=hx(cs)),
                       problems="empty", exit=0)
            if layout == "px-716al":
                exp["not_layout"] = "px-716a"
            what = ("only the %d-byte prefix '%s', zero body" % (plen, (ven + prod.ljust(16))[:plen])) if kind == "minimal" \
                else "64-byte INQUIRY-like header (vendor, product, revision 1.11, date), random body"
            add(f"plextor-{layout}-{kind}.bin", img,
                f"Plextor {model} {kind}: {size} bytes, {what}; checksum start {start:04X}h at {crc:X}h",
                PLEX_RULE + ("; pxfw.cpp 93: PX-716AL has its own prefix, byte 22 'L' vs ' '" if layout == "px-716al" else ""), exp)

    for model, (prod, plen, size, crc, start, lines) in PLEX_MORE.items():
        r = rng("plex-" + model)
        img = bytearray(r.randbytes(size))
        img[0:64] = ("PLEXTOR " + prod.ljust(16) + "1.05" + " 04/03/02 12:00").ljust(64).encode()
        cs = sum_bytes16(img[:crc], start)
        img[crc:crc + 2] = struct.pack(">H", cs)
        add(f"plextor-{model.lower()}.bin", img,
            f"Plextor {model}: {size} bytes, 64-byte header, checksum start {start:04X}h over [0,{crc:X}h) stored BE at {crc:X}h",
            PLEX_RULE + "; " + lines,
            dict(identified=True, family="plextor", valid=VALID_OK,
                 checksum=dict(status="OK", stored=hx(cs), computed=hx(cs)), problems="empty", exit=0))
    r = rng("plex-755")
    img = bytearray(r.randbytes(2031616))
    img[0:64] = ("PLEXTOR " + "DVDR   PX-755A".ljust(16) + "1.08" + " 06/01/01 12:00").ljust(64).encode()
    cs = sum_bytes16(img[:0x1EFFFE], 0)
    img[0x1EFFFE:0x1F0000] = struct.pack(">H", cs)
    add("plextor-px-755a-header.bin", img,
        "2031616-byte image headed 'PLEXTOR DVDR   PX-755A' with a start-0 checksum at 1EFFFEh",
        "pxfw.cpp FW_convert_to_ID 61-101 has no PX-755A prefix: dev ID 0, crc_offs 0, and 582-583 'FW is not for selected dev!' (a PX-755A drive takes a PX-760A-headed file, 97-99)",
        dict(identified=None, valid=NOT_TRUE))

    img, cs = plex_image("px-716a", rng("px-716a-nul22"), True)
    img[22] = 0
    cs = sum_bytes16(img[:0xEFFFE], 0)
    img[0xEFFFE:0xF0000] = struct.pack(">H", cs)
    add("plextor-px-716a-nul-at-22.bin", img, "983040-byte image headed 'PLEXTOR DVDR   PX-716A' with NUL (not a space) at byte 22, start-0 checksum right",
        "pxfw.cpp 89-93: strncmp of 23 bytes with 'PLEXTOR DVDR   PX-716A ' and '...PX-716AL' both fail at byte 22, 760A fails too: dev ID 0 (101)",
        dict(identified=None, valid=NOT_TRUE))
    hdr = ("PLEXTOR " + "DVDR   PX-716A".ljust(16) + "1.11").ljust(64).encode()
    add("plextor-px-716a-header-only.bin", hdr, "only the 64-byte PX-716A header (pxfw reads exactly these 64 bytes first)",
        "pxfw.cpp 474-479 (FB=64 bytes read), 140-142 (983040), 589-590",
        dict(identified=True, family="plextor", layout="px-716a", valid=VALID_BAD, problem_sizes=[983040, 64], exit=1))

    # broken PX-716A variants
    img, cs = plex_image("px-716a", rng("px-716a-broken"), True)
    t = img[:-1000]
    add("plextor-px-716a-truncated.bin", t, f"PX-716A maximal image cut by 1000 bytes ({len(t)}; the checksum at EFFFEh is gone)",
        "pxfw.cpp 140-142 (FWSZ 983040), 589-590 (file size must equal FW size)",
        dict(identified=True, family="plextor", layout="px-716a", valid=VALID_BAD, problem_sizes=[983040, len(t)], exit=1))
    p = img + b"\xFF" * 4096
    add("plextor-px-716a-padded.bin", p, f"PX-716A maximal image plus 4096 FFh bytes ({len(p)}; checksum at EFFFEh still right)",
        "pxfw.cpp 140-142 (FWSZ 983040), 589-590 (file size must equal FW size)",
        dict(identified=True, family="plextor", layout="px-716a", valid=VALID_BAD, problem_sizes=[983040, len(p)],
             checksum=dict(status="OK", stored=hx(cs), computed=hx(cs)), exit=1))
    b = bytearray(img)
    b[0xEFFFE:0xF0000] = struct.pack(">H", cs ^ 0xFFFF)
    add("plextor-px-716a-bad-checksum.bin", b, f"PX-716A maximal image, stored checksum inverted ({cs ^ 0xFFFF:04X}h vs {cs:04X}h)",
        "pxfw.cpp 568-580 (CSUM_diff != 0: 'CheckSum incorrect')",
        dict(identified=True, family="plextor", layout="px-716a", valid=VALID_BAD,
             checksum=dict(status="BAD", stored=hx(cs ^ 0xFFFF), computed=hx(cs)), exit=1))
    img, cs = plex_image("px-w4824a", rng("px-w4824a-zero-start"), True)
    cs0 = sum_bytes16(img[:0x79FFE], 0)
    assert cs0 != cs
    img[0x79FFE:0x7A000] = struct.pack(">H", cs0)
    add("plextor-px-w4824a-start0.bin", img, f"PX-W4824A image whose stored checksum was computed with start value 0 instead of 8000h (stored {cs0:04X}h, right {cs:04X}h)",
        "pxfw.cpp 241-244: PLEXTOR_4824 (100h) <= PLEXTOR_PREMIUM (400h), so the sum starts at 8000h",
        dict(identified=True, family="plextor", layout="px-w4824a", valid=VALID_BAD,
             checksum=dict(status="BAD", stored=hx(cs0), computed=hx(cs)), exit=1))


# ================================================================ Lite-On MediaTek (OmniPatcher)

LO_PBANK, LO_DBANK = 0x0C0000, 0x0D0000           # fw_specs.pl 27 ('U' row)
LO_LIMITS = {"+R": 8, "+RW": 4, "-R": 8, "-RW": 4}  # fw_specs.pl 27
LO_ROWS = {  # letter: (product, revision, pbank, dbank, limits) from fw_specs.pl 27 ('U') and 29 ('T')
    "U": ("DVDRW SOHW-812S", "US0Q", 0x0C0000, 0x0D0000, LO_LIMITS),
    "T": ("DVDRW SOHW-1213S", "TS09", 0x0C0000, 0x090000, {"+R": 12, "+RW": 4, "-R": 8, "-RW": 4}),
}
SPEEDS_P = (0, 2.4, 4, 6, 8, 12, 16)                # media_const.pl 152-154
SPEEDS_D = (1, 2, 4, 6, 8, 12, 16)
SPEEDS_STD = SPEEDS_D

PLUS_LEN, DASH_LEN = 0x1A, 0x0D


def be16chars(s, n):
    """OmniPatcher 16-bit string: 00h then the char, NUL padded (common_util.pl 97-102, media_dataproc.pl 118-119)."""
    s = s.ljust(n, "\x00")
    assert len(s) == n
    return b"".join(b"\x00" + c.encode("latin-1") for c in s)


def plus_entry(mid, tid, rid, spd):
    e = be16chars(mid, 8) + be16chars(tid, 3) + struct.pack(">H", rid) + struct.pack(">H", spd)
    assert len(e) == PLUS_LEN
    return e


def dash_entry(mid, rid):
    e = mid.encode("latin-1").ljust(12, b"\x00") + bytes([rid])
    assert len(e) == DASH_LEN
    return e


def idx_code(entry_len, addr, form):
    """MOV B,#len; MUL AB; ADD A,#lo; MOV DPL,A; (MOV A,B | CLR A); ADDC A,#hi; MOV DPH,A (media_dataproc.pl 292-295)."""
    lo, hi = addr & 0xFF, addr >> 8
    mid = b"\xE5\xF0" if form == 0 else b"\xE4"
    return bytes([0x75, 0xF0, entry_len, 0xA4, 0x24, lo, 0xF5, 0x82]) + mid + bytes([0x34, hi, 0xF5, 0x83])


def speeds_of(t, spd, limits=LO_LIMITS):
    table = SPEEDS_P if t.startswith("+") else SPEEDS_D
    every = [table[i] for i in range(7) if spd & (1 << i) and table[i] != 0]
    shown = [table[i] for i in range(7) if spd & (1 << i) and table[i] != 0 and SPEEDS_STD[i] <= limits[t]]
    return every, shown


PLUS_MIDS = ["YUDEN000", "MCC", "CMC MAG", "OPTODISC", "PRODISC", "INFOME", "SONY", "PHILIPS", "MAXELL",
             "TDK", "FUJIFILM", "DAXON", "AML", "RITEK", "MBIPG101", "LDLTA", "NANYA", "GSC", "ISMM", "TTH02"]
DASH_MIDS = ["TYG02", "MCC 02RG20", "CMC MAG. AE1", "PRODISC R03", "RITEKG05", "FUJIFILM03", "MXL RG03",
             "SONY16D1", "OPTODISCR004", "TTG02", "PRINCO", "DAXON008S", "LEADDATA01", "INFODISC R20",
             "AML", "GSC003", "ProdiscF01", "UME01", "SKC", "TDKG01"]


def gen_codes(r, t, n, with_sample):
    """Deterministic, unique, plausible media codes (never the sample codes unless asked)."""
    out, seen = [], set()
    if with_sample:
        if t == "+R":
            out.append(("RICOHJPN", "R00", 0x01, 0b0011110))   # "RICOHJPNR00" (media_const.pl 80-83)
        if t == "-R":
            out.append(("RITEKG03", None, 0x01, 0b0011111))    # "RITEKG03" (media_const.pl 85-88)
        if t == "+RW":
            out.append(("RICOHJPN", "W11", 0x01, 0b0000110))
        if t == "-RW":
            out.append(("RITEKW01", None, 0x02, 0b0000111))
        seen.update((m, x) for m, x, _, _ in out)
    i = 0
    while len(out) < n:
        if t.startswith("+"):
            mid = PLUS_MIDS[i % len(PLUS_MIDS)]
            tid = ("R" if t == "+R" else "W") + "%02d" % (1 + i // len(PLUS_MIDS) * 7 + r.randrange(7))
            key = (mid, tid)
        else:
            mid = DASH_MIDS[i % len(DASH_MIDS)]
            if i >= len(DASH_MIDS):
                mid = (mid[:10] + "%02d" % (i // len(DASH_MIDS)))[:12]
            tid, key = None, (mid, None)
        i += 1
        if key in seen:
            continue
        seen.add(key)
        if t.startswith("+"):
            # bits 1..6 (2.4x..16x); bit 0 is speed '0' for plus
            spd = r.choice([0b0000110, 0b0001110, 0b0011110, 0b0111110, 0b0011010, 0b0000010])
            if t == "+RW":
                spd = r.choice([0b0000010, 0b0000110, 0b0001110])
        else:
            spd = r.choice([0b0000011, 0b0000111, 0b0001111, 0b0011111, 0b0111111, 0b0010110])
            if t == "-RW":
                spd = r.choice([0b0000001, 0b0000011, 0b0000111, 0b0001111])
        out.append((mid, tid, r.choice([0x00, 0x01, 0x02, 0x03, 0x10]), spd))
    return out


def liteon_image(tag, counts, with_samples, broken_bank=None, pbank=LO_PBANK, dbank=LO_DBANK,
                 gaps=(50, 38, 45, 380), id_byte4=0x5B, id_at=0x7010, row="U"):
    r = rng(tag)
    product, revision, _, _, limits = LO_ROWS[row]
    img = bytearray(r.randbytes(0x100000))
    for b in range(16):
        img[b << 16] = 0x02                      # fw_mtk.pl 46-53: every bank starts with 02h
    # keep random filler from touching the regions we lay out
    def put(off, blob):
        img[off:off + len(blob)] = blob

    put(0x4C00, bytes(0x100))
    put(0x4C40, b"\xE5\x90\x54\x0F\xB4\x00")     # bank-0 call, 0Fh: no rebanking (fw.pl 153-158, 166-177)
    put(id_at - 0x10, bytes(0x80))
    idblk = (b"\x05\x80\x00\x32" + bytes([id_byte4]) + b"\x00\x00\x00" + b"LITE-ON " + product.ljust(16).encode() + revision.encode() + b"2004/09/24 11:30")
    assert len(idblk) == 8 + 44
    put(id_at, idblk)                             # rule-1/2 ID, searched from 4000h (common_util.pl 268-271)

    codes = {t: gen_codes(rng(f"{tag}-{t}"), t, counts[t], with_samples) for t in ("+R", "+RW", "-R", "-RW")}

    # ---- plus bank
    p_rw_addr, p_r_addr = 0x6345, 0x4123        # bank-relative table addresses (base = pbank + (hi<<8|lo))
    pbank_code = bytearray()
    pbank_code += idx_code(PLUS_LEN, p_rw_addr, 0)   # first ppat: +RW
    pbank_code += bytes(gaps[0])                     # gap 47-66
    pbank_code += idx_code(PLUS_LEN, p_r_addr, 1)    # second ppat: +R
    pbank_code += bytes(gaps[1])                     # gap 35-42
    pbank_code += b"\x90\x12\x34\xE0\x64\x0B"        # terminator
    put(pbank + 0x1000, bytes(0x200))
    put(pbank + 0x1010, pbank_code)
    # count code: first 74 n is +R, second +RW (media_dataproc.pl 326-329)
    put(pbank + 0x2000, bytes(0x40))
    put(pbank + 0x2010, b"\xE5\x24\x90\x5A\x3C\xB4\x94\x05\x74" + bytes([counts["+R"]]) + b"\xF0\x80\x03\x74" + bytes([counts["+RW"]]) + b"\xF0")
    for t, addr in (("+R", p_r_addr), ("+RW", p_rw_addr)):
        tbl = b"".join(plus_entry(m, x, rid, spd) for m, x, rid, spd in codes[t])
        put(pbank + addr, tbl)

    # ---- dash bank
    d_rw_addr, d_r_addr = 0x7456, 0x5234
    put(dbank + 0x0800, bytes(0x40))
    # 1S count code: first 74 n is -RW, second -R (media_dataproc.pl 143-148, 345-347)
    put(dbank + 0x0810, b"\xC2\xAF\x12\x34\x0B\x56\x78\x08\x90\x9A\xBC\x74" + bytes([counts["-RW"]]) +
        b"\xF0\x80\x06\x90\xDE\x21\x74" + bytes([counts["-R"]]) + b"\xF0")
    dcode = bytearray()
    dcode += idx_code(DASH_LEN, d_rw_addr, 1)       # first dpat: -RW
    dcode += bytes(gaps[2])                         # gap 43-47
    dcode += idx_code(DASH_LEN, d_r_addr, 0)        # second dpat: -R
    dcode += bytes(gaps[3])                         # gap 375-384
    dcode += b"\x90\x11\x22\xE0\x64\x0E"
    put(dbank + 0x1000, bytes(0x300))
    put(dbank + 0x1010, dcode)
    for t, addr in (("-R", d_r_addr), ("-RW", d_rw_addr)):
        tbl = b"".join(dash_entry(m, rid) for m, _, rid, _ in codes[t])
        tbl += bytes(spd for _, _, _, spd in codes[t])   # speeds after the table (media_dataproc.pl 400-402)
        put(dbank + addr, tbl)

    if broken_bank is not None:
        img[broken_bank << 16] = 0xFF

    expected = []
    for t in ("+R", "+RW", "-R", "-RW"):
        for m, x, rid, spd in codes[t]:
            every, shown = speeds_of(t, spd, limits)
            expected.append(dict(type=t, mid=m, tid=x, rid=rid, spd=spd, speeds=every, speeds_shown=shown))
    return img, expected


# -- independent reading per OmniPatcher's rules, used only to prove the generator right

def omnipatcher_read(img, row="U"):
    fw = bytes(img)
    assert len(fw) == 0x100000 and fw[0] == 2                   # fw.pl 50
    core = fw[0x4000:]
    m = re.search(rb"\x05\x80\x00\x32\x5B\x00{3}(.{8})(.{16})(.{4})(.{16})", core, re.S) or \
        re.search(rb"\x05\x80\x00\x32[\x1F\x5B]\x00{3}(.{8})(.{16})(.{4})(.{16})", core, re.S)
    assert m and re.search(rb"(?:199|20[01])\d", m.group(4))
    for pat in (rb"\x7D([\x00\x20-\x7F])\x90.{19,23}" * 16, rb"\x7B([\x00\x20-\x7F])\x7D.{10,12}" * 16,
                rb"\x7D([\x00\x20-\x7F])\x7F.{5,8}" * 16):
        assert not re.search(pat, core, re.S), "internal revision pattern would override the letter"
    rev = m.group(3).replace(b"\x00", b" ").decode()
    assert rev[0] == row
    b0 = re.search(rb"(\xE5\x90\x54([\x0F\x1F])\xB4\x00)", fw[0x4000:0x10000], re.S)
    assert b0 and b0.group(2) == b"\x0F"
    pbank, dbank = LO_ROWS[row][2:4]
    for key, samp in (("p", rb"RICOHJPNR00|" + re.escape(be16chars("RICOHJPNR00", 11))), ("d", rb"RITEKG03")):
        bank = pbank if key == "p" else dbank
        if not re.search(samp, fw[bank:bank + 0x10000], re.S):
            mm = re.search(samp, fw, re.S)
            if mm:
                bank = mm.end() & 0xFF0000
        if key == "p":
            pbank = bank
        else:
            dbank = bank
    pdata, ddata = fw[pbank:pbank + 0x10000], fw[dbank:dbank + 0x10000]
    assert re.search(rb"\xC2\xAF..\x0B..\x08\x90..\x74.\xF0\x80\x06\x90..\x74.\xF0", ddata, re.S)
    ppat = rb"\x75\xF0\x1A\xA4\x24(.)\xF5\x82(?:\xE5\xF0|\xE4)\x34(.)\xF5\x83"
    dpat = rb"\x75\xF0\x0D\xA4\x24(.)\xF5\x82(?:\xE5\xF0|\xE4)\x34(.)\xF5\x83"
    loc, cnt = {}, {}
    m = re.search(ppat + rb".{47,66}?" + ppat + rb"(?:.{47,51}?" + ppat + rb")?.{35,42}?\x90..\xE0\x64\x0B", pdata, re.S)
    assert m
    loc["+RW"] = pbank + (m.group(2)[0] << 8 | m.group(1)[0])
    loc["+R"] = pbank + (m.group(4)[0] << 8 | m.group(3)[0])
    m = re.search(rb"\xE5\x24\x90..\xB4\x94\x05\x74(.)\xF0\x80\x03\x74(.)\xF0", pdata, re.S)
    cnt["+R"], cnt["+RW"] = m.group(1)[0], m.group(2)[0]
    m = re.search(dpat + rb".{43,47}?" + dpat + rb".{375,384}?\x90..\xE0\x64\x0E", ddata, re.S)
    loc["-RW"] = dbank + (m.group(2)[0] << 8 | m.group(1)[0])
    loc["-R"] = dbank + (m.group(4)[0] << 8 | m.group(3)[0])
    m = re.search(rb"\xC2\xAF..\x0B..\x08\x90..\x74(.)\xF0\x80\x06\x90..\x74(.)\xF0", ddata, re.S)
    cnt["-R"], cnt["-RW"] = m.group(2)[0], m.group(1)[0]
    out = []

    def s16(b):
        return b[1::2].rstrip(b"\x00").decode("latin-1")
    for t in ("+R", "+RW"):
        for i in range(cnt[t]):
            e = fw[loc[t] + PLUS_LEN * i: loc[t] + PLUS_LEN * (i + 1)]
            out.append((t, s16(e[0:16]), s16(e[16:22]), struct.unpack(">H", e[22:24])[0], struct.unpack(">H", e[24:26])[0]))
    for t in ("-R", "-RW"):
        for i in range(cnt[t]):
            e = fw[loc[t] + DASH_LEN * i: loc[t] + DASH_LEN * (i + 1)]
            out.append((t, e[:12].rstrip(b"\x00").decode("latin-1"), None, e[12], fw[loc[t] + DASH_LEN * cnt[t] + i]))
    return (pbank, dbank), out


LO_RULE = ("fw.pl 50/91-93 (1 MiB, byte 0 = 02h: dvdrw), common_util.pl 268-271/311/317 (rule-1 ID from 4000h), fw.pl 190 + fw_specs.pl 27 ('U': pbank C0000h, dbank D0000h), "
           "media_dataproc.pl 143-148 (1S count code), 292-295/319-329 (plus indexing, gaps, 90..E0 64 0B, counts), 339-347 (dash), 375-378/400-402 (fields, dash speeds after the table)")


def gen_liteon():
    small = {"+R": 6, "+RW": 4, "-R": 5, "-RW": 3}
    variants = (
        ("liteon-sohw812s-minimal", dict(counts=small, with_samples=False),
         "SOHW-812S (rev US0Q) 1 MiB: small 1S media tables, NO sample codes RICOHJPNR00/RITEKG03 anywhere (no bank correction needed)",
         "; fw.pl 251-265: banks are corrected only when the sample is missing AND found elsewhere"),
        ("liteon-sohw812s-maximal", dict(counts={"+R": 40, "+RW": 35, "-R": 40, "-RW": 35}, with_samples=True),
         "SOHW-812S 1 MiB: 150 codes (fw_specs.pl 'U' expects 150), sample codes RICOHJPNR00 (16-bit) in C0000h and RITEKG03 in D0000h",
         "; fw.pl 251-265, media_const.pl 80-88; fw.pl 370-377 (no 'fewer codes' warning at >= 150)"),
        ("liteon-sohw812s-gaps-low", dict(counts=small, with_samples=False, gaps=(47, 35, 43, 375)),
         "minimal SOHW-812S image with every wildcard gap at its lower bound (plus 47/35, dash 43/375 bytes)",
         "; media_dataproc.pl 319 ({47,66}, {35,42}), 339 ({43,47}, {375,384})"),
        ("liteon-sohw812s-gaps-high", dict(counts=small, with_samples=False, gaps=(66, 42, 47, 384)),
         "minimal SOHW-812S image with every wildcard gap at its upper bound (plus 66/42, dash 47/384 bytes)",
         "; media_dataproc.pl 319 ({47,66}, {35,42}), 339 ({43,47}, {375,384})"),
        ("liteon-sohw812s-rule2-id", dict(counts=small, with_samples=False, id_byte4=0x1F),
         "minimal SOHW-812S image whose ID block has 1Fh in place of 5Bh (rule level 2)",
         "; fw.pl 117-119 (rule levels 1 and 2 for DVD writers), common_util.pl 273-276 (rule 2: [\\x1F\\x5B])"),
        ("liteon-sohw812s-moved-banks", dict(counts={"+R": 8, "+RW": 5, "-R": 7, "-RW": 4}, with_samples=True, pbank=0x0B0000, dbank=0x0E0000),
         "SOHW-812S image whose plus tables are in bank B0000h and dash tables in E0000h (not the 'U' row's C0000h/D0000h), each with its sample code",
         "; fw.pl 251-265: the sample is missing from the row's bank and found elsewhere, so the bank becomes (match end & FF0000h)"),
        ("liteon-sohw1213s-minimal", dict(counts=small, with_samples=False, row="T", dbank=0x090000),
         "SOHW-1213S (rev TS09) 1 MiB: 1S tables, plus bank C0000h, dash bank 90000h (the 'T' row), no sample codes",
         "; fw_specs.pl 29 ('T': pbank C0000h, dbank 90000h, limits +R 12/+RW 4/-R 8/-RW 4); media_dataproc.pl 143-148 ('1S/2S/1213S' parser chosen by the count code in the dash bank)"),
        ("liteon-sohw812s-bad-bank", dict(counts=small, with_samples=False, broken_bank=3),
         "minimal SOHW-812S image whose bank 3 (30000h) starts with FFh instead of 02h",
         "; fw_mtk.pl 46-53 + fw.pl 600: OmniPatcher refuses only when SAVING; loading and the media tables are unaffected"),
    )
    for name, kw, desc, rule in variants:
        img, entries = liteon_image(name, **kw)
        row = kw.get("row", "U")
        (pb, db), got = omnipatcher_read(img, row)
        assert (pb, db) == (kw.get("pbank", LO_PBANK), kw.get("dbank", LO_DBANK))
        want = [(e["type"], e["mid"], e["tid"], e["rid"], e["spd"]) for e in entries]
        assert got == want, "generator and its OmniPatcher reading disagree"
        blob = bytes(img)
        has_samples = b"RICOHJPNR00" in blob or be16chars("RICOHJPNR00", 11) in blob or b"RITEKG03" in blob
        assert has_samples == kw["with_samples"]
        broken = "broken_bank" in kw
        exp = dict(identified=True, family="liteon-mediatek", layout="liteon-dvdrw",
                   valid=NOT_TRUE if broken else [True, None], media=entries, media_heuristic=False,
                   exit=None if broken else 0)
        if broken:
            exp["problems"] = "nonempty"
        if "pbank" in kw and row == "U":
            exp.pop("media_heuristic")   # OmniPatcher's own rule moves the bank; whether odflash calls that heuristic is its choice
        add(name + ".bin", img, desc, LO_RULE + rule, exp)

    # ID block below 4000h: rules 1 and 2 search from 4000h, so no revision, no letter, 'Unable to classify firmware'
    img, entries = liteon_image("liteon-id-below-4000", counts=small, with_samples=False, id_at=0x3010)
    assert not re.search(rb"\x05\x80\x00\x32[\x1F\x5B]\x00{3}", bytes(img[0x4000:]), re.S)
    add("liteon-id-below-4000.bin", img,
        "minimal SOHW-812S image with the ID block moved to 3010h (below 4000h); tables as in the minimal image",
        "common_util.pl 268-277 (search from 4000h); fw.pl 190, 226-229 (no revision: letter '~', 'Unable to classify firmware.', "
        "pbank = dbank = 0 from the '~' row, so media_parse finds no 1S count code and reads no table)",
        dict(identified=None, valid=NOT_TRUE, no_exact_media=True))


# ================================================================ LG MT1887 (cyrozap)

def gen_mt1887():
    r = rng("mt1887")
    img = bytearray(r.randbytes(0xF906C))
    cs = sum_le16_words(img[0xB000:0xEF000])
    img[0xF906A:0xF906C] = struct.pack("<H", cs)
    rule = "mt1887_fw.ksy 3, 7-14 (fw_8051 [0,B000h), fw_arm [B000h,EF000h), checksum u2 LE at F906Ah); validate_fw.py 30-35, 53 (LE word sum of fw_arm only)"
    add("mt1887-minimal.bin", img, f"LG GP65NB60 / MT1887 image of F906Ch bytes, random content, LE checksum {cs:04X}h at F906Ah",
        rule, dict(identified=True, family="lg-mt1887", layout="mt1887", valid=VALID_OK,
                   checksum=dict(status="OK", stored=hx(cs), computed=hx(cs)), problems="empty", exit=0))
    bad = bytearray(img)
    bad[0xF906A:0xF906C] = struct.pack("<H", cs ^ 0xFFFF)
    add("mt1887-bad-checksum.bin", bad, f"the same with the checksum inverted ({cs ^ 0xFFFF:04X}h vs {cs:04X}h)",
        rule + ". The format has no header or version string (facts 3), so a wrong checksum leaves nothing that tells this image from "
        "random data of that size: 'not identified' and 'identified as MT1887, checksum BAD, valid false' are both accepted; valid true or another family is not",
        dict(identified=None, valid=NOT_TRUE,
             when_identified=dict(family="lg-mt1887", valid=VALID_BAD,
                                  checksum=dict(status="BAD", stored=hx(cs ^ 0xFFFF), computed=hx(cs)), exit=1)))


# ================================================================ nothing

def gen_nothing():
    r = rng("nothing")
    r1m = bytearray(r.randbytes(0x100000))
    if r1m[0] == 0x02:
        r1m[0] = 0x03
    r1m02 = bytearray(r.randbytes(0x100000))
    r1m02[0] = 0x02
    rnec = r.randbytes(1966086)
    assert sum_be16_words(rnec[:0x1E0000]) != struct.unpack(">H", rnec[0x1E0000:0x1E0002])[0]
    assert re.fullmatch(rb"[A-Z][A-Z0-9]{3}", rnec[0x1E0002:0x1E0006]) is None   # cannot be a Binflash ID
    for name, data, desc in (
        ("nothing-random-128k.bin", r.randbytes(0x20000), "random 128 KiB"),
        ("nothing-random-1m.bin", r1m, "random 1 MiB, byte 0 not 02h"),
        ("nothing-random-1m-02.bin", r1m02, "random 1 MiB with byte 0 = 02h (passes OmniPatcher's load test fw.pl 50, but has no drive ID: 'Unable to classify firmware' fw.pl 226-229)"),
        ("nothing-random-nec2m-size.bin", rnec, "random bytes of the NEC 2M dump size 1966086 (no ID from the table at 1E0002h, checksum at 1E0000h does not match)"),
        ("nothing-zeros-128k.bin", bytes(0x20000), "128 KiB of zeros"),
        ("nothing-zeros-1m.bin", bytes(0x100000), "1 MiB of zeros"),
    ):
        add(name, data, desc, "no public rule identifies this content; size alone verifies nothing",
            dict(identified=None, valid=NOT_TRUE, nothing=True))
    add("nothing-empty.bin", b"", "an empty file", "nothing to identify; an input-error object instead of a verdict is accepted",
        dict(identified=False, valid=NOT_TRUE, nothing=True, error_ok=True))


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    gen_nec()
    gen_plextor()
    gen_liteon()
    gen_mt1887()
    gen_nothing()
    records = []
    for name, data, rec in IMAGES:
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
        rec["sha256"] = hashlib.sha256(data).hexdigest()
        records.append(rec)
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump({"generator": "scripts/reference-images/generate.py", "seed": SEED, "images": records}, f, indent=1)
    print(f"{len(records)} images in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
