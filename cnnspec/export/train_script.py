"""A DistributedDataParallel training script for a spec, run with ``torchrun``.

Room: consumers (export); reads the spec tree, the analysis and the engine's training
defaults (optimiser names, learning rates, schedules), and writes Python source.

The script is one file: the module of :func:`~cnnspec.export.torch_code.generate_torch`,
the spec as JSON, and a training loop. cnnspec itself (``pip install 'cnnspec[train]'``)
loads, splits and standardises the data exactly as ``cnnspec train`` does, gives the
initial weights (``build(seed)``: the same start as ``cnnspec train --seed``), and writes
each epoch's weights as a cnnspec checkpoint that ``cnnspec evaluate`` reads.
"""

from __future__ import annotations

import json

from cnnspec.analysis import Report
from cnnspec.engine.train.config import (
    DEFAULT_BATCH,
    DEFAULT_EPOCHS,
    DEFAULT_LRS,
    DEFAULT_OPTIMIZER,
    DEFAULT_SCHEDULE,
    DEFAULT_VAL_SPLIT,
    SCHEDULES,
)
from cnnspec.export.torch_code import generate_torch
from cnnspec.spec.tree import Network

__all__ = ["generate_train_script"]

FUTURE = "from __future__ import annotations\n"


def generate_train_script(network: Network, report: Report) -> str:
    """The source of ``train.py`` for ``network``: module, spec and DDP training loop."""
    module = generate_torch(network, report)
    body = module.split(FUTURE, 1)[1]  # the module without its docstring
    header = HEADER.replace("NAME", network.name)
    constants = "\n".join([
        "",
        "# ---- training (cnnspec export --train-script) " + "-" * 40,
        "",
        f"SPEC_JSON = {network.model_dump_json()!r}",
        f"DEFAULT_LRS = {dict(DEFAULT_LRS)!r}",
        f"DEFAULTS = {json.dumps(_defaults())}",
        f"SCHEDULES = {tuple(SCHEDULES)!r}",
        "",
    ])
    return header + FUTURE + TRAIN_IMPORTS + body.rstrip() + "\n\n" + constants + \
        LOOP.lstrip("\n")


def _defaults() -> dict[str, object]:
    return {"epochs": DEFAULT_EPOCHS, "batch": DEFAULT_BATCH, "optimizer": DEFAULT_OPTIMIZER,
            "schedule": DEFAULT_SCHEDULE, "val_split": DEFAULT_VAL_SPLIT}


HEADER = '''"""Train NAME with PyTorch DistributedDataParallel (cnnspec export --train-script).

Run with torchrun, one process per GPU (nccl), or several on a CPU (gloo):

    torchrun --nproc_per_node=2 train.py --data digits --epochs 10
    torchrun --nproc_per_node=4 train.py --data mnist:~/data/mnist --optimizer adam --out runs/ddp
    torchrun --nproc_per_node=2 train.py --init-from runs/NAME/best.npz --epochs 5

Needs torch and cnnspec (`pip install 'cnnspec[train]'`): cnnspec loads, splits and
standardises the data as `cnnspec train` does (digits, mnist[:DIR], cifar10[:DIR],
npz:FILE), and gives the initial weights of `cnnspec train --seed S`. The optimisers and
schedules are cnnspec's, by name. --batch is per process (the effective batch is that
times the number of processes). Every epoch rank 0 evaluates the test part and writes
OUT/last.pt (model, optimiser, epoch; --resume continues from it), OUT/last.npz (a
cnnspec checkpoint: `cnnspec evaluate OUT/last.npz`) and a line of OUT/metrics.jsonl.
"""

'''

TRAIN_IMPORTS = '''
import argparse
import json
import math
import os
import time
from pathlib import Path

import numpy as np
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, TensorDataset
from torch.utils.data.distributed import DistributedSampler
'''

LOOP = '''
def cnnspec_model(seed: int) -> Any:
    """The spec built by cnnspec's NumPy engine (initial weights, data fitting, checkpoints)."""
    from cnnspec.engine.model import build
    from cnnspec.spec.tree import Network

    return build(Network.model_validate_json(SPEC_JSON), seed=seed)


def arrays_from_torch(module: nn.Module) -> dict[str, np.ndarray]:
    """cnnspec arrays ("{row name}.{param}") from the module's state dict."""
    rows = {path: row for row, path in CNNSPEC_NAMES.items()}
    arrays: dict[str, np.ndarray] = {}
    for key, tensor in module.state_dict().items():
        path, _, param = key.rpartition(".")
        if path not in rows or param == "num_batches_tracked":
            continue  # auxiliary heads and PyTorch's own counters
        value = tensor.detach().cpu()
        if rows[path] in TRANSPOSED and param == "weight":
            value = value.T  # (out, in) -> cnnspec's (in, out)
        arrays[f"{rows[path]}.{param}"] = value.contiguous().numpy()
    return arrays


def logits_only(module: nn.Module) -> None:
    """Replace a final softmax by nn.Identity: the loss takes logits."""
    last_name, last = None, None
    for name, child in module.named_children():
        last_name, last = name, child
    if isinstance(last, nn.Softmax):
        setattr(module, last_name, nn.Identity())


def make_optimizer(name: str, params: Any, lr: float, weight_decay: float) -> Any:
    """cnnspec's optimisers by name, with cnnspec's hyper-parameters."""
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, weight_decay=weight_decay)
    if name in ("momentum", "nesterov"):
        return torch.optim.SGD(params, lr=lr, momentum=0.9, nesterov=name == "nesterov",
                               weight_decay=weight_decay)
    if name == "adagrad":
        return torch.optim.Adagrad(params, lr=lr, eps=1e-8, weight_decay=weight_decay)
    if name == "adadelta":
        return torch.optim.Adadelta(params, lr=lr, rho=0.9, eps=1e-6, weight_decay=weight_decay)
    if name == "rmsprop":  # cnnspec's gamma 0.9 is PyTorch's alpha
        return torch.optim.RMSprop(params, lr=lr, alpha=0.9, eps=1e-8, weight_decay=weight_decay)
    return torch.optim.Adam(params, lr=lr, betas=(0.9, 0.999), eps=1e-8,
                            weight_decay=weight_decay)


def schedule_factor(schedule: str, epoch: int, epochs: int, gamma: float = 0.1) -> float:
    """cnnspec's schedules: eta_e / eta_0 for epoch e (0-based) of E."""
    if schedule == "step":
        return gamma ** (epoch // max(1, epochs // 3))
    if schedule == "cosine":
        return 0.5 * (1.0 + math.cos(math.pi * epoch / epochs))
    return 1.0


def load_data(args: argparse.Namespace, model: Any) -> tuple[Any, Any, dict[str, Any]]:
    """(train split, test part, checkpoint info) as `cnnspec train` prepares them."""
    from cnnspec.engine.train.session import DataChoice, prepare_data

    choice = DataChoice(args.data, args.resize, args.method)
    prepared = prepare_data(model, choice, args.val_split, args.seed, True)
    norm = prepared.norm
    info = {"data": {**choice.to_dict(), "name": prepared.dataset.name,
                     "source": prepared.dataset.source, "notes": list(prepared.dataset.notes),
                     "normalize": norm.to_dict() if norm else None},
            "classes": list(prepared.split.classes)}
    return prepared.split, (prepared.x_test, prepared.dataset.y_test), info


def evaluate(module: nn.Module, x: np.ndarray, y: np.ndarray, device: Any) -> tuple[float, float]:
    """(mean cross-entropy, accuracy) of ``module`` on ``x``, ``y``."""
    module.eval()
    loss, right = 0.0, 0
    with torch.no_grad():
        for start in range(0, len(x), 512):
            xb = torch.as_tensor(x[start:start + 512]).to(device)
            yb = torch.as_tensor(y[start:start + 512]).to(device)
            out = module(xb)
            loss += float(nn.functional.cross_entropy(out, yb, reduction="sum"))
            right += int((out.argmax(1) == yb).sum())
    module.train()
    return loss / max(len(x), 1), right / max(len(x), 1)


def save_atomically(write: Any, path: Path) -> None:
    """Write through a temporary file in the same folder, then rename it into place."""
    tmp = path.with_name(f".{path.name}.tmp")
    write(tmp)
    os.replace(tmp, path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="digits",
                        help="digits, mnist[:DIR], cifar10[:DIR] or npz:FILE")
    parser.add_argument("--resize", action="store_true", help="fit other image sizes")
    parser.add_argument("--method", default="bilinear", help="bilinear, nearest, area or pad")
    parser.add_argument("--epochs", type=int, default=DEFAULTS["epochs"])
    parser.add_argument("--batch", type=int, default=DEFAULTS["batch"], help="per process")
    parser.add_argument("--optimizer", choices=sorted(DEFAULT_LRS),
                        default=DEFAULTS["optimizer"])
    parser.add_argument("--lr", type=float, default=None,
                        help="default: cnnspec's for the optimiser")
    parser.add_argument("--schedule", choices=SCHEDULES, default=DEFAULTS["schedule"])
    parser.add_argument("--weight-decay", type=float, default=0.0)
    parser.add_argument("--clip-norm", type=float, default=None)
    parser.add_argument("--val-split", type=float, default=DEFAULTS["val_split"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="runs/ddp", help="checkpoint folder")
    parser.add_argument("--init-from", default=None, metavar="CKPT",
                        help="start from the weights of a cnnspec checkpoint (.npz)")
    parser.add_argument("--resume", action="store_true", help="continue from OUT/last.pt")
    args = parser.parse_args()

    cuda = torch.cuda.is_available()
    dist.init_process_group("nccl" if cuda else "gloo")  # torchrun sets rank and world size
    rank, world = dist.get_rank(), dist.get_world_size()
    local_rank = int(os.environ.get("LOCAL_RANK", 0))
    device = torch.device(f"cuda:{local_rank}" if cuda else "cpu")
    if cuda:
        torch.cuda.set_device(device)
    torch.manual_seed(args.seed)
    out = Path(args.out)
    if rank == 0:
        out.mkdir(parents=True, exist_ok=True)

    reference = cnnspec_model(args.seed)
    split, (x_test, y_test), info = load_data(args, reference)
    net = Model()
    if args.init_from:
        with np.load(args.init_from, allow_pickle=False) as ckpt:
            arrays = {k.split("/", 1)[1]: ckpt[k] for k in ckpt.files
                      if k.startswith(("param/", "buffer/"))}
    else:
        arrays = reference.state_dict()  # cnnspec's initial weights for --seed
    load_cnnspec_state(net, arrays)
    logits_only(net)
    net = nn.SyncBatchNorm.convert_sync_batchnorm(net).to(device)  # no-op without BN
    model = DistributedDataParallel(net, device_ids=[local_rank] if cuda else None)

    data = TensorDataset(torch.as_tensor(split.x_train), torch.as_tensor(split.y_train))
    sampler = DistributedSampler(data, shuffle=True, seed=args.seed)  # a shard per process
    loader = DataLoader(data, batch_size=args.batch, sampler=sampler)
    lr = args.lr if args.lr is not None else DEFAULT_LRS[args.optimizer]
    optimizer = make_optimizer(args.optimizer, model.parameters(), lr, args.weight_decay)
    start_epoch = 0
    if args.resume:
        state = torch.load(out / "last.pt", map_location=device, weights_only=True)
        model.module.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        start_epoch = int(state["epoch"])

    def report(epoch: int, train_loss: float | None, seconds: float) -> None:
        test_loss, accuracy = evaluate(model.module, x_test, y_test, device)
        row = {"epoch": epoch, "train_loss": train_loss, "test_loss": test_loss,
               "test_accuracy": accuracy, "seconds": seconds, "processes": world}
        print(json.dumps(row), flush=True)
        with open(out / "metrics.jsonl", "a") as handle:
            handle.write(json.dumps(row) + "\\n")

    if rank == 0 and start_epoch == 0:
        report(0, None, 0.0)  # the loss before training
    for epoch in range(start_epoch, args.epochs):
        sampler.set_epoch(epoch)  # a different shuffle every epoch
        for group in optimizer.param_groups:
            group["lr"] = lr * schedule_factor(args.schedule, epoch, args.epochs)
        started, total, count = time.perf_counter(), 0.0, 0
        for xb, yb in loader:
            xb, yb = xb.to(device), yb.to(device)
            optimizer.zero_grad()
            output = model(xb)
            if isinstance(output, tuple):  # auxiliary heads in training mode
                output, aux = output
                loss = nn.functional.cross_entropy(output, yb) + 0.3 * sum(
                    nn.functional.cross_entropy(a, yb) for a in aux)
            else:
                loss = nn.functional.cross_entropy(output, yb)
            loss.backward()  # gradients are averaged across processes here
            if args.clip_norm:
                nn.utils.clip_grad_norm_(model.parameters(), args.clip_norm)
            optimizer.step()
            total, count = total + float(loss.detach()) * len(yb), count + len(yb)
        sums = torch.tensor([total, count], dtype=torch.float64)
        dist.all_reduce(sums)  # the epoch's mean training loss over every process
        if rank == 0:
            reference.load_state_dict(arrays_from_torch(model.module))
            from cnnspec.engine.checkpoint import save_checkpoint

            save_checkpoint(out / "last.npz", reference, info={**info, "epoch": epoch + 1})
            state = {"model": model.module.state_dict(), "optimizer": optimizer.state_dict(),
                     "epoch": epoch + 1}
            save_atomically(lambda p, s=state: torch.save(s, p), out / "last.pt")
            report(epoch + 1, float(sums[0] / sums[1]), time.perf_counter() - started)
        dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
'''
