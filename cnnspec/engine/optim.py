"""Optimisers, written exactly as the lecture (SEEDS.md, "Training") states them.

Room: ``cnnspec/engine``; imports NumPy and :mod:`cnnspec.errors` only.

Every optimiser has the same calling convention::

    opt = Adam(lr=1e-3, weight_decay=1e-4, clip_norm=5.0, frozen={"conv1.w"})
    opt.step(params, grads)      # dict[str, ndarray] each; params updated in place
    np.savez(path, **opt.state_dict())
    opt.load_state_dict(dict(np.load(path)))

``step`` first forms the gradient each rule sees, without touching ``grads``:

1. parameters named in ``frozen`` are skipped entirely (no update, no state,
   not counted in the clipping norm);
2. global norm clipping: if ``||g||_2`` over all trainable gradients exceeds
   ``clip_norm``, every gradient is scaled by ``clip_norm / ||g||_2``;
3. L2 weight decay adds ``weight_decay * w`` to the (clipped) gradient.

``state_dict()`` holds plain arrays only: ``"t"`` (steps taken, 0-d int)
and ``"<slot>/<param name>"`` per accumulator, e.g. ``"velocity/fc1.w"``.
"""

from __future__ import annotations

import difflib
import inspect
import math
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from typing import ClassVar

import numpy as np

from cnnspec.errors import EngineError

__all__ = [
    "OPTIMIZERS",
    "AdaDelta",
    "AdaGrad",
    "Adam",
    "GradientDescent",
    "Momentum",
    "Nesterov",
    "Optimizer",
    "RMSprop",
    "make_optimizer",
]


def _did_you_mean(name: str, known: Iterable[str]) -> str | None:
    close = difflib.get_close_matches(name, list(known), n=1)
    return f"did you mean {close[0]!r}?" if close else None


def _check_range(name: str, value: float, low: float, high: float, high_open: bool) -> None:
    ok = low <= value < high if high_open else low <= value <= high
    if not (math.isfinite(value) and ok):
        bracket = ")" if high_open else "]"
        raise EngineError(f"{name} must be in [{low}, {high}{bracket}, got {value}")


def _check_positive(name: str, value: float) -> None:
    if not (math.isfinite(value) and value > 0):
        raise EngineError(f"{name} must be > 0, got {value}")


class Optimizer(ABC):
    """Shared machinery: validation, frozen/clip/decay, state. Subclasses set
    ``slots`` (accumulator names) and implement ``_update(name, w, g)``.
    """

    slots: ClassVar[tuple[str, ...]] = ()

    def __init__(
        self,
        lr: float,
        *,
        weight_decay: float = 0.0,
        clip_norm: float | None = None,
        frozen: Iterable[str] = (),
    ) -> None:
        _check_positive("lr", lr)
        if not (math.isfinite(weight_decay) and weight_decay >= 0):
            raise EngineError(f"weight_decay must be >= 0, got {weight_decay}")
        if clip_norm is not None:
            _check_positive("clip_norm", clip_norm)
        if isinstance(frozen, str):
            raise EngineError("frozen must be a collection of parameter names, not one string")
        self.lr = float(lr)
        self.weight_decay = float(weight_decay)
        self.clip_norm = None if clip_norm is None else float(clip_norm)
        self.frozen = frozenset(frozen)
        self.t = 0
        self._state: dict[str, dict[str, np.ndarray]] = {slot: {} for slot in self.slots}

    def _effective_grads(
        self, params: Mapping[str, np.ndarray], grads: Mapping[str, np.ndarray]
    ) -> dict[str, np.ndarray]:
        for name in self.frozen:
            if name not in params:
                raise EngineError(
                    f"frozen parameter {name!r} is not a parameter",
                    hint=_did_you_mean(name, params),
                )
        for name in grads:
            if name not in params:
                raise EngineError(
                    f"gradient for unknown parameter {name!r}", hint=_did_you_mean(name, params)
                )
        active: dict[str, np.ndarray] = {}
        for name, w in params.items():
            if name in self.frozen:
                continue
            if name not in grads:
                raise EngineError(f"no gradient for trainable parameter {name!r}")
            g = grads[name]
            if g.shape != w.shape:
                raise EngineError(f"gradient of {name!r} has shape {g.shape}, expected {w.shape}")
            active[name] = g
        if self.clip_norm is not None:
            total = math.sqrt(
                sum(float(np.sum(np.square(g, dtype=np.float64))) for g in active.values())
            )
            if total > self.clip_norm:
                scale = self.clip_norm / total
                active = {name: g * g.dtype.type(scale) for name, g in active.items()}
        if self.weight_decay:
            active = {name: g + self.weight_decay * params[name] for name, g in active.items()}
        return active

    def step(self, params: Mapping[str, np.ndarray], grads: Mapping[str, np.ndarray]) -> None:
        """Update every non-frozen parameter in place; ``grads`` is not modified."""
        effective = self._effective_grads(params, grads)
        self.t += 1
        for name, g in effective.items():
            self._update(name, params[name], g)

    @abstractmethod
    def _update(self, name: str, w: np.ndarray, g: np.ndarray) -> None:
        """Apply this optimiser's update rule to ``w`` in place, given its gradient ``g``."""

    def _slot(self, slot: str, name: str, like: np.ndarray) -> np.ndarray:
        """The accumulator ``slot`` of parameter ``name``, created as zeros."""
        store = self._state[slot]
        if name not in store:
            store[name] = np.zeros_like(like)
        return store[name]

    def state_dict(self) -> dict[str, np.ndarray]:
        """Copies of all state as plain arrays (np.savez-able, no pickle)."""
        state = {"t": np.array(self.t, dtype=np.int64)}
        for slot, arrays in self._state.items():
            for name, arr in arrays.items():
                state[f"{slot}/{name}"] = arr.copy()
        return state

    def load_state_dict(self, state: Mapping[str, np.ndarray]) -> None:
        """Replace the state with (copies of) ``state`` from :meth:`state_dict`."""
        if "t" not in state:
            raise EngineError(f"{type(self).__name__} state has no step count 't'")
        fresh: dict[str, dict[str, np.ndarray]] = {slot: {} for slot in self.slots}
        for key, arr in state.items():
            if key == "t":
                continue
            slot, sep, name = key.partition("/")
            if not sep or slot not in fresh:
                raise EngineError(
                    f"unexpected key {key!r} in {type(self).__name__} state",
                    hint=f"expected 't' and '<slot>/<param>' with slot in {list(self.slots)}",
                )
            fresh[slot][name] = np.array(arr, copy=True)
        self.t = int(state["t"])
        self._state = fresh


class GradientDescent(Optimizer):
    """Plain gradient descent: ``w <- w - eta * g``."""

    def _update(self, name: str, w: np.ndarray, g: np.ndarray) -> None:
        w -= self.lr * g


class Momentum(Optimizer):
    """Momentum, lecture form: ``D_t = a D_{t-1} + eta g``, ``w <- w - D_t``.

    (PyTorch's ``v = a v + g; w -= eta v`` is the same with ``D = eta v`` for a
    constant eta.)
    """

    slots = ("velocity",)

    def __init__(
        self,
        lr: float = 0.01,
        *,
        momentum: float = 0.9,
        weight_decay: float = 0.0,
        clip_norm: float | None = None,
        frozen: Iterable[str] = (),
    ) -> None:
        super().__init__(lr, weight_decay=weight_decay, clip_norm=clip_norm, frozen=frozen)
        _check_range("momentum", momentum, 0.0, 1.0, high_open=True)
        self.momentum = float(momentum)

    def _update(self, name: str, w: np.ndarray, g: np.ndarray) -> None:
        d = self._slot("velocity", name, w)
        d *= self.momentum
        d += self.lr * g
        w -= d


class Nesterov(Momentum):
    """Nesterov momentum: the gradient is taken at the look-ahead point.

    Lecture form: ``D_t = a D_{t-1} + eta grad E(w_{t-1} - a D_{t-1})``,
    ``w_t = w_{t-1} - D_t``. That needs the gradient at a point other than
    the parameters; store instead the look-ahead ``u_t = w_t - a D_t``. Then
    the gradient ``g`` at ``u_{t-1}`` is the one backprop gives, and::

        D_t = a D_{t-1} + eta g
        u_t = u_{t-1} - eta g - a D_t

    (from ``u_t = w_{t-1} - D_t - a D_t`` and ``w_{t-1} = u_{t-1} + a D_{t-1}``).
    The parameters held are ``u``; ``w = u + a D`` differs by ``a D``, which
    vanishes as training converges. This is PyTorch's ``nesterov=True`` with
    ``D = eta v``.
    """

    def _update(self, name: str, w: np.ndarray, g: np.ndarray) -> None:
        d = self._slot("velocity", name, w)
        step = self.lr * g
        d *= self.momentum
        d += step
        w -= step + self.momentum * d


class AdaGrad(Optimizer):
    """AdaGrad: ``G <- G + g^2``, ``w <- w - eta / sqrt(G + eps) * g`` (eps inside the root)."""

    slots = ("sum_sq",)

    def __init__(
        self,
        lr: float = 0.01,
        *,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        clip_norm: float | None = None,
        frozen: Iterable[str] = (),
    ) -> None:
        super().__init__(lr, weight_decay=weight_decay, clip_norm=clip_norm, frozen=frozen)
        _check_positive("eps", eps)
        self.eps = float(eps)

    def _update(self, name: str, w: np.ndarray, g: np.ndarray) -> None:
        big_g = self._slot("sum_sq", name, w)
        big_g += g * g
        w -= self.lr * g / np.sqrt(big_g + self.eps)


class AdaDelta(Optimizer):
    """AdaDelta (Zeiler 2012), with ``RMS[x] = sqrt(E[x^2] + eps)``::

        E[g^2]_t  = rho E[g^2]_{t-1} + (1 - rho) g^2
        dw_t      = -RMS[dw]_{t-1} / RMS[g]_t * g
        E[dw^2]_t = rho E[dw^2]_{t-1} + (1 - rho) dw_t^2
        w        <- w + eta * dw_t

    ``eta`` (``lr``) only scales the applied step and defaults to 1.0, the
    original method; ``E[dw^2]`` accumulates the unscaled ``dw`` (as PyTorch).
    """

    slots = ("sq_avg", "delta_sq_avg")

    def __init__(
        self,
        lr: float = 1.0,
        *,
        rho: float = 0.9,
        eps: float = 1e-6,
        weight_decay: float = 0.0,
        clip_norm: float | None = None,
        frozen: Iterable[str] = (),
    ) -> None:
        super().__init__(lr, weight_decay=weight_decay, clip_norm=clip_norm, frozen=frozen)
        _check_range("rho", rho, 0.0, 1.0, high_open=True)
        _check_positive("eps", eps)
        self.rho, self.eps = float(rho), float(eps)

    def _update(self, name: str, w: np.ndarray, g: np.ndarray) -> None:
        eg = self._slot("sq_avg", name, w)
        edw = self._slot("delta_sq_avg", name, w)
        eg *= self.rho
        eg += (1 - self.rho) * g * g
        dw = -np.sqrt(edw + self.eps) / np.sqrt(eg + self.eps) * g
        edw *= self.rho
        edw += (1 - self.rho) * dw * dw
        w += self.lr * dw


class RMSprop(Optimizer):
    """RMSprop: ``E[g^2] <- gamma E[g^2] + (1 - gamma) g^2``, ``w <- w - eta / sqrt(E + eps) g``.

    eps sits inside the root, as in the lecture (PyTorch adds it outside);
    gamma defaults to Hinton's 0.9 (PyTorch's ``alpha`` defaults to 0.99).
    """

    slots = ("sq_avg",)

    def __init__(
        self,
        lr: float = 0.01,
        *,
        gamma: float = 0.9,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        clip_norm: float | None = None,
        frozen: Iterable[str] = (),
    ) -> None:
        super().__init__(lr, weight_decay=weight_decay, clip_norm=clip_norm, frozen=frozen)
        _check_range("gamma", gamma, 0.0, 1.0, high_open=True)
        _check_positive("eps", eps)
        self.gamma, self.eps = float(gamma), float(eps)

    def _update(self, name: str, w: np.ndarray, g: np.ndarray) -> None:
        e = self._slot("sq_avg", name, w)
        e *= self.gamma
        e += (1 - self.gamma) * g * g
        w -= self.lr * g / np.sqrt(e + self.eps)


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015) with bias correction, t = 1, 2, ...::

    m_t = beta1 m_{t-1} + (1 - beta1) g        mhat = m_t / (1 - beta1^t)
    v_t = beta2 v_{t-1} + (1 - beta2) g^2      vhat = v_t / (1 - beta2^t)
    w  <- w - eta * mhat / (sqrt(vhat) + eps)
    """

    slots = ("m", "v")

    def __init__(
        self,
        lr: float = 1e-3,
        *,
        beta1: float = 0.9,
        beta2: float = 0.999,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        clip_norm: float | None = None,
        frozen: Iterable[str] = (),
    ) -> None:
        super().__init__(lr, weight_decay=weight_decay, clip_norm=clip_norm, frozen=frozen)
        _check_range("beta1", beta1, 0.0, 1.0, high_open=True)
        _check_range("beta2", beta2, 0.0, 1.0, high_open=True)
        _check_positive("eps", eps)
        self.beta1, self.beta2, self.eps = float(beta1), float(beta2), float(eps)

    def _update(self, name: str, w: np.ndarray, g: np.ndarray) -> None:
        m = self._slot("m", name, w)
        v = self._slot("v", name, w)
        m *= self.beta1
        m += (1 - self.beta1) * g
        v *= self.beta2
        v += (1 - self.beta2) * g * g
        mhat = m / (1 - self.beta1**self.t)
        vhat = v / (1 - self.beta2**self.t)
        w -= self.lr * mhat / (np.sqrt(vhat) + self.eps)


OPTIMIZERS: dict[str, type[Optimizer]] = {
    "sgd": GradientDescent,
    "momentum": Momentum,
    "nesterov": Nesterov,
    "adagrad": AdaGrad,
    "adadelta": AdaDelta,
    "rmsprop": RMSprop,
    "adam": Adam,
}


def make_optimizer(
    name: str,
    lr: float,
    *,
    weight_decay: float = 0.0,
    clip_norm: float | None = None,
    frozen: Iterable[str] = (),
    momentum: float | None = None,
    rho: float | None = None,
    gamma: float | None = None,
    beta1: float | None = None,
    beta2: float | None = None,
    eps: float | None = None,
) -> Optimizer:
    """Build the optimiser registered as ``name`` (see :data:`OPTIMIZERS`).

    Rule-specific options left as ``None`` take the class default; giving one
    the rule does not have (e.g. ``momentum`` to ``adam``) is an EngineError.
    """
    key = name.strip().lower()
    if key not in OPTIMIZERS:
        hint = _did_you_mean(key, OPTIMIZERS) or f"known optimizers: {', '.join(OPTIMIZERS)}"
        raise EngineError(f"unknown optimizer {name!r}", hint=hint)
    cls = OPTIMIZERS[key]
    specific = {"momentum": momentum, "rho": rho, "gamma": gamma, "beta1": beta1,
                "beta2": beta2, "eps": eps}  # fmt: skip
    accepted = inspect.signature(cls).parameters
    options = {k: v for k, v in specific.items() if v is not None}
    takes = ", ".join(p for p in specific if p in accepted) or "only the common options"
    for option in options:
        if option not in accepted:
            raise EngineError(
                f"optimizer {key!r} has no option {option!r}", hint=f"it takes: {takes}"
            )
    return cls(lr, weight_decay=weight_decay, clip_norm=clip_norm, frozen=frozen, **options)
