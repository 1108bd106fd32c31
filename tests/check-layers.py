#!/usr/bin/env python3
"""The library's layers hold: data flows one way.

    files (CSV, read options, rejects, numbers, text out)
      -> hierarchy + definitions -> dataset -> rollup
      -> targets / poverty / check -> export

Reads every lib/*.c, lib/*.h and include/tally/*.h, follows their
#include lines to the project's own headers, and fails, naming the file,
the line and the include, when
  - a file includes a header of a higher layer than its own (LAYERS below);
  - the includes make a cycle;
  - a file's module has no layer in LAYERS (a new file must be placed);
  - the CSV reader or the hierarchy reaches a dataset header at all (they
    are read before any dataset exists and need tally/read.h only).

A file's module is its name without the extension; a name in LAYERS also
covers the files that start with it and an underscore (check_rules.c is
'check', records_parallel.c is 'records'); the longest name that fits wins
(write_levels.c is 'write_levels', not 'write').

Usage: check-layers.py SOURCE_ROOT
First the checks run on small made-up trees (--self-test runs only
these), so that a broken checker cannot pass quietly.
"""

import os
import re
import sys
import tempfile

# Lowest first. A file may include headers of its own layer and below.
LAYERS = [
    # What every reader and writer of files shares: errors, periods, the CSV
    # reader and its row loop, the read options and rejects, numbers, text
    # out, and how an output file is opened and replaced.
    ["common", "version", "error", "util", "output", "period", "csv", "read", "rejects",
     "number", "write", "xlsx_read"],
    # What a dataset is made over: the hierarchy, and the definitions with
    # their formulas and YAML; which levels a writer writes.
    ["hierarchy", "crosswalk", "definitions", "columns", "expr", "yaml_tree", "yaml", "schema", "write_levels"],
    # Reported values: the store, its readers, snapshots.
    ["dataset", "records", "carry", "snapshot"],
    # Values computed up the hierarchy.
    ["rollup"],
    # What is made of a rollup: targets and progress, poverty measures,
    # households and exit thresholds, consistency checks.
    ["targets", "schedule", "schedules", "progress", "progress_svg", "completion", "svg",
     "poverty", "households", "fgt", "thresholds", "check", "checks", "findings", "partial"],
    # Results written out.
    ["export", "xlsx"],
]

# The umbrella header includes everything: above every layer.
UMBRELLA = "include/tally.h"

# Files that must not reach these modules' headers, even indirectly.
MUST_NOT_REACH = {
    "csv": ["dataset", "records"],
    "hierarchy": ["dataset", "records"],
}

INCLUDE = re.compile(r'^[ \t]*#[ \t]*include[ \t]*([<"])([^>"]+)[>"]', re.M)


def layer_table():
    table = {}
    for n, names in enumerate(LAYERS):
        for name in names:
            if name in table:
                raise SystemExit(f"check-layers.py: '{name}' is in two layers")
            table[name] = n
    return table


def module_of(rel, table):
    """The table name that covers a file (None: not placed), by its base name."""
    if rel == UMBRELLA:
        return "tally"
    base = os.path.basename(rel)
    for ext in (".h.in", ".c", ".h"):
        if base.endswith(ext):
            base = base[: -len(ext)]
            break
    best = None
    for name in table:
        if (base == name or base.startswith(name + "_")) and (best is None or len(name) > len(best)):
            best = name
    return best


def layer_of(rel, table):
    if rel == UMBRELLA:
        return len(LAYERS)
    m = module_of(rel, table)
    return None if m is None else table[m]


def without_comments(text):
    """The text with /* */ and // comments blanked, lines kept in place."""
    out, i, n = [], 0, len(text)
    while i < n:
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append("\n" * text.count("\n", i, j))
            i = j
        elif text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif text[i] in "\"'":  # a string or character literal, to its end
            j = i + 1
            while j < n and text[j] not in text[i] + "\n":
                j += 2 if text[j] == "\\" else 1
            out.append(text[i:j + 1])
            i = j + 1
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def project_files(root):
    files = []
    for d, exts in (("lib", (".c", ".h")), ("include/tally", (".h",))):
        full = os.path.join(root, d)
        for name in sorted(os.listdir(full)) if os.path.isdir(full) else []:
            if name.endswith(exts):
                files.append(d + "/" + name)
    return files


def resolve(root, rel, quote, target):
    """The project file an include names (relative to root), or None for a
    system header. Quoted: beside the file, then lib/ and include/ (the
    build's include path); <...>: include/ only."""
    dirs = [os.path.dirname(rel), "lib", "include"] if quote == '"' else ["include"]
    for d in dirs:
        cand = os.path.normpath(os.path.join(d, target)).replace(os.sep, "/")
        if os.path.isfile(os.path.join(root, cand)):
            return cand
    # Generated into the build tree (tally/version.h): still the project's.
    if target.startswith("tally/") and os.path.isfile(os.path.join(root, "include", target + ".in")):
        return "include/" + target
    return None


def include_graph(root, files):
    """{file: [(line, include as written, resolved file)]}"""
    graph = {}
    for rel in files:
        with open(os.path.join(root, rel), encoding="utf-8") as f:
            text = without_comments(f.read())
        edges = []
        for m in INCLUDE.finditer(text):
            target = resolve(root, rel, m.group(1), m.group(2))
            if target is not None:
                line = text.count("\n", 0, m.start()) + 1
                shown = m.group(1) + m.group(2) + ('"' if m.group(1) == '"' else ">")
                edges.append((line, shown, target))
        graph[rel] = edges
    return graph


def find_cycles(graph):
    """Each include cycle once, as a list of files from its first to itself."""
    cycles, state, stack = [], {}, []
    seen = set()

    def visit(node):
        state[node] = 1
        stack.append(node)
        for _, _, nxt in graph.get(node, []):
            if state.get(nxt) == 1:
                cyc = stack[stack.index(nxt):] + [nxt]
                key = frozenset(cyc)
                if key not in seen:
                    seen.add(key)
                    cycles.append(cyc)
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    return cycles


def path_to(graph, start, wanted):
    """A chain of includes from start to a file for which wanted(file) holds."""
    prev, todo = {start: None}, [start]
    while todo:
        node = todo.pop(0)
        for _, _, nxt in graph.get(node, []):
            if nxt in prev:
                continue
            prev[nxt] = node
            if wanted(nxt):
                chain = [nxt]
                while prev[chain[-1]] is not None:
                    chain.append(prev[chain[-1]])
                return chain[::-1]
            todo.append(nxt)
    return None


def check(root):
    """The problems found under root, as messages."""
    table = layer_table()
    files = project_files(root)
    graph = include_graph(root, files)
    problems = []
    for rel in files:
        if module_of(rel, table) is None:
            problems.append(f"{rel}: its module has no layer; add "
                            f"'{os.path.basename(rel).split('.')[0]}' (or a prefix of it) to "
                            "LAYERS in tests/check-layers.py, in the layer it belongs to")
    for rel in files:
        mine = layer_of(rel, table)
        if mine is None:
            continue
        for line, shown, target in graph[rel]:
            theirs = layer_of(target, table)
            if theirs is not None and theirs > mine:
                problems.append(
                    f"{rel}:{line}: #include {shown}: {module_of(target, table)} (layer {theirs}) "
                    f"is above {module_of(rel, table)} (layer {mine}); a file includes only "
                    "headers of its own layer or below")
    for cyc in find_cycles(graph):
        problems.append("include cycle: " + " -> ".join(cyc))
    for rel in files:
        if not rel.startswith("lib/"):
            continue
        banned = MUST_NOT_REACH.get(module_of(rel, table), [])
        chain = path_to(graph, rel, lambda f: module_of(f, table) in banned)
        if chain:
            problems.append(f"{rel} reaches a {module_of(chain[-1], table)} header: "
                            + " -> ".join(chain)
                            + "; it needs tally/read.h, not the dataset")
    return problems, files, graph


def self_test():
    """The checks on made-up trees: each must find what was planted."""
    cases = [
        ("clean", {"lib/csv.c": '#include "csv.h"\n#include "tally/read.h"\n',
                   "lib/csv.h": "", "include/tally/read.h": "",
                   "lib/dataset.c": '#include "csv.h"\n'}, []),
        ("higher layer", {"lib/rollup.c": '#include <stdio.h>\n\n#include "tally/export.h"\n',
                          "include/tally/export.h": ""},
         ["lib/rollup.c:3: #include \"tally/export.h\": export (layer 5) is above rollup"]),
        ("umbrella", {"lib/export.c": '#include <tally.h>\n', "include/tally.h": ""},
         ["lib/export.c:1: #include <tally.h>: tally (layer 6) is above export"]),
        ("reaches the dataset", {"lib/hierarchy.c": '#include "write.h"\n',
                                 "lib/write.h": '#include "tally/dataset.h"\n',
                                 "include/tally/dataset.h": ""},
         ["lib/write.h:1: #include \"tally/dataset.h\"",
          "lib/hierarchy.c reaches a dataset header"]),
        ("cycle", {"lib/dataset.h": '#include "records.h"\n',
                   "lib/records.h": '#include "dataset.h"\n'},
         ["include cycle: "]),
        ("not placed", {"lib/frobnicate.c": ""}, ["lib/frobnicate.c: its module has no layer"]),
        ("by prefix", {"lib/check_rules.c": '#include "export.h"\n', "lib/export.h": "",
                       "lib/write_levels.c": '#include "tally/hierarchy.h"\n',
                       "include/tally/hierarchy.h": ""},
         ["lib/check_rules.c:1: #include \"export.h\": export (layer 5) is above check"]),
        ("comments", {"lib/csv.c": '/* #include "dataset.h" */\n// #include "dataset.h"\n',
                      "lib/dataset.h": ""}, []),
    ]
    bad = 0
    for name, tree, expected in cases:
        with tempfile.TemporaryDirectory() as root:
            for rel, text in tree.items():
                os.makedirs(os.path.join(root, os.path.dirname(rel)), exist_ok=True)
                with open(os.path.join(root, rel), "w", encoding="utf-8") as f:
                    f.write(text)
            os.makedirs(os.path.join(root, "lib"), exist_ok=True)
            os.makedirs(os.path.join(root, "include", "tally"), exist_ok=True)
            problems, _, _ = check(root)
        missing = [e for e in expected if not any(p.startswith(e) for p in problems)]
        extra = problems if not expected else []
        if missing or extra or (expected and len(problems) != len(expected)):
            bad += 1
            print(f"self-test '{name}': expected {expected}, found {problems}")
    print(f"self-test: {len(cases) - bad} of {len(cases)} made-up trees checked as expected")
    return 1 if bad else 0


def main(argv):
    if len(argv) == 2 and argv[1] == "--self-test":
        return self_test()
    if len(argv) != 2:
        print("usage: check-layers.py SOURCE_ROOT | --self-test", file=sys.stderr)
        return 2
    if self_test():
        return 1
    problems, files, graph = check(argv[1])
    for p in problems:
        print(p)
    if problems:
        print(f"{len(problems)} layering problem(s); the layers are in tests/check-layers.py")
        return 1
    edges = sum(len(e) for e in graph.values())
    print(f"{len(files)} files, {edges} includes of project headers: every include goes to "
          f"the same layer or below, no cycle, csv and hierarchy reach no dataset header")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
