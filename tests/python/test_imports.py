"""The package's modules import one another in one direction only.

Every module of bindings/python/tally is parsed (not imported), and each
import of another module of the package is an edge of a graph. The test
fails on a cycle, and on such an import inside a function body: a lazy
import is how a cycle hides, working until someone moves it to the top.
Imports of other packages (numpy and pandas, imported when first needed,
because they are optional) are not edges.
"""
import ast

from conftest import ROOT

PACKAGE = ROOT / "bindings" / "python" / "tally"


def modules(package_dir):
    """{module name: path} of a flat package. _paths.py.in, which meson
    configures into _paths.py, stands for _paths."""
    out = {p.stem: p for p in package_dir.glob("*.py")}
    for p in package_dir.glob("*.py.in"):
        out[p.name[:-len(".py.in")]] = p
    return out


def _targets(node, known, package):
    """The modules of the package that an import statement imports."""
    if isinstance(node, ast.Import):
        out = []
        for alias in node.names:
            parts = alias.name.split(".")
            if parts[0] == package:
                out.append(parts[1] if len(parts) > 1 else "__init__")
        return out
    if node.level == 1:
        module = node.module
    elif node.level == 0 and node.module and node.module.split(".")[0] == package:
        module = node.module.split(".", 1)[1] if "." in node.module else None
    else:
        return []
    if module:
        return [module.split(".")[0]]
    # `from . import x`: a module of the package, or a name of __init__.
    return [alias.name if alias.name in known else "__init__" for alias in node.names]


def import_edges(package_dir):
    """[(importer, imported, line, in_function)] for every import of one
    module of the package by another."""
    known = modules(package_dir)
    package = package_dir.name
    edges = []

    def visit(name, node, in_function):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                for target in _targets(child, known, package):
                    edges.append((name, target, child.lineno, in_function))
            visit(name, child, in_function or
                  isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)))

    for name, path in sorted(known.items()):
        visit(name, ast.parse(path.read_text(encoding="utf-8"), filename=str(path)), False)
    return edges


def _filename(name, package_dir):
    path = modules(package_dir).get(name)
    return path.name if path else f"{name}.py"


def _cycles(edges):
    """(modules, cycle) for each group of modules that reach one another
    (Tarjan's strongly connected components): the group, and one shortest
    cycle through its first module as a list of edges."""
    graph = {}
    for a, b, line, _ in edges:
        graph.setdefault(a, {}).setdefault(b, line)
        graph.setdefault(b, {})
    index, low, stack, on_stack, groups = {}, {}, [], set(), []

    def connect(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.add(w)
                if w == v:
                    break
            if len(group) > 1 or v in graph[v]:
                groups.append(group)

    for v in sorted(graph):
        if v not in index:
            connect(v)
    out = []
    for group in groups:
        # The shortest way back to the group's first module (breadth first).
        start = min(group)
        paths = {start: []}
        queue = [start]
        found = None
        while queue and found is None:
            v = queue.pop(0)
            for w in sorted(graph[v]):
                if w not in group:
                    continue
                step = paths[v] + [(v, w, graph[v][w])]
                if w == start:
                    found = step
                    break
                if w not in paths:
                    paths[w] = step
                    queue.append(w)
        out.append((sorted(group), found))
    return out


def problems(package_dir):
    """What is wrong with the package's imports, one line each."""
    edges = import_edges(package_dir)
    out = [f"{_filename(a, package_dir)}:{line}: imports {b} inside a function; "
           f"import it at the top of the module"
           for a, b, line, in_function in edges if in_function]
    for group, cycle in _cycles(edges):
        out.append(f"import cycle among {', '.join(group)}: " + ", ".join(
            f"{_filename(a, package_dir)}:{line} imports {b}" for a, b, line in cycle))
    return out


def test_package_imports_form_a_dag():
    edges = import_edges(PACKAGE)
    # The parse sees the package: the umbrella imports the public modules.
    assert {"dataset", "result", "check", "progress", "poverty"} <= \
        {b for a, b, _, _ in edges if a == "__init__"}
    found = problems(PACKAGE)
    assert not found, "\n".join(found)


def test_the_check_finds_cycles_and_lazy_imports(tmp_path):
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("from .a import x\n")
    (pkg / "_low.py").write_text("import os\n")
    (pkg / "a.py").write_text("from . import _low\nfrom .b import y\nx = 1\n")
    (pkg / "b.py").write_text("import json\n\n\ndef f():\n    from .a import x\n    return x\n")
    (pkg / "c.py").write_text("from pkg import a\n\n\ndef g():\n    import pandas\n")
    (pkg / "d.py").write_text("from . import x\n")  # a name of __init__
    assert problems(pkg) == [
        "b.py:5: imports a inside a function; import it at the top of the module",
        "import cycle among a, b: a.py:2 imports b, b.py:5 imports a",
    ]
    edges = {(a, b) for a, b, _, _ in import_edges(pkg)}
    assert edges == {("__init__", "a"), ("a", "_low"), ("a", "b"), ("b", "a"), ("c", "a"),
                     ("d", "__init__")}
