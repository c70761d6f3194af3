#!/usr/bin/env python3
"""Checks the guest console of scripts/vm-test: odflash against the kernel's view (sysfs) and
against sg3-utils' sg_inq, field by field. Prints one line per check and 'N passed, N failed'."""
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench

def sections(log: str) -> dict:
    out = {}
    for m in re.finditer(r"@@@BEGIN (.*?)\r?\n(.*?)@@@RC (\d+)\r?\n@@@END", log, re.S):
        out[m.group(1).strip()] = (m.group(2).replace("\r", ""), int(m.group(3)))
    return out

def sg_inq_fields(text: str) -> dict:
    f = {}
    for key, pat in [("pdt", r"PDT=(\d+)"), ("rmb", r"RMB=(\d)"), ("version", r"version=0x([0-9a-fA-F]+)")]:
        m = re.search(pat, text)
        if m:
            f[key] = int(m.group(1), 16 if key == "version" else 10)
    for key, label in [("vendor", "Vendor identification"), ("product", "Product identification"),
                       ("revision", "Product revision level"), ("serial", "Unit serial number")]:
        m = re.search(r"^\s*" + label + r": (.*)$", text, re.M)
        if m:
            f[key] = m.group(1)
    return f

FIELD_WIDTH = {"vendor": 8, "product": 16, "revision": 4}

def same(field, mine, ref) -> bool:
    """Numbers compare exactly. Strings: sg_inq prints a NUL-padded field only up to the NUL, a
    space-padded one whole; odflash keeps the whole field with NULs shown as spaces. So the padded
    field must be equal where sg_inq printed it whole, and the trimmed text must always be equal."""
    if field not in FIELD_WIDTH:
        return mine == ref
    if len(ref) == FIELD_WIDTH[field] and mine != ref:
        return False
    return mine.rstrip() == ref.rstrip()

def sg_raw_answer(text: str):
    """sg_raw's result: ("good", bytes) or ("check", sense key name, additional sense text)."""
    if re.search(r"SCSI Status: Good", text):
        data = bytearray()
        # " 10     22 60 00 ...  08 00 0b 00    \"`......": offset, the hex bytes (halves two spaces apart), then
        # the ASCII column at least three spaces on.
        for l in text.splitlines():
            parts = re.split(r"\s{3,}", l.strip())
            if len(parts) >= 2 and re.fullmatch(r"[0-9a-f]+", parts[0]) and re.fullmatch(r"(?:[0-9a-f]{2}\s{1,2})*[0-9a-f]{2}", parts[1]):
                data += bytes(int(x, 16) for x in parts[1].split())
        return ("good", bytes(data))
    key = re.search(r"Sense key: (.*)", text)
    asc = re.search(r"Additional sense: (.*)", text)
    return ("check", key.group(1).strip() if key else "", asc.group(1).strip() if asc else "")

def be16(b, i):
    return (b[i] << 8) | b[i + 1]

def check_speeds(sec, c):
    """media --speeds must report what the drive answered: GET PERFORMANCE 03h's descriptors or its refusal (with
    the same sense), and mode page 2Ah's write speed descriptors and maximum write speed, as sg_raw decodes them."""
    m = load_json(sec, "media-speeds", c)
    if m is None or "sg_raw-getperf" not in sec or "sg_raw-modepage" not in sec:
        c.check(False, "media --speeds and the sg_raw reference ran", str(list(k for k in sec if "speed" in k or "sg_raw" in k)))
        return
    w = m.get("disc", {}).get("writeSpeeds")
    c.check(isinstance(w, dict), "media --speeds reports the drive's write speeds for a pressed disc", str(m.get("disc")))
    if not isinstance(w, dict):
        return
    notes = w.get("notes", [])
    gp = sg_raw_answer(sec["sg_raw-getperf"][0])
    if gp[0] == "good":
        data = gp[1]
        n = max(0, min(len(data), (int.from_bytes(data[0:4], "big") + 4 if len(data) >= 4 else 0)) - 8) // 16
        ref = sorted((int.from_bytes(data[8 + 16 * i + 12:8 + 16 * i + 16], "big") for i in range(n)), reverse=True)
        mine = [d["writeKBs"] for d in (w.get("getPerformance") or [])]
        c.check(mine == ref, "GET PERFORMANCE 03h descriptors = sg_raw's", f"{mine} vs {ref}")
    else:
        gpn = [n for n in notes if n.startswith("GET PERFORMANCE")]
        c.check(w.get("getPerformance") is None and len(gpn) == 1, "GET PERFORMANCE 03h refused, as sg_raw saw it: one note, no descriptors", str(w))
        # sg_raw: "Illegal Request" / "Invalid command operation code"; odflash: "05/20/00 Illegal Request: Invalid ...".
        text = gpn[0].lower() if gpn else ""
        c.check(gp[1].lower() in text and gp[2].lower() in text, "the refusal's sense = sg_raw's", f"{gpn} vs {gp[1:]}")
    mp = sg_raw_answer(sec["sg_raw-modepage"][0])
    if mp[0] == "good" and len(mp[1]) >= 10:
        b = mp[1]
        end = min(len(b), be16(b, 0) + 2)
        p = 8 + be16(b, 6)
        page = b[p:min(end, p + 2 + b[p + 1])]
        ref_max = be16(page, 18) if len(page) >= 20 else 0
        ref = []
        if len(page) >= 32:
            for i in range(be16(page, 30)):
                if 32 + 4 * i + 4 > len(page):
                    break
                ref.append(be16(page, 32 + 4 * i + 2))
        c.check(w.get("modePage") == sorted(ref, reverse=True), "mode page 2Ah write speeds = sg_raw's", f"{w.get('modePage')} vs {ref} (page of {len(page)} bytes)")
        c.check(w.get("modePageMaxKBs") == (ref_max or None), "mode page 2Ah maximum write speed = sg_raw's", f"{w.get('modePageMaxKBs')} vs {ref_max}")
    else:
        c.check(w.get("modePage") is None, "mode page 2Ah refused, as sg_raw saw it", str(mp))
    text = sec.get("media-speeds-text", ("", 1))
    c.check(text[1] == 0 and ("GET PERFORMANCE" in text[0]), "media --speeds text names the GET PERFORMANCE answer", text[0][-400:])

class Checker:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, ok: bool, what: str, detail: str = ""):
        if ok:
            self.passed += 1
            print(f"ok    {what}")
        else:
            self.failed += 1
            print(f"FAIL  {what}" + (f": {detail}" if detail else ""))

def ndjson(text):
    """flash --json prints NDJSON: one object a line, each with a type (check, plan, progress, result, error)."""
    out = []
    for l in text.splitlines():
        l = l.strip()
        if l.startswith("{"):
            try:
                out.append(json.loads(l))
            except ValueError:
                pass
    return out

def result_of(text):
    lines = ndjson(text)
    return lines[-1] if lines and lines[-1].get("type") == "result" else {}

def load_json(sec, name, c):
    text, _ = sec.get(name, ("", -1))
    try:
        return json.loads(text)
    except ValueError:
        c.check(False, f"{name} prints JSON", text[:200])
        return None

def main(path: str) -> int:
    log = open(path, encoding="utf-8", errors="replace").read()
    sec = sections(log)
    c = Checker()

    # The kernel's view: sgN type vendor|model|rev [srM]
    kernel = {}
    for line in sec.get("sysfs", ("", 1))[0].splitlines():
        parts = line.split(" ", 2)
        if len(parts) == 3:
            name, typ, rest = parts
            strings, _, block = rest.rpartition(" ") if rest.count("|") == 2 and not rest.endswith("|") and " " in rest.split("|")[2] else (rest, "", "")
            v, p, r = strings.split("|")
            kernel["/dev/" + name] = {"type": int(typ), "vendor": v.strip(), "product": p.strip(), "revision": r.strip(),
                                      "block": ("/dev/" + block) if block else None}
    c.check(len(kernel) == 6, "the guest sees 6 SCSI devices (virtio scsi-cd empty and with a disc, scsi-hd, ide-cd, usb-bot scsi-cd, scsi_debug)", str(kernel))
    mmc = {d: k for d, k in kernel.items() if k["type"] == 5}

    scan = load_json(sec, "scan", c)
    if scan is not None:
        rows = {r["device"]: r for r in scan["devices"] if r["transport"] == "sg"}
        c.check(set(rows) == set(mmc), "scan lists exactly the optical drives through SG_IO", f"{sorted(rows)} vs {sorted(mmc)}")
        for d, k in mmc.items():
            r = rows.get(d, {})
            c.check((r.get("vendor"), r.get("product"), r.get("revision")) == (k["vendor"], k["product"], k["revision"]),
                    f"scan {d}: INQUIRY strings match the kernel's", f"{r} vs {k}")
            if k["block"]:
                c.check(k["block"] in r.get("alsoAs", []), f"scan {d}: paired with {k['block']}", str(r.get("alsoAs")))
        c.check(any(r.get("vendor") == "ATAPI" and r.get("match") == "Lite-On iHAS124 Y" for r in rows.values()),
                "scan matches the scsi-cd with iHAS124 Y strings to firmware-db")
        c.check(any(r.get("product") == "SCSI_DEBUG_CD" for r in rows.values()), "scan finds scsi_debug (ptype=5)")
        c.check(any(r.get("product") == "QEMU DVD-ROM" and r.get("revision") == "BL0X" for r in rows.values()), "scan finds the ide-cd")
        usb_rows = [r for r in rows.values() if any(a.startswith("usb:") for a in r.get("alsoAs", []))]
        c.check(len(usb_rows) == 1 and usb_rows[0].get("vendor") == "PLEXTOR", "scan names the USB address of the usb-bot drive", str(usb_rows))
        c.check(all(re.fullmatch(r"scsi \d+:\d+:\d+:\d+(, usb \d+-[\d.]+)?", r.get("location", "")) for r in rows.values()),
                "scan gives every SG_IO drive's location (scsi H:C:T:L)", str([r.get("location") for r in rows.values()]))
        c.check(len(usb_rows) == 1 and re.search(r", usb \d+-[\d.]+$", usb_rows[0].get("location", "")) is not None,
                "scan gives the usb-bot drive's USB port path", str([r.get("location") for r in usb_rows]))

    # info agrees with sg_inq, field by field, on every optical drive (sg and sr nodes).
    for d, k in mmc.items():
        inq_text, inq_rc = sec.get(f"sg_inq {d}", ("", 1))
        sn_text, sn_rc = sec.get(f"sg_inq_sn {d}", ("", 1))
        ref = sg_inq_fields(inq_text)
        serial_ref = sg_inq_fields(sn_text).get("serial") if sn_rc == 0 else None
        c.check(inq_rc == 0 and "vendor" in ref, f"sg_inq {d} ran", inq_text[:200])
        for node in [d] + ([k["block"]] if k["block"] else []):
            info = load_json(sec, f"info {node}", c)
            if info is None:
                continue
            q = info["drive"]["inquiry"]
            mine = {"pdt": q["deviceType"], "rmb": 1 if q["removable"] else 0, "version": q["version"],
                    "vendor": q["rawVendor"], "product": q["rawProduct"], "revision": q["rawRevision"]}
            for f in ["pdt", "rmb", "version", "vendor", "product", "revision"]:
                c.check(f in ref and same(f, mine[f], ref[f]), f"info {node} {f} = sg_inq's", f"{mine[f]!r} vs {ref.get(f)!r}")
            c.check(info["drive"].get("serial") == serial_ref, f"info {node} serial = sg_inq -p 0x80's",
                    f"{info['drive'].get('serial')!r} vs {serial_ref!r}")
            c.check(info["drive"]["transport"] == "sg", f"info {node} went through SG_IO")

    # A pressed disc in QEMU's scsi-cd: profile from GET CONFIGURATION, no media ID (and no failure).
    m = load_json(sec, "media", c)
    if m is not None:
        disc = m.get("disc", {})
        c.check(disc.get("medium") == "present" and disc.get("profile") in ("CD-ROM", "DVD-ROM"), "media reads the loaded disc's profile", str(disc))
        c.check(disc.get("code") is None and any("carries no media ID" in n for n in disc.get("notes", [])), "a pressed disc has no media ID", str(disc))
        toc = disc.get("toc") or {}
        c.check(toc.get("firstTrack") == 1 and toc.get("leadOutLBA") == 2048, "the TOC of the 4 MiB disc image: track 1, lead-out at LBA 2048", str(toc))

    # The drive's write speeds for the loaded disc (media --speeds) against sg_raw's answers to the same two commands.
    check_speeds(sec, c)

    # Flashing to scsi_debug through SG_IO (it accepts WRITE BUFFER; 0Eh segments, then one 0Fh activate).
    dry = result_of(sec.get("flash-dry", ("", 1))[0])
    c.check(all("type" in l for l in ndjson(sec.get("flash-dry", ("", 1))[0])), "flash --json: every line an object with a type")
    if dry:
        c.check(dry.get("dryRun") is True and dry.get("outcome", {}).get("status") == "success" and dry.get("emulatedMemoryMatchesImage") is True,
                "flash --dry-run against scsi_debug's identity plays the plan on an emulated copy", str(dry.get("outcome")))
    text, rc = sec.get("flash", ("", 1))
    progress = [l for l in ndjson(text) if l.get("type") == "progress" and "bytesDone" in l and l.get("phase") != "backup"]
    final = result_of(text)
    c.check(rc == 0 and final.get("outcome", {}).get("status") == "success", "flash of 2 MiB to scsi_debug through SG_IO succeeds", text[-400:])
    c.check(final.get("commands") == 65, "64 segments of 32 KiB (mode 0Eh) and one activate (0Fh)", str(final.get("commands")))
    pre = {p.get("name"): p for p in (final.get("preflight") or [])}
    buf = pre.get("download buffer (capacity, offset boundary)", {})
    c.check(buf.get("passed") is True and "05/20/00" in buf.get("detail", ""),
            "scsi_debug refuses READ BUFFER 03h: the descriptor check is skipped and says so", str(buf))
    # Mode 07h: scsi_debug raises a unit attention after every segment; each next segment is sent once more.
    t7, rc7 = sec.get("flash-07", ("", 1))
    f7 = result_of(t7)
    c.check(rc7 == 0 and f7.get("outcome", {}).get("status") == "success" and f7.get("plan", "").startswith("spc-07"),
            "flash --protocol spc-07 (mode 07h segments) to scsi_debug succeeds through its unit attentions", t7[-400:])
    done = [p["bytesDone"] for p in progress]
    c.check(len(done) == 64 and done == sorted(done) and done[-1] == 2097152, "NDJSON progress never goes backwards and reaches 2 MiB", str(done[-3:]))

    # USB Bulk-Only through libusb.
    usb = sec.get("usbname", ("", 1))[0].strip()
    c.check(re.fullmatch(r"usb:\d+:\d+", usb) is not None, "scan gave the usb-bot drive's address", usb)
    info = load_json(sec, f"info {usb}", c)
    usb_sg = next((d for d, k in mmc.items() if k["vendor"] == "PLEXTOR"), None)
    if info is not None and usb_sg:
        c.check(info["drive"]["transport"] == "usb-bot", f"info {usb} went through libusb Bulk-Only")
        ref = sg_inq_fields(sec.get(f"sg_inq {usb_sg}", ("", 1))[0])
        q = info["drive"]["inquiry"]
        for f, mine in [("vendor", q["rawVendor"]), ("product", q["rawProduct"]), ("revision", q["rawRevision"]),
                        ("pdt", q["deviceType"]), ("version", q["version"])]:
            c.check(f in ref and same(f, mine, ref[f]), f"info {usb} {f} = sg_inq {usb_sg}'s", f"{mine!r} vs {ref.get(f)!r}")
        c.check(info["drive"].get("serial") == "ODFPX716A", f"info {usb} serial through BOT", str(info["drive"].get("serial")))
        c.check(info["drive"]["medium"] == "no medium", f"info {usb}: REQUEST SENSE after CSW status 1 gave 02/3A/00")
    text, rc = sec.get(f"info-text {usb}", ("", 1))
    c.check(rc == 0 and "-> 12 00 00 00 60 00 (INQUIRY)" in text, "-v echoes CDBs sent over USB")
    c.check(sec.get("usb-driver-before", ("", 1))[0].strip() == "1", "usb-storage held the drive before")
    c.check(sec.get("usb-driver-after", ("", 1))[0].strip() == "1", "usb-storage holds the drive again after odflash (re-attached)")
    after = load_json(sec, "scan-after", c)
    if after is not None:
        c.check(any(usb in r.get("alsoAs", []) and r["transport"] == "sg" for r in after["devices"]),
                "after re-attach the drive is back as a SCSI device")
    c.check(any(k.startswith("sg_inq-after ") and v[1] == 0 and "PLEXTOR" in v[0] for k, v in sec.items()),
            "after re-attach sg_inq works on it again")

    # QEMU fails REPORT KEY in the adapter (DID_ERROR): region must say RPC-I, not break.
    t, rc = sec.get("region", ("", 1))
    c.check(rc == 0 and "RPC-I (not enforced)" in t, "region on QEMU's scsi-cd reports RPC-I instead of failing", t)

    # Bad input against real devices.
    t = sec.get("nonmmc", ("", 1))[0]
    c.check(t.startswith("odflash: error: ") and "is not an optical drive" in t and t.count("\n") == 1,
            "a disk is refused with one error line", t)
    t, rc = sec.get("missing", ("", 0))
    c.check(rc == 3 and t.strip() == "odflash: error: /dev/sg99: no such device", "a missing device: exit 3, one line", t)
    t, rc = sec.get("permission", ("", 0))
    c.check(rc == 3 and "permission denied" in t and t.count("\n") == 1, "permission denied is named as such (as nobody)", t)
    t, rc = sec.get("permission-json", ("", 0))
    try:
        e = json.loads(t)["error"]
        c.check(rc == 3 and e["kind"] == "device" and "permission denied" in e["message"], "permission error as JSON")
    except (ValueError, KeyError):
        c.check(False, "permission error as JSON", t)

    # Benchmark (reported, not a test: scripts/bench-flash judges the ratios): odflash vs sg_write_buffer, same device,
    # same boot, alternating, 2, 8 and 16 MiB.
    t, rc = sec.get("bench", ("", 1))
    figs, failures = bench.figures(t)
    c.check(rc == 0 and not failures and len(bench.runs(t)) >= 2 * 5 * len(bench.SIZES),
            "benchmark: both tools flashed 2, 8 and 16 MiB to scsi_debug in 5 alternating rounds", "; ".join(failures) or t[-300:])
    for _, line, _ in bench.lines(t):
        print("bench: " + line)

    print(f"vm-test: {c.passed} passed, {c.failed} failed")
    return 1 if c.failed else 0

if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
