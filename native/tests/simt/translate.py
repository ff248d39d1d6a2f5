#!/usr/bin/env python3
"""The SIMT harness's translator: copies CUDA sources into a build folder as
C++ the host compiler accepts, rewriting only what C++ cannot parse.

  k<<<grid, block, smem, stream>>>(args)  ->  ::simt::launch<k>(::simt::LaunchCfg(grid, block, smem, stream), args)
  __shared__ T x; / __shared__ T x[N];     ->  per-block storage the harness owns (one copy per block)
  extern __shared__ ... char x[];          ->  the block's dynamic shared memory
  __global__ function definitions          ->  followed by a registration (name, argument unpacking), so
                                              launches by pointer (cudaLaunchCooperativeKernel) can run them

Every edit keeps the line structure (no newline added or removed), and each
output starts with a #line directive, so compiler errors and the harness's own
reports (__FILE__, __LINE__) point at the original files.

Inline PTX (asm) is allowed only in the one wrapper header (common/ptx.cuh),
which routes to host twins under KEYMATE_SIMT; anywhere else the translation
fails with file:line, because an asm the host compiler skipped would be a
kernel that silently does nothing.

usage: translate.py --root SRC_DIR --out OUT_DIR [--ptx-header REL] [--stamp FILE]
"""
import argparse
import os
import re
import sys

SOURCES = (".cu", ".cuh", ".h")
IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class TranslateError(Exception):
    pass


def mask(text):
    """text with comments and string/char literals blanked (newlines kept), so
    searches never match inside them and positions stay the same."""
    out = list(text)
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            # a line comment may continue with a backslash-newline; rare enough to ignore
            for k in range(i, j):
                out[k] = " "
            i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            for k in range(i, j):
                if out[k] != "\n":
                    out[k] = " "
            i = j
        elif c == '"' or c == "'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            for k in range(i + 1, min(j, n)):
                if out[k] != "\n":
                    out[k] = " "
            i = j + 1
        else:
            i += 1
    return "".join(out)


def line_of(text, pos):
    return text.count("\n", 0, pos) + 1


def match_back(m, pos, open_c, close_c):
    """m[pos] == close_c: index of the matching open_c."""
    depth = 0
    while pos >= 0:
        if m[pos] == close_c:
            depth += 1
        elif m[pos] == open_c:
            depth -= 1
            if depth == 0:
                return pos
        pos -= 1
    raise TranslateError("unbalanced %s" % close_c)


def match_fwd(m, pos, open_c, close_c):
    """m[pos] == open_c: index of the matching close_c."""
    depth = 0
    n = len(m)
    while pos < n:
        if m[pos] == open_c:
            depth += 1
        elif m[pos] == close_c:
            depth -= 1
            if depth == 0:
                return pos
        pos += 1
    raise TranslateError("unbalanced %s" % open_c)


def rewrite_launches(text, m, path, edits):
    for mo in re.finditer(r"<<<", m):
        start = mo.start()
        end = m.find(">>>", start)
        if end < 0:
            raise TranslateError("%s:%d: <<< without >>>" % (path, line_of(text, start)))
        # The kernel expression before <<<: an identifier (qualified, or pasted
        # with ## in a macro), optionally with template arguments.
        k = start - 1
        while k >= 0 and m[k] in " \t":
            k -= 1
        if m[k] == ">":
            k = match_back(m, k, "<", ">") - 1
        while k >= 0 and (m[k].isalnum() or m[k] in "_:#"):
            k -= 1
        kstart = k + 1
        kernel = text[kstart:start].rstrip()
        if not kernel:
            raise TranslateError("%s:%d: cannot find the kernel before <<<" % (path, line_of(text, start)))
        p = end + 3
        while p < len(m) and m[p] in " \t":
            p += 1
        if p >= len(m) or m[p] != "(":
            raise TranslateError("%s:%d: a launch's >>> must be followed by (args)" % (path, line_of(text, start)))
        q = p + 1
        while q < len(m) and m[q] in " \t":
            q += 1
        empty = m[q] == ")"
        cfg = text[start + 3:end]
        new = "::simt::launch<%s>(::simt::LaunchCfg(%s)%s" % (kernel, cfg, "" if empty else ", ")
        edits.append((kstart, p + 1, new))


SHARED = re.compile(r"\b(extern\s+)?__shared__\b")
ALIGN = re.compile(r"__align__\s*\(\s*\d+\s*\)")


def rewrite_shared(text, m, path, edits, counter):
    for mo in SHARED.finditer(m):
        semi = m.find(";", mo.end())
        decl = m[mo.end():semi]
        where = "%s:%d" % (path, line_of(text, mo.start()))
        body = ALIGN.sub(" ", decl)
        body = body.replace("\\\n", " ")
        dims = ""
        bm = re.search(r"((\s*\[[^\]]*\])+)\s*$", body)
        if bm:
            dims = bm.group(1).strip()
            body = body[:bm.start()]
        body = body.strip()
        nm = re.search(r"([A-Za-z_][A-Za-z0-9_]*)$", body)
        if not nm:
            raise TranslateError("%s: cannot parse this __shared__ declaration" % where)
        name = nm.group(1)
        typ = body[:nm.start()].strip()
        if not typ:
            raise TranslateError("%s: __shared__ %s has no type" % (where, name))
        if mo.group(1):  # extern: the block's dynamic shared memory
            if dims.replace(" ", "") != "[]":
                raise TranslateError("%s: extern __shared__ must be an unsized array" % where)
            new = "%s* const %s = ::simt::dynamic_smem<%s>()" % (typ, name, typ)
        else:
            counter[0] += 1
            site = "km_simt_site_%d" % counter[0]
            new = "static ::simt::SmemSite %s; auto& %s = %s.get<%s%s>()" % (site, name, site, typ, dims)
        edits.append((mo.start(), semi, new))


GLOBAL = re.compile(r"\b__global__\b")


def in_macro(text, pos):
    """Whether pos lies in a #define (a line ending in backslash before it, or
    the #define line itself)."""
    ls = text.rfind("\n", 0, pos) + 1
    while True:
        line = text[ls:text.find("\n", ls) if text.find("\n", ls) >= 0 else len(text)]
        if line.lstrip().startswith("#define"):
            return True
        if ls == 0:
            return False
        prev_end = ls - 1
        prev_start = text.rfind("\n", 0, prev_end) + 1
        if not text[prev_start:prev_end].rstrip().endswith("\\"):
            return False
        ls = prev_start


def register_kernels(text, m, path, edits):
    """After each plain (non-template, non-macro) __global__ definition, a
    registration so the runtime can launch it through a pointer."""
    for mo in GLOBAL.finditer(m):
        if in_macro(text, mo.start()):
            continue
        # template<...> just before?  (skip: launched by <<<>>> only)
        before = m[max(0, mo.start() - 200):mo.start()].rstrip()
        if before.endswith(">") and "template" in before[-200:].split(";")[-1].split("}")[-1]:
            continue
        paren = m.find("(", mo.end())
        # skip __launch_bounds__(...) and find the name before the parameter list
        head = m[mo.end():paren]
        while head.rstrip().endswith("__launch_bounds__"):
            close = match_fwd(m, paren, "(", ")")
            paren = m.find("(", close + 1)
            head = m[mo.end():paren]
        names = IDENT.findall(head)
        if not names:
            raise TranslateError("%s:%d: cannot find the kernel's name" % (path, line_of(text, mo.start())))
        name = names[-1]
        close = match_fwd(m, paren, "(", ")")
        k = close + 1
        while k < len(m) and m[k] in " \t\n":
            k += 1
        if m[k] == ";":
            continue  # a declaration
        if m[k] != "{":
            raise TranslateError("%s:%d: cannot find the body of kernel %s" % (path, line_of(text, mo.start()), name))
        end = match_fwd(m, k, "{", "}")
        edits.append((end + 1, end + 1,
                      " static const ::simt::KernelRegistration km_simt_reg_%s(%s, \"%s\");" % (name, name, name)))


ASM = re.compile(r"\b(asm|__asm__|__asm)\b")


def check_asm(text, m, path, allow):
    if allow:
        return
    for mo in ASM.finditer(m):
        raise TranslateError("%s:%d: inline PTX without a SIMT host twin: move it into common/ptx.cuh as a small "
                             "__device__ function with a host twin in native/tests/simt" %
                             (path, line_of(text, mo.start())))


def translate_file(src, rel, ptx_header):
    with open(src, encoding="utf-8") as f:
        text = f.read()
    m = mask(text)
    check_asm(text, m, src, rel == ptx_header)
    edits = []
    if rel.endswith((".cu", ".cuh")):
        rewrite_launches(text, m, src, edits)
        rewrite_shared(text, m, src, edits, [0])
        register_kernels(text, m, src, edits)
    edits.sort(key=lambda e: e[0])
    out, last = [], 0
    for a, b, new in edits:
        if a < last:
            raise TranslateError("%s: overlapping rewrites at line %d" % (src, line_of(text, a)))
        seg = text[a:b]
        if seg.count("\n") != new.count("\n"):
            raise TranslateError("%s:%d: a rewrite would move the lines after it; keep this construct on one line" %
                                 (src, line_of(text, a)))
        out.append(text[last:a])
        out.append(new)
        last = b
    out.append(text[last:])
    return '#line 1 "%s"\n' % os.path.abspath(src) + "".join(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--ptx-header", default="common/ptx.cuh")
    ap.add_argument("--stamp")
    args = ap.parse_args()
    errors = []
    for dirpath, dirnames, filenames in os.walk(args.root):
        dirnames[:] = sorted(d for d in dirnames if d != "dev")  # kernels/dev/ is a scratch area
        for fn in sorted(filenames):
            if not fn.endswith(SOURCES):
                continue
            src = os.path.join(dirpath, fn)
            rel = os.path.relpath(src, args.root).replace(os.sep, "/")
            dst_rel = rel[:-3] + ".cpp" if rel.endswith(".cu") else rel
            dst = os.path.join(args.out, dst_rel)
            try:
                out = translate_file(src, rel, args.ptx_header)
            except TranslateError as e:
                errors.append(str(e))
                continue
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            old = None
            if os.path.exists(dst):
                with open(dst, encoding="utf-8") as f:
                    old = f.read()
            if old != out:  # unchanged files keep their time stamp: no needless recompiles
                with open(dst, "w", encoding="utf-8") as f:
                    f.write(out)
    if errors:
        for e in errors:
            print("simt translate: error: " + e, file=sys.stderr)
        return 1
    if args.stamp:
        with open(args.stamp, "w") as f:
            f.write("ok\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
