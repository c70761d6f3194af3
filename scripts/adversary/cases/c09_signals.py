"""Class 9: signals before the write window. A real odflash process flashes an emulated drive with -v (every CDB
echoed on stderr as it is sent); when the chosen command has completed, the reader stops, fills the stderr pipe so the
process blocks at its next command, and sends SIGINT, SIGTERM or SIGHUP; then lets it go on. Steps: NEC safe-mode entry
for the backup read, the first and a middle ReadRAM of the backup, the Pioneer identification read just before the
kernel-mode command, the kernel-mode command itself, the synthetic drive's backup read.

A signal during the preflight's identification reads (before anything that could change the drive) may end the
process by its default action, as Ctrl-C at the prompt does. Judged by what happened, not by what the code intends: exit 128 + the signal; the last stdout line is the JSON error
(kind interrupted) or the result; when a vendor mode was entered (the entering command was answered GOOD) the report
never says the drive is unchanged, the journal has an entry after it, and a mode entered for the backup read is left
(the cleanup is the last command sent); no temp file is left."""
import fcntl, json, os, signal, subprocess, threading, time
from harness import Check

CLS = "9-signals"
SIGS = [signal.SIGINT, signal.SIGTERM, signal.SIGHUP]
NEC = ["--family", "nec-optiarc", "--layout", "nec-2m-opti3", "--size", "1769480", "--drive-id", "G245",
       "--vendor", "ATAPI", "--product", "iHAS324   Y", "--revision", "BL1Y"]
PIONEER = ["--family", "pioneer-dvr", "--layout", "dvr-normal", "--vendor", "PIONEER", "--product", "DVD-RW  DVR-107D"]
SYNTH = ["--family", "synthetic-test", "--revision", "1.01"]

# (drive, generate args, flash args, step name, CDB prefix that completes the step, which occurrence, mode enter, leave)
STEPS = [
    ("ihas324y", NEC, [], "safe-mode entry for the backup", "CC 01 01", 1, "CC 01 01", "CC 01 00"),
    ("ihas324y", NEC, [], "first ReadRAM of the backup", "CC 00", 2, "CC 01 01", "CC 01 00"),
    ("ihas324y", NEC, [], "a middle ReadRAM of the backup", "CC 00", 20, "CC 01 01", "CC 01 00"),
    ("dvr-107d", PIONEER, ["--no-backup"], "identification read before kernel mode", "3C 02 F1", 1, "3B 04 FF", None),
    ("dvr-107d", PIONEER, ["--no-backup"], "kernel-mode command accepted", "3B 04 FF", 1, "3B 04 FF", None),
    ("synthetic-writer", SYNTH, [], "first read of the backup", "3C", 1, None, None),
    ("synthetic-writer", SYNTH, [], "a middle read of the backup", "3C", 8, None, None),
]


def _default_signals():
    # The child starts with the three signals at their default action: a harness run under nohup (SIGHUP ignored)
    # would otherwise pass the ignored SIGHUP on, and odflash rightly keeps a signal ignored that it inherited so.
    for s in SIGS:
        signal.signal(s, signal.SIG_DFL)


def _run_one(ctx, drive, gen, flash, prefix, nth, enter, leave, sig):
    folder = ctx.folder(CLS, f"{drive}-{prefix}-{nth}-{sig}")
    env = dict(os.environ, NO_COLOR="1", HOME=folder, ODFLASH_EMULATED_WAIT_SCALE="0.05")
    env.pop("ODFLASH_DB", None)
    env.pop("ODFLASH_JOURNAL", None)
    img = os.path.join(folder, "new.bin")
    r = subprocess.run([ctx.binary, "fw", "generate"] + gen + ["-o", img], env=env, capture_output=True)
    if r.returncode != 0:
        return [f"fw generate: {r.stderr.decode(errors='replace')[:200]}"]
    journal = os.path.join(folder, "journal.jsonl")
    p = subprocess.Popen([ctx.binary, "flash", "--json", "-v", "emu:" + drive, img, "--yes", "--allow-untested",
                          "--backup-dir", folder, "--journal", journal] + flash,
                         cwd=folder, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
                         preexec_fn=_default_signals)
    out_chunks = []
    t = threading.Thread(target=lambda: out_chunks.append(p.stdout.read()))
    t.start()
    err_lines = []
    sent = []           # (cdb, status) in order
    fired = False
    seen = 0
    cur = None
    for raw in p.stderr:
        line = raw.decode(errors="replace").rstrip("\n")
        if not line.strip():
            continue
        err_lines.append(line)
        s = line.strip()
        if s.startswith("-> "):
            cur = s[3:].split(" (")[0]
        elif s.startswith("<- ") and cur is not None:
            sent.append((cur, s[3:]))
            if not fired and cur.startswith(prefix):
                seen += 1
                if seen == nth:
                    fired = True
                    # Hold the process at its next command: a full pipe blocks its next echo line. Our write end is
                    # closed at once (else the pipe never reaches EOF once the process is gone).
                    fill = os.open(f"/proc/self/fd/{p.stderr.fileno()}", os.O_WRONLY | os.O_NONBLOCK)
                    try:
                        while True:
                            os.write(fill, b"\n" * 4096)
                    except BlockingIOError:
                        pass
                    try:
                        while True:
                            os.write(fill, b"\n")
                    except BlockingIOError:
                        pass
                    os.kill(p.pid, sig)
                    os.close(fill)
            cur = None
    p.wait(timeout=120)
    t.join()
    out = b"".join(out_chunks).decode(errors="replace")
    bad = []
    if not fired:
        return [f"the step never came ({seen} of {nth} seen): exit {p.returncode}"]
    want = 128 + sig
    if p.returncode == -sig and not any(c.startswith(("3B", "CC 01")) for c, _ in sent):
        # Still in the preflight (identification reads only, before the flash's signal handling starts): the signal's
        # default action ends the process, as at a prompt; nothing was changed, so this is no failure.
        return []
    if p.returncode != want:
        bad.append(f"exit {p.returncode}, expected {want}")
    lines = [l for l in out.splitlines() if l.strip()]
    last = {}
    try:
        last = json.loads(lines[-1]) if lines else {}
    except ValueError:
        bad.append("last stdout line is not JSON: " + lines[-1][:120])
    msg = json.dumps(last)
    entries = []
    if os.path.exists(journal):
        for l in open(journal):
            try:
                entries.append(json.loads(l))
            except ValueError:
                pass
    events = [e.get("event") for e in entries]
    entered = enter is not None and any(c.startswith(enter) and st.startswith("GOOD") for c, st in sent)
    if entered:
        if "unchanged" in msg:
            bad.append("a vendor mode was entered, yet the report says unchanged: " + msg[:240])
        if not events:
            bad.append("a vendor mode was entered, yet the journal has no entry")
        elif events[-1] in ("start", "preparing"):
            bad.append(f"the journal ends at {events[-1]!r}: the way the run ended is not recorded")
        if leave is not None:
            last_cdb = sent[-1][0] if sent else ""
            if not last_cdb.startswith(leave):
                bad.append(f"the vendor mode was not left: the last command sent was {last_cdb}")
    tmp = [n for n in os.listdir(folder) if n.endswith(".tmp")]
    if tmp:
        bad.append("temp files left: " + ", ".join(tmp[:3]))
    return bad


def checks(ctx):
    for drive, gen, flash, step, prefix, nth, enter, leave in STEPS:
        for sig in SIGS:
            name = f"{signal.Signals(sig).name} at {drive}: {step}"
            yield Check(CLS, name, lambda a=(drive, gen, flash, prefix, nth, enter, leave, sig): _run_one(ctx, *a))
