"""``cnnspec export``, ``cnnspec schema`` and ``cnnspec import``: bridges to other tools.

Room: consumers (cli). torch and onnx are imported only when a command needs them.
"""

from __future__ import annotations

from pathlib import Path

import click

from cnnspec.cli.options import (
    emit,
    load_spec,
    memory_option,
    quiet_option,
    spec_argument,
    spec_options,
)
from cnnspec.errors import ExportError
from cnnspec.render.safe_text import safe_filename

TORCH_HINT = "install PyTorch (https://pytorch.org/get-started) to write a state dict"


def _say(quiet: bool, message: str) -> None:
    if not quiet:
        click.echo(message, err=True)


@click.command()
@spec_argument
@spec_options
@click.option("--to", "target", type=click.Choice(["pytorch", "onnx"]), required=True,
              help="pytorch: Python source of an nn.Module; onnx: an ONNX model file.")
@click.option("--output", "-o", type=click.Path(dir_okay=False), default=None,
              help="Write to this file (atomically); required for onnx.")
@click.option("--weights", "weights", type=click.Path(dir_okay=False), default=None,
              metavar="CKPT", help="A cnnspec checkpoint (.npz): onnx takes its weights; "
              "pytorch also writes them as a state dict (--state-dict).")
@click.option("--state-dict", "state_dict", type=click.Path(dir_okay=False), default=None,
              help="Where --weights goes for pytorch (default: beside -o, with .pt).")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Seed of the random He-init weights of an onnx export without --weights.")
@click.option("--train-script", "train_script", type=click.Path(dir_okay=False), default=None,
              metavar="FILE", help="pytorch: also write a DistributedDataParallel training "
              "script for the network (run it with torchrun).")
@quiet_option
@memory_option
def export(spec: str, input_shape: str | None, conventions: str | None, target: str,
           output: str | None, weights: str | None, state_dict: str | None, seed: int,
           train_script: str | None, quiet: bool) -> None:
    """Write SPEC as a PyTorch module or an ONNX model.

    PyTorch: readable code, one nn.Module class with blocks as sub-modules and each
    layer's output shape in a comment; `load_cnnspec_state(model, np.load("best.npz"))`
    in the file loads a training checkpoint (auxiliary heads included). ONNX (needs `pip install 'cnnspec[onnx]'`): the inference
    graph, checked with onnx.checker, weights from --weights or seeded random ones.
    --train-script writes one self-contained file (module, spec, training loop) for
    torchrun: cnnspec's data sets, DistributedSampler, cnnspec's optimisers and schedules
    by name, a checkpoint per epoch, --init-from a cnnspec checkpoint.

    \b
    Examples:
      cnnspec export resnet18 --to pytorch -o resnet18.py
      cnnspec export lenet5 --to pytorch -o lenet5.py --weights runs/lenet5/best.npz
      cnnspec export lenet5 --to onnx -o lenet5.onnx --weights runs/lenet5/best.npz
      cnnspec export "Conv(3x3,16,p=1)-ReLU-GAP-FC(10)" -i 32x32x3 --to onnx -o tiny.onnx
      cnnspec export lenet5 --to pytorch --train-script train.py   # then: torchrun --nproc_per_node=2 train.py
    """
    loaded = load_spec(spec, input_shape, conventions)
    network = loaded.network
    report = loaded.report()
    arrays = None
    if weights:
        from cnnspec.export.weights import checkpoint_arrays

        arrays = checkpoint_arrays(weights, network, report)
    if train_script and target != "pytorch":
        raise click.UsageError("--train-script goes with --to pytorch")
    if train_script:
        from cnnspec.export.train_script import generate_train_script

        emit(generate_train_script(network, report), train_script)
        _say(quiet, f"wrote {train_script}; run it with: torchrun --nproc_per_node=2 "
                    f"{train_script} --data digits")
        if output is None and arrays is None:
            return
    if target == "pytorch":
        from cnnspec.export.torch_code import generate_torch

        emit(generate_torch(network, report), output)
        if output:
            _say(quiet, f"wrote {output}")
        if arrays is not None:
            target_path = state_dict or (str(Path(output).with_suffix(".pt")) if output
                                         else f"{safe_filename(network.name)}.pt")
            _write_state_dict(network, report, arrays, target_path)
            _say(quiet, f"wrote {target_path} (load it with model.load_state_dict)")
        return
    if not output:
        raise click.UsageError("--to onnx writes a binary file: give -o FILE.onnx")
    from cnnspec.export.onnx_export import build_onnx, require_onnx
    from cnnspec.export.weights import initial_arrays

    require_onnx()
    from cnnspec.engine.budget import require_memory

    weights_bytes = report.totals.params * 4  # float32
    require_memory({"weights": weights_bytes, "ONNX model and its bytes": 2 * weights_bytes},
                   f"exporting {network.name} to ONNX",
                   "use fewer or narrower layers, or a smaller --input")
    model = build_onnx(network, report, arrays if arrays is not None else
                       initial_arrays(network, report, seed))
    from cnnspec.atomic import write_with

    write_with(output, lambda handle: handle.write(model.SerializeToString()), suffix=".onnx")
    source = f"weights from {weights}" if weights else f"random He-init weights (seed {seed})"
    _say(quiet, f"wrote {output}: {len(model.graph.node)} nodes, {source}")


def _write_state_dict(network, report, arrays, path: str) -> None:
    try:
        import torch
    except ImportError:
        raise ExportError("writing a state dict needs PyTorch", hint=TORCH_HINT) from None
    from cnnspec.atomic import write_with
    from cnnspec.export.torch_code import torch_state_dict

    state = torch_state_dict(network, report, arrays)
    write_with(path, lambda handle: torch.save(state, handle), suffix=".pt")


@click.command()
@click.option("--output", "-o", type=click.Path(dir_okay=False), default=None,
              help="Write to this file (atomically) instead of stdout.")
@quiet_option
def schema(output: str | None, quiet: bool) -> None:
    """Print the JSON Schema of cnnspec's YAML spec files.

    Editors use it to complete and check specs: with VS Code's YAML extension, put
    `# yaml-language-server: $schema=./cnnspec.schema.json` at the top of a spec.

    \b
    Examples:
      cnnspec schema > cnnspec.schema.json
      cnnspec schema -o .vscode/cnnspec.schema.json
    """
    import json

    from cnnspec.export.schema import spec_schema

    emit(json.dumps(spec_schema(), indent=2) + "\n", output)
    if output:
        _say(quiet, f"wrote {output}")


@click.command("import")
@click.argument("model", required=False, metavar="MODEL.onnx")
@click.option("--from-torch", "torch_target", default=None, metavar="FILE.py:NAME",
              help="Read a PyTorch nn.Module (FILE.py:NAME or package.module:NAME; a class "
              "or function is called without arguments) instead of an ONNX file.")
@click.option("--input", "-i", "input_shape", default=None, metavar="HxWxC",
              help="Input shape for --from-torch, e.g. 224x224x3.")
@click.option("--name", default=None, help="The spec's name (default: the model's).")
@click.option("--output", "-o", type=click.Path(dir_okay=False), default=None,
              help="Write the YAML spec to this file (atomically) instead of stdout.")
@quiet_option
def import_(model: str | None, torch_target: str | None, input_shape: str | None,
            name: str | None, output: str | None, quiet: bool) -> None:
    """Read an ONNX model (or a PyTorch module) back into a cnnspec YAML spec.

    Each operation becomes the cnnspec layer it computes; an activation an exporter
    wrote as several operations (SiLU as x * Sigmoid(x), GELU with Erf) becomes one
    layer; branches that meet at an add become residual blocks, at a concatenation
    concat blocks, at a multiplication gates. The spec is analysed before it is
    written, and its parameter count must equal the model's.

    \b
    Examples:
      cnnspec import resnet18.onnx -o resnet18.yaml
      cnnspec import --from-torch lenet5.py:Model --input 32x32x1 -o lenet5.yaml
      cnnspec import --from-torch torchvision.models:resnet18 -i 224x224x3 > r18.yaml
    """
    if (model is None) == (torch_target is None):
        raise click.UsageError("give either MODEL.onnx or --from-torch FILE.py:NAME")
    if torch_target is not None:
        if input_shape is None:
            raise click.UsageError("--from-torch needs --input HxWxC (a module has no "
                                   "input size of its own)")
        from cnnspec.errors import Location
        from cnnspec.export.torch_import import read_torch
        from cnnspec.spec.load import parse_input

        try:
            import torch  # noqa: F401
        except ImportError:
            raise ExportError("reading a PyTorch module needs PyTorch",
                              hint="install PyTorch (https://pytorch.org/get-started)") from None
        imported = read_torch(torch_target, parse_input(input_shape, Location("--input")), name)
    else:
        from cnnspec.export.onnx_import import read_onnx

        assert model is not None
        imported = read_onnx(model, name)
    emit(imported.text, output)
    totals = imported.report.totals
    _say(quiet, f"{imported.report.name}: {totals.trainable_params:,} trainable parameters, "
                f"output {'x'.join(map(str, imported.report.leaves()[-1].output))}"
                + (f"; wrote {output}" if output else ""))
