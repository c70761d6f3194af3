#!/usr/bin/env python3
"""Prints the flash presets of the emulated MediaTek MT19xx drives (firmware-db/emulator/bu40n.yaml, bw-16d1ht.yaml).

Everything is SYNTHETIC except the structure (facts: /work/shared/reference/mediatek-pioneer-bd-facts.md 1.1, 2): a
2 MiB flash of FFh with a boot page that differs from its plaintext mirror at 10000h, the 20h-byte banner at 3000h, the
descriptor at 1EC000h, and the AES-CMAC table at 10400h (entries of 28 bytes, little-endian; digest = CMAC over the
range with every 16-byte block reversed, tag reversed; key published by freemkv-firmware cmac.rs CMAC_KEY). The
digests are computed here with Python's `cryptography` package, independently of odflash's Swift code, so the emulated
drives' flash verifies in odflash only if odflash's CMAC agrees with this one.

Usage: scripts/mt19/emulator-presets.py bu40n|bw-16d1ht
"""
import sys
from cryptography.hazmat.primitives.cmac import CMAC
from cryptography.hazmat.primitives.ciphers import algorithms

KEY = bytes.fromhex("BD209408E35E526A36235234434FE8AB")
SIZE, TABLE, ENTRY = 0x200000, 0x10400, 28

DRIVES = {
    "bu40n": dict(banner=b"MT1959 Boot BU5 SYNTH CONFIG 001", vendor=b"HL-DT-ST", model=b"BD-RE BU40N", rev=b"1.00",
                  region=b"N003600", unique=b"UNIQUE2017120801", tag=b"MTEKMT1959", de=0x00),
    "bw-16d1ht": dict(banner=b"MT1959 Boot JB8 SYNTH CONFIG 002", vendor=b"ASUS", model=b"BW-16D1HT", rev=b"3.10",
                      region=b"NM00000", unique=b"UNIQUE2019061501", tag=b"MTEKMT1939", de=0xDE),
}
# Active entries: a code range, the descriptor, and the mirror plus the first two table entries (signed last, over the
# updated table). The covering range ends before its own digest: the facts do not say how a digest that covers
# itself would verify, so the synthetic table has none.
ENTRIES = [(0x11000, 0x19FFF), (0x1EC000, 0x1EC0FF), (0x10000, 0x10437)]


def digest(img, start, end):
    msg = b""
    i = start
    while i <= end:
        n = min(16, end + 1 - i)
        msg += bytes(reversed(img[i:i + n]))
        i += n
    c = CMAC(algorithms.AES(KEY))
    c.update(msg)
    return bytes(reversed(c.finalize()))


def build(d):
    img = bytearray(b"\xff" * SIZE)
    presets = []

    def put(at, data):
        img[at:at + len(data)] = data
        presets.append((at, bytes(data)))

    put(0x0000, b"SYNTHETIC BOOT PAGE, STORED ENCRYPTED")
    put(0x3000, d["banner"])
    put(0x10000, b"SYNTHETIC BOOT PAGE, PLAINTEXT MIRROR")
    desc = bytearray(b"\x00" * 0x100)
    desc[0:8] = d["vendor"].ljust(8)
    desc[8:0x18] = d["model"].ljust(16)
    desc[0x18:0x1C] = d["rev"]
    desc[0x1C:0x24] = d["region"].ljust(8, b"\x00")
    desc[0x24:0x34] = d["unique"]
    desc[0x34:0x3E] = d["tag"]
    desc[0x50] = 0x78
    desc[0x56] = d["de"]
    put(0x1EC000, desc)
    table = bytearray()
    for s, e in ENTRIES:
        table += (1).to_bytes(4, "little") + s.to_bytes(4, "little") + e.to_bytes(4, "little") + b"\x00" * 16
    img[TABLE:TABLE + len(table)] = table
    covers = [k for k, (s, e) in enumerate(ENTRIES) if s <= TABLE <= e]
    for k in [k for k in range(len(ENTRIES)) if k not in covers] + covers:
        s, e = ENTRIES[k]
        at = TABLE + k * ENTRY + 12
        img[at:at + 16] = digest(img, s, e)
    presets.append((TABLE, bytes(img[TABLE:TABLE + len(table)])))
    return presets


def main():
    d = DRIVES[sys.argv[1]]
    for at, data in build(d):
        if all(0x20 <= b < 0x7F for b in data):
            print(f'    - {{at: 0x{at:X}, ascii: "{data.decode()}"}}')
        else:
            print(f'    - {{at: 0x{at:X}, hex: "{data.hex(" ").upper()}"}}')


if __name__ == "__main__":
    main()
