"""The package's house: engine -> data -> models -> metrics -> mitigations -> experiments -> runs, cli.

Every import between the package's modules, the ones inside functions included, goes from a
room to a room below it or beside it, and no set of modules imports itself round a circle.
"""

import ast
import collections
import subprocess
import sys
from pathlib import Path

import autophagy

ROOT = Path(autophagy.__file__).parent
# lower floors first; a module may import its own floor and those below
FLOORS = [
    {"params", "files", "profiles", "theory", "plotting"},
    {"engine"},
    {"data", "weights"},
    {"models"},
    {"metrics"},
    {"mitigations"},
    {"experiments"},
    {"runs", "sweepplots"},
    {"sweeps", "threshold", "pretrain", "recorded"},
    {"book"},
    {"cli"},
]
FLOOR = {room: level for level, rooms in enumerate(FLOORS) for room in rooms}
# inside runs: the locked folder and the cluster know no run; the runner is the top
RUNS_FLOORS = [{"folder", "cluster"}, {"store"}, {"history", "grid"}, {"runner"}]
RUNS_FLOOR = {module: level for level, modules in enumerate(RUNS_FLOORS) for module in modules}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports() -> dict[str, set[str]]:
    """Module -> the package's modules it imports (relative imports, wherever they are)."""
    modules = {module_name(p): p for p in ROOT.rglob("*.py")}
    graph = collections.defaultdict(set)
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
                for candidate in [target] if node.module else [f"{target}.{a.name}" for a in node.names]:
                    while candidate not in modules and "." in candidate:
                        candidate = candidate.rpartition(".")[0]
                    if candidate != name:
                        graph[name].add(candidate)
    return graph


def room(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def test_every_room_of_the_package_has_a_floor():
    rooms = {room(module_name(p)) for p in ROOT.rglob("*.py")} - {"__init__"}
    assert rooms <= set(FLOOR), f"rooms without a floor: {sorted(rooms - set(FLOOR))}"


def test_no_module_imports_a_room_above_its_own():
    upward = [
        (a, b)
        for a, targets in imports().items()
        for b in targets
        if room(a) != "__init__" and room(b) != "__init__" and FLOOR[room(b)] > FLOOR[room(a)]
    ]
    assert not upward


def test_every_module_of_runs_has_a_floor_and_imports_none_above_its_own():
    modules = {module_name(p).rpartition(".")[2] for p in (ROOT / "runs").glob("*.py")} - {"runs"}
    assert modules == set(RUNS_FLOOR)
    upward = [
        (a, b)
        for a, targets in imports().items()
        for b in targets
        if room(a) == room(b) == "runs" and RUNS_FLOOR[b.rpartition(".")[2]] > RUNS_FLOOR[a.rpartition(".")[2]]
    ]
    assert not upward


def test_no_modules_import_each_other_round_a_circle():
    graph = imports()
    seen, on_path = set(), []

    def visit(module):
        if module in on_path:
            return on_path[on_path.index(module) :]
        if module in seen:
            return None
        seen.add(module)
        on_path.append(module)
        for target in sorted(graph.get(module, ())):
            circle = visit(target)
            if circle:
                return circle
        on_path.pop()
        return None

    for module in sorted(graph):
        assert visit(module) is None, f"a circle: {visit(module)}"


def test_the_command_line_and_a_gaussian_run_load_no_torch_seaborn_or_sklearn(tmp_path):
    code = (
        "import sys, autophagy.cli as cli\n"
        "for argv in (['list'], ['run', 'gaussian', '--profile', 'smoke', '--out', sys.argv[1], '--quiet']):\n"
        "    try:\n"
        "        cli.main(argv)\n"
        "    except SystemExit as exit:\n"
        "        assert not exit.code, exit.code\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'torch', 'seaborn', 'sklearn'}))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "run")], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip().splitlines()[-1] == "[]"
