"""``cnnspec run``: build a spec, run it on random input, show where time and memory go.

Room: consumers (cli).
"""

from __future__ import annotations

import json

import click

from cnnspec.cli.options import (
    emit,
    fit_width,
    format_option,
    load_spec,
    make_console,
    memory_option,
    output_option,
    quiet_option,
    spec_argument,
    spec_options,
    threads_option,
)


@click.command()
@threads_option
@spec_argument
@spec_options
@click.option("--batch", "-b", type=click.IntRange(min=1), default=8, show_default=True,
              help="Batch size of the random input.")
@click.option("--forward-only", is_flag=True, help="Skip the backward pass.")
@click.option("--repeats", type=click.IntRange(min=1), default=1, show_default=True,
              help="Average the timings over this many runs.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed for weights and input.")
@click.option("--profile", "show_layers", is_flag=True,
              help="Show the time of every layer, and the time its matrix products alone "
                   "take in NumPy (the limit; 100% = no overhead).")
@format_option
@output_option
@quiet_option
@memory_option
def run(spec: str, input_shape: str | None, conventions: str | None, batch: int,
        forward_only: bool, repeats: int, seed: int, show_layers: bool, fmt: str,
        output: str | None, quiet: bool) -> None:
    """Build SPEC in NumPy and run a forward (and backward) pass on random input.

    Prints the measured time beside the analysis' MACs, and the peak memory traced
    (tracemalloc) beside the analysis' estimate. --profile adds each layer's time, the
    time its conv/FC matrix products alone take at NumPy's measured speed on the same
    shapes (the GEMM limit), and the layer's time as a percentage of that limit. A row
    that runs inside another says so ("in Conv:1": in inference a batch norm and a ReLU
    after a conv run inside it).

    \b
    Examples:
      cnnspec run lenet5 --batch 64 --profile
      cnnspec run "Conv(3x3,16,p=1)-ReLU-Pool(2)-FC(10)" --input 32x32x3 --forward-only
      cnnspec run resnet50 --batch 1 --forward-only -f json -o resnet50-run.json
    """
    from cnnspec.engine.budget import estimate, require_memory
    from cnnspec.engine.profile import profile
    from cnnspec.units import exact_count, human_bytes

    loaded = load_spec(spec, input_shape, conventions)
    report = loaded.report()
    require_memory(estimate(report, batch=batch, optimizer=None, backward=not forward_only),
                   f"running {loaded.name} on a batch of {batch}",
                   "use a smaller --batch or a smaller --input")
    model = loaded.build(seed=seed, report=report)
    result = profile(model, batch, backward=not forward_only, seed=seed, repeats=repeats,
                     limit=show_layers)
    macs = model.report.totals.macs * batch
    if fmt == "json":
        _write(json.dumps({
            "name": loaded.name, "batch": batch, "backward": not forward_only,
            "forward_seconds": result.forward_seconds, "backward_seconds": result.backward_seconds,
            "macs": macs, "peak_bytes": result.peak_bytes, "estimate_bytes": result.estimate_bytes,
            "estimate_parts": result.estimate_parts, "gemm_seconds": result.gemm_seconds,
            "layers": [vars(t) for t in result.layers],
        }, indent=2), output, quiet)
        return
    import io

    from rich.text import Text

    from cnnspec.render.safe_text import styled

    buffer = io.StringIO()
    console = make_console() if output is None else _file_console(buffer)
    total = result.forward_seconds + result.backward_seconds
    console.print(Text.assemble(styled(loaded.name, "bold"), f" — batch {batch}, "
                                f"{'forward' if forward_only else 'forward + backward'}, "
                                f"NumPy {model.dtype.name}, NCHW"))
    if show_layers:
        from cnnspec.render.layout import PlainColumn
        from cnnspec.render.table import print_fitted

        # (title, priority when the terminal is narrow, numeric)
        titles = (("Layer", 0, False), ("Type", 9, False), ("Forward ms", 1, True),
                  ("Backward ms", 2, True), ("Share", 4, True), ("MACs", 5, True),
                  ("GMAC/s", 6, True), ("GEMM limit ms", 7, True), ("vs limit", 3, True),
                  ("Output memory", 8, True))
        columns = [PlainColumn(title, title, priority, numeric)
                   for title, priority, numeric in titles]
        cells = []
        for t in result.layers:
            spent = t.forward + t.backward
            rate = f"{t.macs / t.forward / 1e9:.1f}" if t.macs and t.forward > 0 else "-"
            percent = t.percent_of_limit()
            gemm = t.gemm_forward + t.gemm_backward
            cells.append([t.name, t.type,
                          f"in {t.inside}" if t.inside else f"{t.forward * 1e3:.2f}",
                          "-" if forward_only or t.inside else f"{t.backward * 1e3:.2f}",
                          f"{100 * spent / total:.1f}%" if total else "-",
                          f"{t.macs:,}" if t.macs else "-", rate,
                          f"{gemm * 1e3:.2f}" if gemm else "-",
                          f"{percent:.0f}%" if percent is not None else "-",
                          human_bytes(t.activation_bytes)])
        width = fit_width(console)
        hidden = print_fitted(console, columns, cells, width)
        if any(t.inside for t in result.layers):
            console.print("in NAME: the row runs inside that layer or block and is timed "
                          "with it: in inference a batch norm right after a conv is folded "
                          "into its weights and a ReLU after it is applied chunk by chunk; a "
                          "ReLU right before a max pool is applied by the pool, to the pooled "
                          "output; a block adds or concatenates its paths itself (blocks are "
                          "not rows here; their merge is in the forward total).", markup=False)
        if hidden:
            console.print(f"Hidden to fit {width} columns: "
                          f"{', '.join(c.title for c in hidden)}; `-f json` has every figure.",
                          style="dim", markup=False)
    console.print(f"forward {result.forward_seconds * 1e3:.1f} ms"
                  + ("" if forward_only else f", backward {result.backward_seconds * 1e3:.1f} ms")
                  + f"; {exact_count(macs)} MACs forward "
                  f"({macs / max(result.forward_seconds, 1e-12) / 1e9:.2f} GMAC/s)")
    whole = result.percent_of_limit()
    if whole is not None:
        console.print(f"GEMM limit: the conv and FC products alone take "
                      f"{result.gemm_seconds * 1e3:.1f} ms in NumPy; this run is "
                      f"{whole:.0f}% of that")
    ratio = result.peak_bytes / result.estimate_bytes if result.estimate_bytes else 0.0
    parts = " + ".join(f"{k} {human_bytes(v)}" for k, v in result.estimate_parts.items())
    console.print(f"peak memory traced {human_bytes(result.peak_bytes)}; analysis estimate "
                  f"{human_bytes(result.estimate_bytes)} ({parts}); ratio {ratio:.2f}")
    if output is not None:
        _write(buffer.getvalue(), output, quiet)


def _file_console(buffer):
    """A console writing plain text into ``buffer`` (for -o FILE)."""
    from cnnspec.render.safe_text import safe_console

    return safe_console(file=buffer, width=200, highlight=False, color_system=None)


def _write(text: str, output: str | None, quiet: bool) -> None:
    """``text`` to ``output`` (atomically, saying so unless ``quiet``) or to stdout."""
    emit(text, output)
    if output and not quiet:
        click.echo(f"wrote {output}", err=True)
