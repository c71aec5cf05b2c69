"""The homework room's own doors: no terminal markup is built from answer files."""

from __future__ import annotations

import ast
from pathlib import Path

HOMEWORK = Path(__file__).resolve().parents[2] / "cnnspec" / "homework"
CHECK_CLI = Path(__file__).resolve().parents[2] / "cnnspec" / "cli" / "check.py"


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def test_homework_builds_no_rich_markup() -> None:
    for path in sorted(HOMEWORK.rglob("*.py")):
        assert not any(n == "rich" or n.startswith("rich.") for n in _imports(path)), path


def test_the_check_command_prints_answer_text_as_plain_text() -> None:
    """Every ``add_row`` of the check command's tables gets ``Text`` cells, never strings
    that rich would parse as markup."""
    tree = ast.parse(CHECK_CLI.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "add_row":
            for arg in node.args:
                assert not isinstance(arg, (ast.JoinedStr, ast.Constant)), ast.unparse(arg)
                if isinstance(arg, ast.Starred):
                    assert "Text(" in ast.unparse(arg) or "plain(" in ast.unparse(arg)
