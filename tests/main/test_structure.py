"""The shape the code keeps: services enqueue tasks by name and never import them."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "platform" / "campus"
# Only the tasks themselves, the commands that run a task inline, and a feature's registration
# (which imports its tasks so the worker knows them) may import a tasks module.
ALLOWED = {"tasks.py", "cli.py", "__init__.py"}


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def test_no_module_but_tasks_and_commands_imports_a_tasks_module():
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name in ALLOWED:
            continue
        tasks = sorted(m for m in _imported_modules(path) if m.split(".")[-1] == "tasks")
        if tasks:
            offenders.append(f"{path.relative_to(PACKAGE)} imports {', '.join(tasks)}")
    assert offenders == []


def test_the_checker_sees_an_import_inside_a_function(tmp_path):
    sample = tmp_path / "services.py"
    sample.write_text("def f():\n    from campus.billing.tasks import x\n")
    assert "campus.billing.tasks" in _imported_modules(sample)
