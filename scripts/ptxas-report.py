#!/usr/bin/env python3
"""Registers, stack and spills of every CUDA kernel, as ptxas reports them.

Compiles each kernels/**/*.cu for one architecture with `nvcc -Xptxas -v`
(the flags of the real build) and prints one line per kernel entry:
registers, stack frame bytes, spill store and load bytes. No GPU is needed:
ptxas runs at compile time. Spills on the persistent kernel and register
counts that cap occupancy show up here long before a GPU run would.

    scripts/ptxas-report.py [--arch 90] [--filter NAME] [--json]
"""
import argparse
import json
import pathlib
import re
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
ENTRY = re.compile(r"Compiling entry function '([^']+)' for 'sm_(\d+)'")
PROPS = re.compile(r"Function properties for (\S+)")
FRAME = re.compile(r"(\d+) bytes stack frame, (\d+) bytes spill stores, (\d+) bytes spill loads")
USED = re.compile(r"Used (\d+) registers")


def demangle(names):
    try:
        out = subprocess.run(["c++filt"], input="\n".join(names), capture_output=True, text=True, check=True).stdout
        return out.splitlines()
    except (OSError, subprocess.CalledProcessError):
        return names


def without_parameters(name):
    """'void f<(E)9>(Args, int)' -> 'f<(E)9>': the parameter list is the last balanced (...)."""
    if not name.endswith(")"):
        return name
    depth = 0
    for i in range(len(name) - 1, -1, -1):
        depth += {")": 1, "(": -1}.get(name[i], 0)
        if depth == 0:
            return name[:i].removeprefix("void ")
    return name


def report(arch, source, out_dir):
    cmd = ["nvcc", "-O3", "-DNDEBUG", f"--generate-code=arch=compute_{arch},code=sm_{arch}",
           "--expt-relaxed-constexpr", "-std=c++17", "-Xptxas", "-v",
           "-I", str(ROOT / "kernels"), "-I", str(ROOT / "native" / "include"), "-I", str(ROOT / "native" / "src"),
           "-DKEYMATE_HAVE_GRAPH_EXEC=1", "-DKEYMATE_HAVE_ZERO_LAUNCH_EXEC=1",
           "-c", str(source), "-o", str(out_dir / (source.stem + ".o"))]
    text = subprocess.run(cmd, capture_output=True, text=True)
    if text.returncode != 0:
        sys.exit(f"ptxas-report: {source}: nvcc failed:\n{text.stderr}")
    rows, current, props_of = [], None, None
    for line in text.stderr.splitlines():
        if m := ENTRY.search(line):
            current = {"kernel": m.group(1), "file": str(source.relative_to(ROOT))}
            rows.append(current)
        elif m := PROPS.search(line):
            props_of = m.group(1)  # the next frame line is this function's (an entry's, or a callee's)
        elif current and props_of == current["kernel"] and (m := FRAME.search(line)):
            current.update(stack=int(m.group(1)), spill_stores=int(m.group(2)), spill_loads=int(m.group(3)))
        elif current and (m := USED.search(line)):
            current["registers"] = int(m.group(1))
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--arch", default="90")
    ap.add_argument("--filter", default="")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for source in sorted((ROOT / "kernels").rglob("*.cu")):
            if "/dev/" in str(source):
                continue
            rows += report(args.arch, source, pathlib.Path(tmp))
    for row, name in zip(rows, demangle([r["kernel"] for r in rows])):
        row["kernel"] = without_parameters(name.replace("(anonymous namespace)::", ""))
    rows = [r for r in rows if args.filter in r["kernel"]]
    if args.json:
        print(json.dumps({"arch": int(args.arch), "kernels": rows}))
        return
    print(f"sm_{args.arch}  registers  stack  spill-st  spill-ld  kernel")
    for r in rows:
        print(f"{'':6}{r.get('registers', 0):>9}  {r.get('stack', 0):>5}  {r.get('spill_stores', 0):>8}  {r.get('spill_loads', 0):>8}  {r['kernel']}")


if __name__ == "__main__":
    main()
