"""The side-by-side flashing benchmark of the guest console (scripts/vm/init.sh, section 'bench'): odflash vs
sg_write_buffer, WRITE BUFFER 0Eh in 32 KiB chunks then 0Fh to scsi_debug, 2, 8 and 16 MiB, alternating, in rounds.
Used by scripts/vm/check.py (prints, never fails on a ratio) and scripts/bench-flash (fails when a target is missed)."""
import re, statistics

SIZES = (2, 8, 16)
TARGETS = {"slope": 1.03, "whole16": 1.15}


def runs(text):
    """{(tool, round, MiB): (seconds, exit status)} from the 'bench TOOL ROUND MIB SECONDS EXIT MAXRSS' lines."""
    out = {}
    for m in re.finditer(r"^bench (sg|odflash) (\d+) (\d+) ([\d.]+) (\d+) (\d+)\s*$", text, re.M):
        out[(m.group(1), int(m.group(2)), int(m.group(3)))] = (float(m.group(4)), int(m.group(5)))
    return out


def slope(points):
    """Least-squares slope of (x, y) points."""
    mx = statistics.fmean(x for x, _ in points); my = statistics.fmean(y for _, y in points)
    return sum((x - mx) * (y - my) for x, y in points) / sum((x - mx) ** 2 for x, _ in points)


def figures(text):
    """The figures as {name: (per-round ratios, A median, B median, unit, target or None)}, plus the failures
    (runs that did not exit 0 or are missing)."""
    r = runs(text)
    rounds = sorted({k[1] for k in r})
    failures = [f"{t} round {n} {s} MiB exit {r[(t, n, s)][1]}" for t in ("sg", "odflash") for n in rounds for s in SIZES
                if (t, n, s) in r and r[(t, n, s)][1] != 0]
    complete = [n for n in rounds if all((t, n, s) in r and r[(t, n, s)][1] == 0 for t in ("sg", "odflash") for s in SIZES)]
    figs = {}
    if not complete:
        return figs, failures or ["no complete round"]
    chunks = lambda mib: mib * 32   # 32 KiB chunks
    so = [slope([(chunks(s), r[("odflash", n, s)][0]) for s in SIZES]) for n in complete]
    ss = [slope([(chunks(s), r[("sg", n, s)][0]) for s in SIZES]) for n in complete]
    figs["per-chunk cost (slope over 2, 8, 16 MiB) vs sg_write_buffer"] = (
        [a / b for a, b in zip(so, ss)], statistics.median(so) * 1e3, statistics.median(ss) * 1e3, "ms/chunk", TARGETS["slope"])
    for s in SIZES:
        a = [r[("odflash", n, s)][0] for n in complete]; b = [r[("sg", n, s)][0] for n in complete]
        figs[f"{s} MiB whole process vs sg_write_buffer --length"] = (
            [x / y for x, y in zip(a, b)], statistics.median(a), statistics.median(b), "s", TARGETS["whole16"] if s == 16 else None)
    return figs, failures


def lines(text):
    """Printable lines, one per figure: (name, line, met or None when there is no target)."""
    figs, _ = figures(text)
    out = []
    for name, (ratios, a, b, unit, target) in figs.items():
        med = statistics.median(ratios)
        met = None if target is None else med <= target
        t = f"<= {target:.2f}x  {'ok' if met else 'MISSED'}" if target else "(no target)"
        out.append((name, f"{name:58} odflash {a:8.3f} {unit}, sg {b:8.3f} {unit}   "
                          f"{min(ratios):5.2f} / {med:5.2f} / {max(ratios):5.2f}x over {len(ratios)} rounds   {t}", met))
    return out
