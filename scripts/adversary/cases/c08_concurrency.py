"""Class 8: concurrency. Eight flashes at once into one backup folder: eight of the same emulated model, and eight
drives that share one INQUIRY but hold different firmware (profiles that differ only in serial and in their flash's
filler bytes). Every run must succeed and report a backup path; the paths must be distinct; each reported file must
hold exactly the firmware of the drive that run flashed (its own `dump`, taken before, is the reference); no temp file
may be left. Repeated a few times, since a race does not show every time."""
import json, os, re, subprocess, hashlib
from harness import Check

CLS = "8-concurrency"
N = 8
ROUNDS = 3
SYNTH = ["--family", "synthetic-test", "--revision", "1.01"]
NEC = ["--family", "nec-optiarc", "--layout", "nec-2m-opti3", "--size", "1769480", "--drive-id", "G245",
       "--vendor", "ATAPI", "--product", "iHAS324   Y", "--revision", "BL1Y"]


def _env(folder):
    env = dict(os.environ, NO_COLOR="1", HOME=folder, XDG_STATE_HOME=os.path.join(folder, ".state"))
    env.pop("ODFLASH_DB", None)
    env.pop("ODFLASH_JOURNAL", None)
    return env


def _profiles(ctx, folder, model, n, distinct):
    """n profile files for emu:PATH: copies of MODEL with serials of their own and, when distinct, a flash filled
    from a seed of their own (initialImage.seed)."""
    src = open(os.path.join(ctx.db, "emulator", model + ".yaml")).read()
    out = []
    for i in range(n):
        text = src
        if distinct:
            text = re.sub(r"(?m)^serial:.*$", "", text)
            text = re.sub(r"(?m)^name:.*$", f"name: {model}-copy{i}", text)
            text += f"\nserial: \"SER{i:04d}X\"\n"
            text = re.sub(r"(?m)^initialImage: \{(.*)\}\s*$", lambda m: "initialImage: {" + m.group(1) + f", seed: {101 + i}" + "}", text)
        p = os.path.join(folder, f"{model}-{i}.yaml")
        with open(p, "w") as f:
            f.write(text)
        out.append(p)
    return out


def _flash_check(ctx, model, gen_args, distinct, extra):
    def run():
        bad = []
        for rnd in range(ROUNDS):
            folder = ctx.folder(CLS, f"{model}-{'distinct' if distinct else 'same'}-{rnd}")
            env = _env(folder)
            img = os.path.join(folder, "new.bin")
            r = subprocess.run([ctx.binary, "fw", "generate"] + gen_args + ["-o", img], env=env, capture_output=True)
            if r.returncode != 0:
                return [f"fw generate failed: {r.stderr.decode(errors='replace')[:200]}"]
            profs = _profiles(ctx, folder, model, N, distinct)
            devs = [("emu:" + p) if distinct else f"emu:{model}" for p in profs]
            # Each drive's firmware as its own dump reads it (the emulated drive is made afresh per process).
            refs = []
            for i, dev in enumerate(devs):
                ref = os.path.join(folder, f"ref-{i}.bin")
                r = subprocess.run([ctx.binary, "dump", dev, ref], env=env, capture_output=True, cwd=folder)
                if r.returncode not in (0, 1):
                    return [f"dump {dev} failed ({r.returncode}): {r.stderr.decode(errors='replace')[:200]}"]
                refs.append(open(ref, "rb").read())
            seeded = "initialImage" in open(profs[0]).read()
            if distinct and seeded and len({hashlib.sha256(b).digest() for b in refs}) != N:
                bad.append("the emulated drives' firmware is not distinct (initialImage.seed ignored?)")
            bdir = os.path.join(folder, "backups")
            os.mkdir(bdir)
            procs = [subprocess.Popen([ctx.binary, "flash", "--json", dev, img, "--yes", "--allow-untested",
                                       "--backup-dir", bdir] + extra, env=env, cwd=folder,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE) for dev in devs]
            reported = []
            for i, p in enumerate(procs):
                out, err = p.communicate(timeout=120)
                if p.returncode != 0:
                    bad.append(f"run {i} exit {p.returncode}: {err.decode(errors='replace')[:160]} {out.decode(errors='replace')[-200:]}")
                    continue
                res = None
                for line in out.decode(errors="replace").splitlines():
                    try:
                        o = json.loads(line)
                    except ValueError:
                        continue
                    if o.get("type") == "result":
                        res = o
                path = (res or {}).get("backup")
                if not path:
                    bad.append(f"run {i} reported no backup")
                    continue
                reported.append(path)
                if not os.path.isabs(path):
                    path = os.path.join(folder, path)
                if not os.path.isfile(path):
                    bad.append(f"run {i}: the reported backup {path} does not exist")
                elif open(path, "rb").read() != refs[i]:
                    bad.append(f"run {i}: the reported backup {os.path.basename(path)} does not hold that drive's firmware")
            if len(set(reported)) != len(reported):
                bad.append(f"{len(reported)} runs reported {len(set(reported))} distinct backup paths")
            files = os.listdir(bdir)
            if len([f for f in files if f.endswith(".bin")]) != N:
                bad.append(f"{N} runs left {len(files)} files in the backup folder: {sorted(files)[:4]}")
            stray = [f for f in files if ".tmp" in f]
            if stray:
                bad.append("temp files left: " + ", ".join(stray[:3]))
            if bad:
                return [f"round {rnd + 1}: " + b for b in bad]
        return bad
    return run


def checks(ctx):
    yield Check(CLS, f"{N} flashes of emu:synthetic-writer at once", _flash_check(ctx, "synthetic-writer", SYNTH, False, []))
    yield Check(CLS, f"{N} flashes of emu:ihas324y at once", _flash_check(ctx, "ihas324y", NEC, False, []))
    yield Check(CLS, f"{N} drives of one INQUIRY, distinct firmware (synthetic-writer)",
                _flash_check(ctx, "synthetic-writer", SYNTH, True, []))
    # ihas324y's flash is its preset bytes (no initial image to seed): the drives differ by serial only
    yield Check(CLS, f"{N} drives of one INQUIRY, distinct serials (ihas324y)", _flash_check(ctx, "ihas324y", NEC, True, []))
