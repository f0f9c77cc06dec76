#!/usr/bin/env python3
"""File-level import graph of src/: prints every cycle (strongly connected component of more
than one file) and exits 1 if there is one. A file's edges are the crate paths it names
(`crate::a::b`, `super::x`, a child module's `child::item`), resolved to the file that defines
the longest prefix; code after `#[cfg(test)]` is not counted."""
import os, re, sys

ROOT = sys.argv[1] if len(sys.argv) > 1 else "src"

def module_of(path):
    rel = os.path.relpath(path, ROOT)[:-3].split(os.sep)
    if rel[-1] in ("mod", "lib", "main"):
        rel = rel[:-1]
    return tuple(rel)

files = {}
for d, _, fs in os.walk(ROOT):
    for f in fs:
        if f.endswith(".rs"):
            p = os.path.join(d, f)
            files[module_of(p)] = p
# main.rs is its own crate root; treat it as the binary (paths there start at sigov::)
def resolve(mod_path):
    for n in range(len(mod_path), 0, -1):
        if tuple(mod_path[:n]) in files:
            return tuple(mod_path[:n])
    return None

edges = {m: set() for m in files}
for m, p in files.items():
    text = open(p, encoding="utf-8").read()
    text = text.split("#[cfg(test)]")[0]
    text = re.sub(r"//[^\n]*", "", text)
    children = set(re.findall(r"^\s*(?:pub(?:\([^)]*\))?\s+)?mod\s+(\w+)\s*;", text, re.M))
    base = m
    def add(target):
        t = resolve(target)
        if t is not None and t != m:
            edges[m].add(t)
    for path in re.findall(r"\b(?:crate|sigov)((?:::\w+)+)", text):
        add(path.split("::")[1:])
    for sup, path in re.findall(r"\b((?:super::)+)(\w+(?:::\w+)*)", text):
        up = sup.count("super::")
        parent = base[: len(base) - up] if up else base
        add(list(parent) + path.split("::"))
    # `use {a, b}` groups: expand the first segment after `use crate::x::{...}` roughly
    for head, group in re.findall(r"\b(?:crate|sigov)((?:::\w+)*)::\{([^}]*)\}", text):
        for item in group.split(","):
            item = item.strip().split("::")[0].split(" ")[0]
            if item and item != "self":
                add(head.split("::")[1:] + [item])
    for child in children:
        for path in re.findall(r"(?<![\w:])" + child + r"((?:::\w+)+)", text):
            add(list(base) + [child] + path.split("::")[1:])

# Tarjan
index, low, stack, on, out, i = {}, {}, [], set(), [], [0]
sys.setrecursionlimit(10000)
def strong(v):
    index[v] = low[v] = i[0]; i[0] += 1; stack.append(v); on.add(v)
    for w in edges[v]:
        if w not in index:
            strong(w); low[v] = min(low[v], low[w])
        elif w in on:
            low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        comp = []
        while True:
            w = stack.pop(); on.discard(w); comp.append(w)
            if w == v: break
        if len(comp) > 1:
            out.append(comp)
for v in files:
    if v not in index:
        strong(v)
for comp in out:
    names = sorted(files[c] for c in comp)
    print(f"cycle of {len(names)} files:")
    for n in names:
        deps = sorted(files[t] for t in edges[module_of(n)] if t in comp)
        print(f"  {n} -> {', '.join(deps)}")
sys.exit(1 if out else 0)
