"""The ``cnnspec`` command: one click group; each sub-command lives in its own module.

Room: consumers (cli). Sub-command modules are imported only when run, so
``cnnspec --help`` stays fast.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

import click

# name -> (module, function, one-line help shown by `cnnspec --help`)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "analyze": ("cnnspec.cli.analyze", "analyze", "Per-layer shapes, weights, MACs, memory."),
    "data": ("cnnspec.cli.data", "data", "Download data sets (MNIST, CIFAR-10); show one's sizes."),
    "validate": ("cnnspec.cli.analyze", "validate", "Check a spec's structure; print OK."),
    "layers": ("cnnspec.cli.layers", "layers", "The layer and block names, one example each."),
    "zoo": ("cnnspec.cli.zoo", "zoo", "List the shipped specs with parameters and MACs."),
    "compare": ("cnnspec.cli.compare", "compare", "Specs side by side: size, MACs, memory."),
    "run": ("cnnspec.cli.run", "run", "Build in NumPy, time a forward/backward pass per layer."),
    "train": ("cnnspec.cli.train", "train", "Train a spec in NumPy: checkpoints, curves, test score."),
    "evaluate": ("cnnspec.cli.evaluate", "evaluate", "Accuracy, per-class scores, confusion matrix of a checkpoint."),
    "predict": ("cnnspec.cli.predict", "predict", "Top-k classes of images under a checkpoint."),
    "optimizers": ("cnnspec.cli.optimizers", "optimizers", "The 7 optimisers' learning curves on one plot."),
    "calc": ("cnnspec.cli.calc", "calc", "Output size, parameters, receptive field: worked out."),
    "conv": ("cnnspec.cli.handwork", "conv", "Convolve small matrices by hand, each window shown."),
    "pool": ("cnnspec.cli.handwork", "pool", "Max, average or stochastic pooling by hand."),
    "explain": ("cnnspec.cli.explain", "explain", "Every number of an analysis as a derivation."),
    "check": ("cnnspec.cli.check", "check", "Grade an answer table (or a folder of them)."),
    "exercise": ("cnnspec.cli.exercise", "exercise", "One exercise per student: sheets, keys, autograder."),
    "draw": ("cnnspec.cli.draw", "draw", "Draw the network as boxes to scale (PNG, SVG)."),
    "export": ("cnnspec.cli.export", "export", "Write a spec as PyTorch code or an ONNX model."),
    "schema": ("cnnspec.cli.export", "schema", "Print the JSON Schema of YAML spec files."),
    "import": ("cnnspec.cli.export", "import_", "Read an ONNX model or torch module into a spec."),
    "show-filters": ("cnnspec.cli.filters", "show_filters", "Draw a trained conv layer's filters."),
    "feature-maps": ("cnnspec.cli.filters", "feature_maps", "Draw one layer's feature maps for an image."),
}


class LazyGroup(click.Group):
    """A group that imports a sub-command's module only when that command runs."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module_name, attr, _ = COMMANDS[cmd_name]
        return getattr(importlib.import_module(module_name), attr)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][2]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def invoke(self, ctx: click.Context) -> Any:
        from cnnspec.errors import CnnspecError

        try:
            return super().invoke(ctx)
        except CnnspecError as exc:
            from cnnspec.render.safe_text import printable

            click.echo(printable(exc.render()), err=True)
            ctx.exit(1)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            ctx.exit(130)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except BrokenPipeError:  # the reader of stdout left (`cnnspec ... | head`): stop quietly
            from cnnspec.cli.failures import silence_stdout

            silence_stdout()
            ctx.exit(1)
        except Exception as exc:
            if os.environ.get("CNNSPEC_DEBUG"):
                raise
            from cnnspec.cli.failures import describe
            from cnnspec.render.safe_text import printable

            # the machine's failures get their fix; anything else is a defect in cnnspec
            message = describe(exc) or printable(
                f"internal error: {type(exc).__name__}: {exc}; this is a bug in cnnspec, "
                "please report it (set CNNSPEC_DEBUG=1 to see the traceback)")
            click.echo(message, err=True)
            ctx.exit(1)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="cnnspec")
def cli() -> None:
    """Write a convolutional network down, check it, size it, train it in NumPy.

    A SPEC is a YAML file, a zoo name (see `cnnspec zoo`) or a network string.

    \b
    Examples:
      cnnspec analyze specs/alexnet.yaml
      cnnspec analyze "Conv(5x5,6)-ReLU-Pool(2)-Conv(5x5,16)-ReLU-Pool(2)-FC(120)-FC(10)-SM" --input 32x32x1
      cnnspec validate "Conv-Pool-Conv-Pool-Conv-FC-FC (SM)"
    """


def main() -> None:
    """Console-script entry point."""
    try:
        cli(prog_name="cnnspec")
    finally:
        try:  # Python's own flush at exit would report a closed pipe as an ignored error
            sys.stdout.flush()
        except BrokenPipeError:
            from cnnspec.cli.failures import silence_stdout

            silence_stdout()
            sys.exit(1)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
