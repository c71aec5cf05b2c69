"""``cnnspec check``: grade a student's answer table, or a folder of them.

Room: consumers (cli). Reading, grading and diagnosing live in
``cnnspec.homework`` (answers, grading, diagnose, batch, report).
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import click

from cnnspec.cli.options import FORMATS, PRESETS, emit, make_console, quiet_option


def _options(mb_base: str | None, mb_tolerance: float, rounding: str):
    from cnnspec.homework.verdicts import GradeOptions, Rounding

    return GradeOptions(mb_base=int(mb_base) if mb_base else None,
                        mb_tolerance=Fraction(str(mb_tolerance)), rounding=Rounding(rounding))


def _write_template(spec: str, input_shape: str | None, conventions: str | None,
                    output: str | None, quiet: bool, embed: bool) -> None:
    from cnnspec.cli.options import load_spec
    from cnnspec.homework.templates import portable_spec, spec_block, template_csv, template_yaml

    report = load_spec(spec, input_shape, conventions).report()
    as_csv = output is not None and output.lower().endswith(".csv")
    if embed and as_csv:
        raise click.UsageError("--embed writes the spec into a YAML answer file; "
                               "use -o NAME.yaml")
    named = portable_spec(spec, Path(output).parent if output else Path.cwd())
    emit(template_csv(report, named) if as_csv else
         template_yaml(report, named, spec_block(spec) if embed else None), output)
    if output and not quiet:
        click.echo(f"wrote {output}", err=True)


def print_grade(grade, show_all: bool) -> None:
    """The verdict table, the explanations and the score, on stdout.

    Names and values come from the answer file: they are printed as plain text
    (never rich markup) with control characters shown escaped."""
    from rich.table import Table
    from rich.text import Text

    from cnnspec.homework.report import explanations
    from cnnspec.homework.verdicts import Verdict
    from cnnspec.render.safe_text import one_line

    console = make_console()
    styles = {Verdict.CORRECT: "green", Verdict.WRONG: "bold red", Verdict.MISSING: "yellow"}
    console.print(Text(f"{one_line(grade.student)} — {one_line(grade.spec)}"))
    console.print(grade.conventions, markup=False)
    table = Table(show_lines=False)
    for name, justify in (("Row", "left"), ("Cell", "left"), ("Given", "right"),
                          ("Expected", "right"), ("Verdict", "left")):
        table.add_column(name, justify=justify)
    for cell in grade.cells:
        if show_all or cell.verdict is not Verdict.CORRECT:
            table.add_row(*(Text(one_line(v)) for v in (cell.row, cell.cell, cell.given or "—",
                                                       cell.expected)),
                          Text(cell.verdict.value, style=styles[cell.verdict]))
    console.print(table)
    details = explanations(grade)
    if details:
        click.echo("Why")  # plain echo: long derivations stay on one line
        for title, lines in details:
            click.echo(f"  {one_line(title)}")
            for line in lines:
                click.echo(f"    - {one_line(line)}")
    click.echo(grade.score_text())


def _single(answers: str, spec: str | None, conventions: str | None, input_shape: str | None,
            options, fmt: str, show_all: bool, output: str | None, out: dict) -> bool:
    from cnnspec.homework import report
    from cnnspec.homework.answers import read_answers
    from cnnspec.homework.grading import grade, resolve_network

    sheet = read_answers(answers)
    if out["keys"] is None and spec is None:
        from cnnspec.homework.keys import KeyBook, is_key

        if is_key(answers):  # a key graded as its own answers
            out = {**out, "keys": KeyBook(answers)}
    if out["keys"] is not None:
        from cnnspec.homework.keys import grade_with_key

        key = out["keys"].for_sheet(sheet)
        result = grade_with_key(sheet, key, options, answers, out["keys"].network(key))
    else:
        network = resolve_network(sheet, spec, conventions, input_shape=input_shape)
        result = grade(sheet, network, options)
    _write_extras([(answers, result, None)], out)
    if fmt == "table" and output is None:
        print_grade(result, show_all)
    else:
        writers = {"json": report.grade_json, "csv": report.grade_csv,
                   "markdown": lambda g: report.grade_markdown(g, show_all),
                   "table": lambda g: report.grade_markdown(g, show_all)}
        emit(writers[fmt](result), output)
    return result.all_correct


def _write_extras(graded: list[tuple[str, object, str | None]], out: dict) -> None:
    """The Gradescope results file and the feedback files, when asked for."""
    from cnnspec.atomic import write_text

    if out["gradescope"]:
        from cnnspec.homework.gradescope import results_json

        if len(graded) != 1:
            raise click.UsageError(f"--gradescope grades one submission (Gradescope runs one "
                                   f"per student); the folder holds {len(graded)}")
        _, result, error = graded[0]
        try:
            write_text(out["gradescope"], results_json(result, error))
        except OSError as exc:
            from cnnspec.cli.exercise import write_failed

            raise write_failed(exc, out["gradescope"]) from None
        if not out["quiet"]:
            click.echo(f"wrote {out['gradescope']}", err=True)
    if out["feedback"]:
        try:
            _write_feedback(graded, out)
        except OSError as exc:
            from cnnspec.cli.exercise import write_failed

            raise write_failed(exc, out["feedback"]) from None


def _write_feedback(graded: list[tuple[str, object, str | None]], out: dict) -> None:
    from cnnspec.atomic import write_text

    if out["feedback"]:
        from cnnspec.homework.gradescope import feedback_markdown
        from cnnspec.render.safe_text import safe_filename

        folder = Path(out["feedback"])
        folder.mkdir(parents=True, exist_ok=True)
        used: set[str] = set()
        for path, result, _ in graded:
            if result is None:
                continue
            stem = safe_filename(result.student or Path(path).stem, default="student")
            while stem in used:
                stem += "_"
            used.add(stem)
            write_text(folder / f"{stem}.md", feedback_markdown(result))
        if not out["quiet"]:
            click.echo(f"wrote {len(used)} feedback files to {folder}", err=True)


def _batch(folder: str, spec: str | None, conventions: str | None, input_shape: str | None,
           options, fmt: str, grades: str | None, output: str | None, quiet: bool,
           out: dict) -> bool:
    from rich.progress import Progress

    from cnnspec.atomic import write_text
    from cnnspec.homework import batch, report

    paths = batch.find_submissions(folder)
    with Progress(console=make_console(stderr=True), transient=True, disable=quiet) as bar:
        task = bar.add_task(f"grading {len(paths)} submissions", total=len(paths))
        submissions = batch.grade_files(paths, spec, conventions, options,
                                        on_done=lambda _: bar.advance(task),
                                        input_shape=input_shape, keys=out["keys"])
    _write_extras([(s.path, s.grade, s.error) for s in submissions], out)
    summary = batch.summarize(submissions)
    if grades:
        write_text(grades, batch.grades_csv(submissions))
        if not quiet:
            click.echo(f"wrote {grades}", err=True)
    if fmt == "table" and output is None:
        _print_batch(submissions, summary)
    else:
        writers = {"json": report.batch_json, "csv": lambda s, c: batch.summary_csv(c),
                   "markdown": report.batch_markdown, "table": report.batch_markdown}
        emit(writers[fmt](submissions, summary), output)
    return all(s.grade is not None and s.grade.all_correct for s in submissions)


def _print_batch(submissions, summary) -> None:
    from rich.table import Table
    from rich.text import Text

    from cnnspec.homework.verdicts import Verdict
    from cnnspec.render.safe_text import one_line

    def plain(*values: str) -> list[Text]:
        return [Text(one_line(v)) for v in values]

    console = make_console()
    table = Table(title="Submissions")
    for name in ("File", "Student", "Score", "Wrong", "Missing", "Error"):
        table.add_column(name)
    for s in submissions:
        g = s.grade
        if g is None:
            table.add_row(*plain(s.name, "", "", "", "", s.error or ""))
        else:
            table.add_row(*plain(s.name, g.student, f"{100 * g.score:.1f}%",
                                 str(g.count(Verdict.WRONG)), str(g.count(Verdict.MISSING)), ""))
    console.print(table)
    cells = Table(title="Cells most often not correct")
    for name in ("Cell", "Wrong", "Missing", "Correct", "Most common mistake"):
        cells.add_column(name)
    for row in summary:
        if row.not_correct:
            cells.add_row(*plain(row.cell_id, str(row.wrong), str(row.missing), str(row.correct),
                                 row.common_mistake))
    console.print(cells)


@click.command()
@click.argument("answers", required=False, metavar="[ANSWERS]")
@click.option("--spec", default=None, metavar="SPEC",
              help="The network the answers are about (default: the answer file's `spec:`).")
@click.option("--conventions", type=click.Choice(PRESETS, case_sensitive=False), default=None,
              help="Counting conventions (default: the answer file's, else the spec's).")
@click.option("--input", "-i", "input_shape", default=None, metavar="HxWxC",
              help="The input shape, when the spec is a string without one.")
@click.option("--template", "template", default=None, metavar="SPEC",
              help="Write an answer file for SPEC to fill in (YAML; CSV with -o NAME.csv).")
@click.option("--embed", is_flag=True,
              help="With --template: write the spec itself into the answer file.")
@click.option("--mb-base", type=click.Choice(["1024", "1000"]), default=None,
              help="What MB means in memory_mb [default: the answer file's mb_base, else 1024].")
@click.option("--mb-tolerance", type=click.FloatRange(min=0), default=1.0, show_default=True,
              help="How many MB a memory figure may be off.")
@click.option("--rounding", type=click.Choice(["exact", "nearest", "loose"]), default="nearest",
              show_default=True,
              help="Rounded figures (3.2M): not accepted / must round right / one unit off is OK.")
@click.option("--format", "-f", "fmt", type=click.Choice(FORMATS), default="table",
              show_default=True, help="Output format.")
@click.option("--show", type=click.Choice(["all", "wrong"]), default="all", show_default=True,
              help="Table rows: every cell, or only the cells that are not correct.")
@click.option("--key", "key", default=None, metavar="KEY",
              help="Grade against an answer key (points, partial credit, accepted "
                   "alternatives, questions), or a folder of per-student keys.")
@click.option("--report", "grades", type=click.Path(dir_okay=False), default=None,
              help="Write grades.csv: one row per submission and cell, with the value given "
                   "and expected, points and diagnosis (atomically).")
@click.option("--gradescope", type=click.Path(dir_okay=False), default=None,
              metavar="RESULTS.json", help="Write Gradescope autograder results (one "
                                           "submission).")
@click.option("--feedback", type=click.Path(file_okay=False), default=None, metavar="DIR",
              help="Write a markdown feedback file per student into DIR.")
@click.option("--output", "-o", type=click.Path(dir_okay=False), default=None,
              help="Write the output to this file (atomically) instead of stdout.")
@quiet_option
def check(answers: str | None, spec: str | None, conventions: str | None,
          input_shape: str | None, template: str | None, embed: bool, mb_base: str | None,
          mb_tolerance: float, rounding: str, fmt: str, show: str, key: str | None,
          grades: str | None, gradescope: str | None, feedback: str | None,
          output: str | None, quiet: bool) -> None:
    """Grade the answer file ANSWERS (YAML or CSV), or every file in the folder ANSWERS.

    Each cell gets a verdict (correct / wrong / missing), the expected value and,
    when wrong, the formula with both sets of numbers and the usual mistake it
    matches. Exit status 0 when every cell is correct (for a folder: in every
    submission), 1 otherwise. A folder gives one row per submission (--report
    writes them as CSV) and the cells most students got wrong.

    \b
    An answer file (YAML):
      spec: alexnet
      conventions: lecture
      layers:
        input:  {output: 224x224x3, nodes: 150528}
        Conv:1: {output: 55x55x96, nodes: 290400, weights: (11x11x3+1)x96}
      totals: {weights: 62369152, memory_bytes: 249476608, memory_mb: ~237, nodes: 781736}
    As CSV: a header `layer,output,nodes,weights`, one row per layer, a `total` row;
    `# spec: alexnet` lines before the header. Values may be numbers, expressions,
    `working = answer`, or rounded figures such as 3.2M.

    \b
    Examples:
      cnnspec check --template specs/alexnet.yaml -o answers.yaml
      cnnspec check --template my_net.yaml --embed -o hw/answers.yaml
      cnnspec check answers.yaml
      cnnspec check answers.csv --spec alexnet --conventions lecture --show wrong
      cnnspec check submissions/ --spec specs/alexnet.yaml --report grades.csv
      cnnspec check submissions/ --key keys/ --report grades.csv --feedback feedback/
      cnnspec check /autograder/submission --key key.yaml --gradescope results.json
    """
    if template is not None:
        _write_template(template, input_shape, conventions, output, quiet, embed)
        return
    if answers is None:
        raise click.UsageError("give an answer file or folder (or --template SPEC)")
    options = _options(mb_base, mb_tolerance, rounding)
    fmt = "markdown" if fmt == "md" else fmt
    keys = None
    if key is not None:
        from cnnspec.homework.keys import KeyBook

        keys = KeyBook(key)
    out = {"keys": keys, "gradescope": gradescope, "feedback": feedback, "quiet": quiet}
    if Path(answers).is_dir():
        ok = _batch(answers, spec, conventions, input_shape, options, fmt, grades, output,
                    quiet, out)
    else:
        if grades:
            raise click.UsageError("--report is for a folder of submissions")
        ok = _single(answers, spec, conventions, input_shape, options, fmt, show == "all",
                     output, out)
    if not ok:
        click.get_current_context().exit(1)
