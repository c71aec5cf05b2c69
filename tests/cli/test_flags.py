"""One meaning per short flag across every command, documented in docs/cli.md."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from cnnspec.cli.main import cli

DOC = Path(__file__).parents[2] / "docs" / "cli.md"


def commands(command: click.Command, path: tuple[str, ...] = ()):
    """``(path, command)`` for every command, through groups recursively."""
    if isinstance(command, click.Group):
        ctx = click.Context(command)
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            assert sub is not None, name
            yield from commands(sub, (*path, name))
    else:
        yield path, command


def meaning(option: click.Option) -> str:
    """The long name an option shows (old names kept for scripts do not count)."""
    old = getattr(option, "old_names", ())
    longs = [o for o in option.opts + option.secondary_opts if o.startswith("--")
             and o not in old]
    return longs[0] if longs else option.name or ""


def short_flags() -> dict[str, dict[str, list[str]]]:
    """short flag -> long name -> the commands that declare it."""
    found: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for path, command in commands(cli):
        for param in command.params:
            if not isinstance(param, click.Option):
                continue
            for flag in param.opts + param.secondary_opts:
                if not flag.startswith("--"):
                    found[flag][meaning(param)].append(" ".join(path))
    return found


def test_the_walk_reaches_grouped_commands() -> None:
    paths = {" ".join(path) for path, _ in commands(cli)}
    assert {"analyze", "train", "calc params", "calc output", "data download"} <= paths


def test_every_short_flag_has_one_meaning() -> None:
    clashes = {flag: {long: sorted(set(cmds)) for long, cmds in meanings.items()}
               for flag, meanings in short_flags().items() if len(meanings) > 1}
    assert not clashes, f"short flags with more than one meaning: {clashes}"


def test_a_clash_would_be_found() -> None:
    @click.group()
    def group() -> None:
        """A group."""

    @group.command()
    @click.option("--depth", "-d")
    def one(depth: str) -> None:
        """One."""

    @group.command()
    @click.option("--data", "-d")
    def two(data: str) -> None:
        """Two."""

    seen: dict[str, set[str]] = defaultdict(set)
    for _, command in commands(group):
        for param in command.params:
            for flag in param.opts:
                if not flag.startswith("--"):
                    seen[flag].add(meaning(param))  # type: ignore[arg-type]
    assert seen["-d"] == {"--depth", "--data"}


def test_every_short_flag_is_in_the_table_of_docs_cli() -> None:
    text = DOC.read_text()
    for flag, meanings in short_flags().items():
        for long in meanings:
            assert f"| `{flag}` | `{long}` |" in text, f"{flag} {long} is missing from {DOC}"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize(
    ("old", "new"),
    [(["calc", "params", "--filter", "5x5", "--depth", "3"],
      ["calc", "params", "--filter", "5x5", "--in-channels", "3"]),
     (["pool", "1 2; 3 4", "--size", "2"], ["pool", "1 2; 3 4", "--filter", "2"])],
)
def test_old_long_names_still_work_but_leave_the_help(old: list[str], new: list[str]) -> None:
    assert run(*old)[:2] == run(*new)[:2]
    assert run(*new)[0] == 0
    code, out, _ = run(*old[:2], "--help") if old[0] == "calc" else run(old[0], "--help")
    assert code == 0 and old[-2] not in out.split()
    assert new[-2] in out


def test_train_out_dir_and_its_old_name(tmp_path: Path) -> None:
    code, out, _ = run("train", "--help")
    assert code == 0 and "--out-dir" in out and "--out " not in out
    assert "-D, --data" in out
    code, _, err = run("train", "Conv(3x3,2)-FC(10)", "-i", "8x8x1", "--out", str(tmp_path),
                       "--resume")
    assert code == 1 and "last.npz" in err  # the old name is read, the folder has no run


def test_run_writes_to_a_file_and_keeps_quiet(tmp_path: Path) -> None:
    target = tmp_path / "run.txt"
    code, out, err = run("run", "Conv(3x3,2)-FC(10)", "-i", "8x8x1", "-b", "2", "-o",
                         str(target))
    assert code == 0 and out == "" and f"wrote {target}" in err
    assert target.read_text().startswith("network — batch 2, forward + backward")
    code, out, err = run("run", "Conv(3x3,2)-FC(10)", "-i", "8x8x1", "-f", "json", "-q", "-o",
                         str(tmp_path / "run.json"))
    assert code == 0 and out == "" and err == ""
    assert '"name": "network"' in (tmp_path / "run.json").read_text()


def test_analyze_quiet_leaves_out_the_notes() -> None:
    spec = ["analyze", "Conv(3x3,4,s=2)", "-i", "8x8x1", "--conventions", "lecture"]
    code, loud, _ = run(*spec)
    assert code == 0 and "Notes" in loud and "not a whole number" in loud
    code, quiet, err = run(*spec, "-q")
    assert code == 0 and err == ""
    assert "Notes" not in quiet and "not a whole number" not in quiet
    assert "3x3x1, 4, s=2" in quiet  # the data stays
    # the conventions header goes too; the totals stay
    assert "conventions: lecture" in loud and "conventions:" not in quiet
    assert "MACs count the" in loud and "MACs count the" not in quiet
    assert "Parameters: 40 trainable" in quiet.replace("  ", " ")


def test_calc_takes_f_for_format() -> None:
    code, out, _ = run("calc", "params", "--filter", "5x5x3", "-f", "json")
    assert code == 0 and '"title"' in out
