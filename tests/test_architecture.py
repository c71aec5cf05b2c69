"""The rooms import one way: spec <- analysis <- engine <- consumers."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "cnnspec"


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def files(room: str) -> list[Path]:
    return sorted((PACKAGE / room).rglob("*.py"))


def test_spec_imports_no_later_room() -> None:
    for path in files("spec"):
        for name in imports_of(path):
            assert not name.startswith(("cnnspec.analysis", "cnnspec.engine", "cnnspec.cli",
                                        "cnnspec.render", "numpy")), (path, name)


def test_analysis_imports_neither_engine_nor_numpy() -> None:
    for path in files("analysis"):
        for name in imports_of(path):
            assert not name.startswith(("cnnspec.engine", "cnnspec.cli", "cnnspec.render",
                                        "numpy")), (path, name)


def test_engine_imports_no_consumer() -> None:
    for path in files("engine"):
        for name in imports_of(path):
            assert not name.startswith(("cnnspec.cli", "cnnspec.render", "cnnspec.homework",
                                        "cnnspec.export", "cnnspec.api")), (path, name)


def test_only_cli_imports_click() -> None:
    for path in PACKAGE.rglob("*.py"):
        if "cli" in path.relative_to(PACKAGE).parts:
            continue
        assert not any(n == "click" or n.startswith("click.") for n in imports_of(path)), path


def test_no_unsafe_loading() -> None:
    for path in PACKAGE.rglob("*.py"):
        text = path.read_text()
        assert "yaml.load(" not in text and "yaml.unsafe_load" not in text, path
        assert "allow_pickle=True" not in text, path


def test_counts_and_bytes_are_written_for_people_in_one_module() -> None:
    """``cnnspec/units.py`` is shared by every room, so it imports nothing of cnnspec; no
    other module defines its own human form of a count or a byte size."""
    units = PACKAGE / "units.py"
    assert not any(name.startswith("cnnspec") for name in imports_of(units))
    for path in PACKAGE.rglob("*.py"):
        if path == units:
            continue
        tree = ast.parse(path.read_text())
        defined = {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
        assert not defined & {"human_bytes", "human_count", "exact_bytes", "exact_count"}, path
        assert ":.3f} G" not in path.read_text(), path


def test_every_rich_console_escapes_control_characters() -> None:
    # user text reaches the terminal through consoles; render.safe_text.safe_console is
    # the one that shows escape sequences in names instead of obeying them
    for path in PACKAGE.rglob("*.py"):
        if path.relative_to(PACKAGE).as_posix() == "render/safe_text.py":
            continue
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                name = getattr(node.func, "id", getattr(node.func, "attr", ""))
                assert name != "Console", f"{path}:{node.lineno}: use safe_console()"


def test_rich_markup_is_escaped_in_one_place() -> None:
    for path in PACKAGE.rglob("*.py"):
        if path.relative_to(PACKAGE).as_posix() == "render/safe_text.py":
            continue
        assert "rich.markup" not in imports_of(path), path


def test_every_csv_goes_through_the_one_defusing_writer() -> None:
    # render.safe_text.csv_writer makes cells starting with = + - @ TAB CR inert text
    for path in PACKAGE.rglob("*.py"):
        if path.relative_to(PACKAGE).as_posix() == "render/safe_text.py":
            continue
        text = path.read_text()
        assert "csv.writer(" not in text and "csv.DictWriter(" not in text, path
