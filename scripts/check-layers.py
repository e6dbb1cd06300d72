#!/usr/bin/env python3
"""hark-kokoro's module layering, checked from its `crate::` paths.

Every `crate::a::b::…` path in the crate's code (comments left out, tests included) is an
import edge from the module whose file holds it to the deepest module the path names. The
check fails on:
  - an import circle: two modules that import each other, directly or through others;
  - a lower layer importing a higher one. The layers, lowest first: the root's `error` and
    `config` (the crate's vocabulary), then the folders `kernels/`, `conv/`, `nn/`, `model/`.
Usage: scripts/check-layers.py [crate/src] (default: crates/hark-kokoro/src). Prints the
module graph's size and exits non-zero with the offending edges or circles named.
"""
import os
import re
import sys

LAYERS = {"error": 0, "config": 0, "kernels": 1, "conv": 2, "nn": 3, "model": 4}
TEST_ONLY = {"load_tests"}  # #[cfg(test)] modules at the root: may import anything
PATH = re.compile(r"\bcrate::((?:[A-Za-z_][A-Za-z0-9_]*::)*[A-Za-z_][A-Za-z0-9_]*|\{)")


def strip_comments(src):
    src = re.sub(r"/\*.*?\*/", "", src, flags=re.S)
    return "\n".join(line.split("//")[0] for line in src.splitlines())


def modules(root):
    """{module path: file} for every .rs file under root (lib.rs is the crate root, `crate`)."""
    out = {}
    for d, _, files in os.walk(root):
        for f in files:
            if not f.endswith(".rs"):
                continue
            rel = os.path.relpath(os.path.join(d, f), root)[:-3].split(os.sep)
            if rel[-1] == "mod":
                rel = rel[:-1]
            out["::".join(rel) if rel != ["lib"] else "crate"] = os.path.join(d, f)
    return out


def root_reexports(lib_src, mods):
    """Names the crate root re-exports (`pub use a::b::{X, Y}`) → the module they come from."""
    names = {}
    for m in re.finditer(r"pub use ([\w:]+)::\{([^}]*)\}|pub use ([\w:]+)::(\w+);", lib_src):
        base = m.group(1) or m.group(3)
        for n in (m.group(2) or m.group(4)).split(","):
            n = n.strip()
            if not n:
                continue
            full = f"{base}::{n}"
            names[n] = full if full in mods else base
    return names


def edges_of(src, mods, reexports):
    out = set()
    for m in PATH.finditer(src):
        if m.group(1) == "{":
            # `use crate::{a::X, b}`: each item of the group
            group = src[m.end(): src.index("}", m.end())]
            paths = [p.strip() for p in group.split(",") if p.strip()]
        else:
            paths = [m.group(1)]
        for p in paths:
            parts = p.split("::")
            target = None
            for i in range(len(parts), 0, -1):
                cand = "::".join(parts[:i])
                if cand in mods:
                    target = cand
                    break
            if target is None and parts[0] in reexports:
                target = reexports[parts[0]]
            if target is not None:
                out.add(target)
    return out


def graph(root):
    mods = modules(root)
    with open(mods["crate"]) as f:
        reexports = root_reexports(f.read(), mods)
    g = {}
    for mod, path in mods.items():
        if mod == "crate":
            continue  # the root declares and re-exports; it is not a layer
        with open(path) as f:
            src = strip_comments(f.read())
        g[mod] = {t for t in edges_of(src, mods, reexports) if t not in (mod, "crate")}
    return g


def circles(g):
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(g.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(g):
        if v not in index:
            visit(v)
    return out


def layer(mod):
    return LAYERS.get(mod.split("::")[0])


def upward(g):
    bad = []
    for a, ts in sorted(g.items()):
        if a.split("::")[0] in TEST_ONLY:
            continue
        for b in sorted(ts):
            la, lb = layer(a), layer(b)
            if la is None or lb is None:
                bad.append((a, b, "module outside the known layers"))
            elif lb > la:
                bad.append((a, b, "a lower layer imports a higher one"))
    return bad


def self_test():
    """The checks see what they must: a circle through three modules and an upward import."""
    g = {"kernels::a": {"kernels::b"}, "kernels::b": {"kernels::c"}, "kernels::c": {"kernels::a"},
         "nn::x": {"kernels::a"}, "conv::y": {"nn::x"}}
    assert circles(g) == [["kernels::a", "kernels::b", "kernels::c"]], circles(g)
    assert upward(g) == [("conv::y", "nn::x", "a lower layer imports a higher one")], upward(g)
    mods = {"crate": "", "nn": "", "nn::layers": "", "kernels": "", "kernels::ops": ""}
    src = "use crate::nn::layers::{Conv1d, Linear};\nlet x = crate::kernels::ops::f(); use crate::{nn::layers::X, Kokoro};"
    assert edges_of(src, mods, {"Kokoro": "model::kokoro"}) == {"nn::layers", "kernels::ops", "model::kokoro"}


def main():
    self_test()
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "crates", "hark-kokoro", "src")
    g = graph(root)
    found = circles(g)
    bad = upward(g)
    n_edges = sum(len(t) for t in g.values())
    for c in found:
        print("import circle: " + " <-> ".join(c), file=sys.stderr)
        for a in c:
            print(f"  {a} imports " + ", ".join(sorted(t for t in g[a] if t in c)), file=sys.stderr)
    for a, b, why in bad:
        print(f"{a} imports {b}: {why}", file=sys.stderr)
    print(f"{len(g)} modules, {n_edges} import edges, {len(found)} import circles, "
          f"{len(bad)} layering violations", file=sys.stderr)
    return 1 if found or bad else 0


if __name__ == "__main__":
    sys.exit(main())
