"""Every command and sub-command explains itself with an example."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from cnnspec.cli.main import COMMANDS, LazyGroup, cli


def all_commands() -> list[list[str]]:
    paths: list[list[str]] = []
    ctx = click.Context(cli)
    group: LazyGroup = cli  # type: ignore[assignment]
    for name in COMMANDS:
        command = group.get_command(ctx, name)
        paths.append([name])
        if isinstance(command, click.Group):
            paths.extend([name, sub] for sub in command.list_commands(ctx))
    return paths


@pytest.mark.parametrize("path", all_commands(), ids=" ".join)
def test_help_has_an_example(path: list[str]) -> None:
    result = CliRunner().invoke(cli, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Examples:" in result.output or "Example:" in result.output
    assert f"cnnspec {path[0]}" in result.output


def test_help_is_fast_to_import() -> None:
    import subprocess
    import sys

    code = ("import sys, cnnspec.cli.main; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('numpy', 'pydantic', 'rich', 'yaml', 'matplotlib')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
