"""``cnnspec exercise``: one exercise variant per student, with sheets, keys and blank
answer files; and a ready Gradescope autograder folder for a key.

Room: consumers (cli). Variants, keys and sheets live in ``cnnspec.homework``
(exercise, exercise_questions, sheets, gradescope).
"""

from __future__ import annotations

from pathlib import Path

import click

from cnnspec.cli.options import PRESETS, quiet_option


@click.group()
def exercise() -> None:
    """Exercises per student, and the autograder that grades them.

    \b
    Examples:
      cnnspec exercise make --students kim,lee,park -o hw1
      cnnspec exercise make --roster roster.csv --name hw1 -o hw1
      cnnspec exercise autograder hw1/keys -o autograder
    """


def write_failed(exc: OSError, folder: str):
    """A read-only or full output folder as one located error (not an internal error)."""
    from cnnspec.errors import DataError, Location

    return DataError(f"cannot write {exc.filename or folder}: {exc.strerror or exc}",
                     Location(str(folder)), "choose a folder you can write to (-o DIR)")


def _student_ids(students: str | None, roster: str | None) -> list[str]:
    from cnnspec.homework.answers import read_checked_text
    from cnnspec.homework.exercise import read_roster

    if (students is None) == (roster is None):
        raise click.UsageError("give --students ID,ID,... or --roster FILE (one of them)")
    if roster is not None:
        return read_roster(read_checked_text(roster, "roster"), roster)
    ids = [s.strip() for s in students.split(",") if s.strip()]
    if not ids:
        raise click.UsageError("--students lists no ids")
    if len(set(ids)) != len(ids):
        raise click.UsageError("--students lists an id twice")
    return ids


@exercise.command()
@click.option("--students", default=None, metavar="ID,ID,...", help="Student ids.")
@click.option("--roster", type=click.Path(dir_okay=False), default=None,
              help="A roster file: one id per line, or a CSV with the id first.")
@click.option("--name", default="cnn-sizes", show_default=True,
              help="The exercise's name; with the id it seeds each variant.")
@click.option("--spec", default=None, metavar="SPEC",
              help="Use this network for everyone (default: a network drawn per student).")
@click.option("--conventions", type=click.Choice(PRESETS, case_sensitive=False), default=None,
              help="Counting conventions for everyone (default: drawn per student).")
@click.option("--partial-credit", type=click.FloatRange(0, 1), default=0.5, show_default=True,
              help="Share of a cell's points for the right method on a wrong earlier value.")
@click.option("--output", "-o", type=click.Path(file_okay=False), required=True,
              help="The folder to write sheets/, answers/ and keys/ into.")
@quiet_option
def make(students: str | None, roster: str | None, name: str, spec: str | None,
         conventions: str | None, partial_credit: float, output: str, quiet: bool) -> None:
    """Write one exercise per student: sheets/ID.md and .html (the sheet, numbers blank),
    answers/ID.yaml (to fill in and hand back) and keys/ID.yaml (the answer key).

    The same id and --name always give the same variant. Grade the handed-in files with
    `cnnspec check answers/ --key keys/`.

    \b
    Examples:
      cnnspec exercise make --students kim,lee,park -o hw1
      cnnspec exercise make --roster roster.csv --name hw2 --conventions lecture -o hw2
      cnnspec check hw1/answers --key hw1/keys --report grades.csv --feedback feedback
    """
    from cnnspec.render.safe_text import safe_filename

    ids = _student_ids(students, roster)
    stems = [safe_filename(i, default="student") for i in ids]
    if len(set(stems)) != len(stems):
        raise click.UsageError("two student ids give the same file name; make them differ "
                               "in letters or digits")
    root = Path(output)
    try:
        _write_all(root, ids, stems, name, spec, conventions, partial_credit, quiet)
    except OSError as exc:
        raise write_failed(exc, output) from None
    if not quiet:
        click.echo(f"wrote {len(ids)} exercises to {root} (sheets/, answers/, keys/)", err=True)


def _write_all(root: Path, ids: list[str], stems: list[str], name: str, spec: str | None,
               conventions: str | None, partial_credit: float, quiet: bool) -> None:
    from rich.progress import Progress

    from cnnspec.atomic import write_text
    from cnnspec.cli.options import make_console
    from cnnspec.homework.exercise import answers_yaml, key_yaml, make_variant
    from cnnspec.homework.sheets import sheet_blocks, to_html, to_markdown

    for sub in ("sheets", "answers", "keys"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    with Progress(console=make_console(stderr=True), transient=True, disable=quiet) as bar:
        task = bar.add_task(f"writing {len(ids)} exercises", total=len(ids))
        for student, stem in zip(ids, stems, strict=True):
            variant = make_variant(student, name, spec, conventions)
            blocks = sheet_blocks(variant)
            write_text(root / "sheets" / f"{stem}.md", to_markdown(blocks))
            write_text(root / "sheets" / f"{stem}.html", to_html(blocks, blocks[0].text))
            write_text(root / "answers" / f"{stem}.yaml", answers_yaml(variant))
            write_text(root / "keys" / f"{stem}.yaml", key_yaml(variant,
                                                                partial_credit=partial_credit))
            bar.advance(task)


@exercise.command()
@click.argument("key", type=click.Path(exists=True))
@click.option("--output", "-o", type=click.Path(file_okay=False), required=True,
              help="The autograder folder to write.")
@click.option("--requirement", default="cnnspec", show_default=True,
              help="What setup.sh installs with pip (pin a version: cnnspec==0.9.0).")
@quiet_option
def autograder(key: str, output: str, requirement: str, quiet: bool) -> None:
    """Write a Gradescope autograder folder for KEY (a key file, or a folder of
    per-student keys): setup.sh, run_autograder and the key. Zip its contents and upload.

    \b
    Examples:
      cnnspec exercise autograder hw1/keys -o autograder && (cd autograder && zip -r ../ag.zip .)
      cnnspec exercise autograder key.yaml -o autograder --requirement cnnspec==0.9.0
    """
    from cnnspec.homework.gradescope import write_autograder
    from cnnspec.homework.keys import KeyBook

    KeyBook(key)  # every key must read before the folder is written
    try:
        written = write_autograder(output, key, requirement)
    except OSError as exc:
        raise write_failed(exc, output) from None
    if not quiet:
        click.echo("wrote " + ", ".join(str(p) for p in written), err=True)
