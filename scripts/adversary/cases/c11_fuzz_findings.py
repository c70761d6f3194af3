"""Class 11: the fuzzers' findings (scripts/fuzz/regressions/TARGET/*), replayed through the commands that read
such input and judged by the contract: no crash, no leak-driven growth, one error line, exit per README, under
10 s and 200 MB. Every finding a fuzz run keeps is added there; this generator picks them all up."""
import os
from harness import Case

# The command that reads each fuzz target's input from a file.
COMMANDS = {
    "containers": [["fw", "inspect", "@in"], ["fw", "members", "@in"]],
    "image": [["fw", "inspect", "@in"]],
    "checksum": [["fw", "inspect", "@in"]],
    "media": [["fw", "inspect", "@in"]],
    "sense": [["sense", "-", "<in"]],
}


def cases(ctx):
    root = os.path.join(ctx.repo, "scripts", "fuzz", "regressions")
    if not os.path.isdir(root):
        return
    for target in sorted(os.listdir(root)):
        for name in sorted(os.listdir(os.path.join(root, target))):
            data = open(os.path.join(root, target, name), "rb").read()
            for cmd in COMMANDS.get(target, []):
                c = Case("11-fuzz-findings", f"{target} {name} {cmd[1]}", [])
                c.cwd = ctx.folder(c.cls, c.name)
                p = ctx.write(c.cwd, "input" + os.path.splitext(name)[1], data)
                c.args = [p if a == "@in" else a for a in cmd if a != "<in"]
                if "<in" in cmd:
                    c.stdin = data
                c.inputs = [p]
                c.codes = (0, 1, 2)
                yield c
