#!/usr/bin/env python3
"""Extract the uncompressed ELF kernel from a Debian vmlinuz (the xz stream inside the bzImage).

QEMU boots an ELF vmlinux through its PVH entry, which skips the bzImage decompressor
(slow under TCG). Same method as the kernel tree's scripts/extract-vmlinux: find the
compressed stream by its magic and decompress it.
"""
import lzma
import sys

def main(src: str, dst: str) -> int:
    data = open(src, "rb").read()
    magic = b"\xfd7zXZ\x00"
    pos = data.find(magic)
    while pos != -1:
        try:
            out = lzma.LZMADecompressor(format=lzma.FORMAT_XZ).decompress(data[pos:])
        except lzma.LZMAError:
            out = b""
        if out[:4] == b"\x7fELF":
            with open(dst, "wb") as f:
                f.write(out)
            return 0
        pos = data.find(magic, pos + 1)
    print(f"extract-vmlinux: no xz-compressed ELF kernel found in {src}", file=sys.stderr)
    return 1

if __name__ == "__main__":
    if len(sys.argv) != 3:
        print("usage: extract-vmlinux.py VMLINUZ VMLINUX", file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1], sys.argv[2]))
