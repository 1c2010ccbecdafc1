"""The import graph of crm/ keeps its layers: a module imports only from its own layer or the
layers below, no module takes part in an import circle, and a function-local import of a crm
module is the factory's, with its reason beside it.

The layers, from the bottom: base (common, db, resources, the file storage, config) → accounts (org units, users,
the audit log, settings, form keys, migrations, the job queue's core) → files (enterprise files, founding track, the
one scoping helper) → kernel (what every field-work kind shares, photos) → kinds (visits,
meetings, trainings, activities, needs, members and their sign-ups) → work (follow-ups, aggregates, compliance, dashboard,
reports, home, imports, charts) → web (every feature's views, the web layer, admin and help pages) →
outer (the command line, the demo data, backup and restore, the models' list, the package).
A feature's views (and the field-work kernel's declared pages) sit in the web layer: a page may
show what any feature below offers."""
import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAYERS = [
    ("base", [r"crm\.common(\..*)?", r"crm\.db", r"crm\.resources", r"crm\.storage(\..*)?", r"config"]),
    ("accounts", [r"crm\.org(\..*)?", r"crm\.auth(\..*)?", r"crm\.audit(\..*)?", r"crm\.settings(\..*)?",
                  r"crm\.sync(\..*)?", r"crm\.schema", r"crm\.jobs(\..*)?"]),
    ("files", [r"crm\.permissions", r"crm\.enterprises(\..*)?", r"crm\.founding(\..*)?"]),
    ("kernel", [r"crm\.fieldwork(\..*)?", r"crm\.photos(\..*)?"]),
    ("kinds", [r"crm\.(visits|meetings|trainings|activities|needs|members)(\..*)?"]),
    ("work", [r"crm\.(followups|stats|compliance|dashboard|reports|home|imports|charts|roster|webhooks|tokens|notifications)(\..*)?"]),
    ("web", [r"crm\.[a-z_]+\.(views|pages)", r"crm\.web(\..*)?", r"crm\.admin(\..*)?", r"crm\.help(\..*)?",
             r"crm\.api(\..*)?"]),
    ("outer", [r"crm\.cli(\..*)?", r"crm\.demo(\..*)?", r"crm\.ops(\..*)?", r"crm\.models", r"crm"]),
]
MAX_LOCAL = 10


def layer_of(module: str):
    if re.fullmatch(r"crm\.[a-z_]+\.(views|pages)", module):
        return 6
    for i, (_, patterns) in enumerate(LAYERS):
        if any(re.fullmatch(p, module) for p in patterns):
            return i
    return None


def _modules() -> dict:
    found = {"config": ROOT / "config.py"}
    for path in (ROOT / "crm").rglob("*.py"):
        if {"_migrations", "_templates"} & set(path.parts):
            continue
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        found[name.removesuffix(".__init__")] = path
    return found


def _imports(modules: dict):
    """{module: {imported module}} and the function-local imports [(module, imported, line, text)]."""
    edges, local = {}, []
    for name, path in modules.items():
        source = path.read_text(encoding="utf-8")
        lines = source.splitlines()
        edges[name] = set()

        def visit(node, in_function):
            for child in ast.iter_child_nodes(node):
                inside = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
                targets = []
                if isinstance(child, ast.ImportFrom) and child.level == 0 and child.module:
                    targets = [f"{child.module}.{a.name}" if f"{child.module}.{a.name}" in modules else child.module
                               for a in child.names]
                elif isinstance(child, ast.Import):
                    targets = [a.name for a in child.names]
                for target in targets:
                    if target in modules and target != name:
                        edges[name].add(target)
                        if in_function:
                            text = " ".join(lines[max(0, child.lineno - 2):child.lineno])
                            local.append((name, target, child.lineno, text))
                visit(child, inside)
        visit(ast.parse(source), False)
    return edges, local


def _cycles(edges):
    """Strongly connected components of more than one module (Tarjan, iteratively)."""
    index, low, stack, on_stack, found, counter = {}, {}, [], set(), [], [0]
    for start in edges:
        if start in index:
            continue
        work = [(start, iter(sorted(edges[start])))]
        index[start] = low[start] = counter[0]
        counter[0] += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter[0]
                    counter[0] += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_every_module_has_a_layer():
    assert [m for m in _modules() if layer_of(m) is None] == []


def test_imports_go_down_the_layers():
    edges, _ = _imports(_modules())
    against = [f"{m} ({LAYERS[layer_of(m)][0]}) imports {t} ({LAYERS[layer_of(t)][0]})"
               for m, targets in sorted(edges.items()) for t in sorted(targets) if layer_of(t) > layer_of(m)]
    assert against == []


def test_no_import_circle():
    edges, _ = _imports(_modules())
    assert _cycles(edges) == []


def test_few_function_local_imports_each_with_its_reason():
    _, local = _imports(_modules())
    assert len(local) <= MAX_LOCAL, local
    assert [x for x in local if "# local:" not in x[3]] == []


def test_the_checks_find_what_they_look_for():
    """The checks themselves: an import against the layers, a circle, a local import."""
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}
    assert _cycles(edges) == [["a", "b", "c"]]
    assert layer_of("crm.visits.views") == 6 and layer_of("crm.visits.services") == 4
    assert layer_of("crm.enterprises.services") < layer_of("crm.stats.services")
    tree_edges, local = _imports({"crm.enterprises.services": ROOT / "crm/enterprises/services.py",
                                  "crm.common.signals": ROOT / "crm/common/signals.py"})
    assert "crm.common.signals" in tree_edges["crm.enterprises.services"] and local == []
