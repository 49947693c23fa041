"""Which way imports flow: the command line sits on top (nothing imports it but ``__main__`` and
its own tests), no module of the package imports itself back through others, and no test module
imports from another test module.

Imports are read with ``ast`` from the source, each ``import`` statement wherever it stands: in a
function (an import made on first use is still a dependency) and under ``if TYPE_CHECKING:`` too
(a module that names another's class in its annotations depends on it)."""
import ast
import json
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Set

REPOSITORY = Path(__file__).resolve().parents[1]
PACKAGE = "allencv_lite"
COMMANDS = f"{PACKAGE}.commands"
MAY_IMPORT_COMMANDS = (REPOSITORY / PACKAGE / "commands", REPOSITORY / PACKAGE / "__main__.py",
                       REPOSITORY / "tests" / "commands")


def module_name(path: Path) -> str:
    """``allencv_lite/data/dataset.py`` -> ``allencv_lite.data.dataset`` (a package: its ``__init__``'s folder)."""
    parts = path.relative_to(REPOSITORY).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_names(tree: ast.AST, importer: Optional[str] = None, is_package: bool = False) -> Iterator[str]:
    """Every module (or ``module.name``) the statements of ``tree`` import, relative imports
    resolved against ``importer``."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = importer.split(".")[:len(importer.split(".")) - node.level + is_package]
                base = ".".join(anchor + ([base] if base else []))
            yield from (f"{base}.{alias.name}" for alias in node.names)
        yield from imported_names(node, importer, is_package)


def notebook_code(path: Path) -> str:
    """The code cells of a notebook, shell (``!``) and magic (``%``) lines left out."""
    lines, in_shell_command = [], False
    for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
        for line in "".join(cell["source"]).splitlines() if cell["cell_type"] == "code" else []:
            if not in_shell_command and not line.lstrip().startswith(("!", "%")):
                lines.append(line)
            else:  # a shell line goes on while it ends in a backslash
                in_shell_command = line.endswith("\\")
    return "\n".join(lines)


def python_sources() -> Dict[Path, ast.AST]:
    """Every Python file and notebook of the repository (package, tests, benchmarks, scripts), parsed."""
    paths = [path for path in REPOSITORY.rglob("*.py") if not any(part.startswith(".") for part in path.parts)]
    sources = {path: ast.parse(path.read_text(encoding="utf-8"), str(path)) for path in paths}
    notebooks = (REPOSITORY / "notebooks").glob("*.ipynb")
    sources.update({path: ast.parse(notebook_code(path), str(path)) for path in notebooks})
    return sources


def imported_test_modules(path: Path, tree: ast.AST) -> List[str]:
    """The test modules (``tests/**/test_*.py``) that ``path``, a file under ``tests/``, imports,
    however spelled: ``tests.training.test_trainer``, relative, or by bare name (``test_trainer``,
    found because pytest puts a test's folder on ``sys.path``)."""
    tests = REPOSITORY / "tests"
    by_bare_name = {test.stem: test for test in tests.rglob("test_*.py")}
    found = set()
    for name in imported_names(tree, module_name(path), path.name == "__init__.py"):
        parts = name.split(".")
        candidates = [REPOSITORY.joinpath(*parts[:end]).with_suffix(".py") for end in range(2, len(parts) + 1)]
        candidates.append(by_bare_name.get(parts[0]))
        found.update(candidate.relative_to(REPOSITORY).as_posix() for candidate in candidates
                     if candidate and candidate != path and candidate.name.startswith("test_")
                     and tests in candidate.parents and candidate.is_file())
    return sorted(found)


def test_no_test_module_imports_from_another_test_module():
    offenders = [f"{path.relative_to(REPOSITORY)} imports from {imported}"
                 for path in sorted((REPOSITORY / "tests").rglob("*.py"))
                 for imported in imported_test_modules(path, ast.parse(path.read_text(encoding="utf-8"), str(path)))]
    assert offenders == [], ("a helper two test modules share is a fixture in a conftest.py, or, when it cannot be "
                             "one (a class, a value pytest.mark.parametrize reads), a module of tests/helpers/:\n"
                             + "\n".join(offenders))


def test_nothing_but_the_command_line_and_its_tests_imports_from_commands():
    offenders = []
    for path, tree in python_sources().items():
        if any(path == allowed or allowed in path.parents for allowed in MAY_IMPORT_COMMANDS) or \
                path.name.endswith("_command.py") and REPOSITORY / "tests" in path.parents:  # a command-line test
            continue
        importer = module_name(path) if path.suffix == ".py" else None
        names = imported_names(tree, importer, path.name == "__init__.py") if importer else imported_names(tree)
        offenders += [f"{path.relative_to(REPOSITORY)} imports {name}" for name in names
                      if name == COMMANDS or name.startswith(COMMANDS + ".")]
    assert offenders == [], ("commands/ is argparse over the library; import the library instead:\n"
                             + "\n".join(offenders))


def package_import_graph() -> Dict[str, Set[str]]:
    """Each module of the package -> the modules of the package it imports (``from a import b``
    counts as importing ``a.b`` when that is a module, else ``a``)."""
    files = sorted((REPOSITORY / PACKAGE).rglob("*.py"))
    modules = {module_name(path): path for path in files}
    graph: Dict[str, Set[str]] = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        targets = set()
        for imported in imported_names(tree, name, path.name == "__init__.py"):
            while imported and imported not in modules:
                imported = imported.rpartition(".")[0]
            if imported and imported != name:
                targets.add(imported)
        graph[name] = targets
    return graph


def find_circles(graph: Dict[str, Set[str]]) -> List[List[str]]:
    """The strongly connected components of ``graph`` with more than one module (Tarjan 1972)."""
    index: Dict[str, int] = {}
    lowest: Dict[str, int] = {}
    stack: List[str] = []
    circles: List[List[str]] = []

    def visit(node: str) -> None:
        index[node] = lowest[node] = len(index)
        stack.append(node)
        for successor in sorted(graph[node]):
            if successor not in index:
                visit(successor)
                lowest[node] = min(lowest[node], lowest[successor])
            elif successor in stack:
                lowest[node] = min(lowest[node], index[successor])
        if lowest[node] == index[node]:
            component = []
            while not component or component[-1] != node:
                component.append(stack.pop())
            if len(component) > 1:
                circles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return circles


def test_no_module_of_the_package_imports_itself_back_through_others():
    circles = find_circles(package_import_graph())
    assert circles == [], f"modules that import each other (break the loop: move what both need below them): {circles}"


def test_the_circle_finder_finds_a_circle_of_three_and_nothing_in_a_chain():
    assert find_circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert find_circles({"a": {"b"}, "b": {"c"}, "c": set()}) == []
