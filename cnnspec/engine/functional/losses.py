"""Losses: softmax cross-entropy (classification) and squared error (regression).

Room: ``cnnspec/engine``; imports NumPy and :mod:`cnnspec.errors` only.

Each loss returns ``(loss, dpred)``: a Python float and the gradient of that
float with respect to the prediction. Both are **averaged over the batch**
(N), so a learning rate does not have to change with the batch size.
"""

from __future__ import annotations

import numpy as np

from cnnspec.errors import EngineError

__all__ = ["loss_by_name", "softmax_cross_entropy", "squared_error_loss"]


def softmax_cross_entropy(logits: np.ndarray, target: np.ndarray) -> tuple[float, np.ndarray]:
    """Cross entropy of softmax(logits) against the targets, mean over the batch.

    ``L = -1/N sum_i sum_k t_ik log y_ik`` with ``y = softmax(logits)``,
    where ``log y_ik = z_ik - logsumexp_j z_ij`` is computed as
    ``(z_ik - max_j z_ij) - log sum_j exp(z_ij - max_j z_ij)`` (no overflow).
    (SEEDS.md's source prints an extra outer ``log``: a typo.)

    Parameters
    ----------
    logits : (N, K) scores z (not probabilities).
    target : (N,) integer class labels, or (N, K) target distributions t
        (one-hot or soft; rows should sum to 1).

    Returns
    -------
    loss : float;  dlogits : (N, K) = (softmax(z) - t) / N.
    """
    if logits.ndim != 2:
        raise EngineError(f"cross entropy expects logits of shape (N, K), got {logits.shape}")
    n, k = logits.shape
    shifted = logits - logits.max(axis=1, keepdims=True)  # (N, K)
    log_norm = np.log(np.exp(shifted).sum(axis=1, keepdims=True))  # (N, 1)
    log_probs = shifted - log_norm
    if target.ndim == 1 and np.issubdtype(target.dtype, np.integer):
        if target.shape[0] != n:
            raise EngineError(f"{target.shape[0]} labels for {n} rows of logits")
        if target.size and (target.min() < 0 or target.max() >= k):
            raise EngineError(f"labels must be in [0, {k}), got {target.min()}..{target.max()}")
        t = np.zeros_like(logits)
        t[np.arange(n), target] = 1
    elif target.shape == logits.shape:
        t = target.astype(logits.dtype, copy=False)
    else:
        raise EngineError(
            f"targets must be (N,) integer labels or (N, K) = {logits.shape} "
            f"distributions, got {target.shape} {target.dtype}"
        )
    loss = -float(np.sum(t * log_probs)) / n
    dlogits = (np.exp(log_probs) - t) / n
    return loss, dlogits


def squared_error_loss(y: np.ndarray, t: np.ndarray) -> tuple[float, np.ndarray]:
    """Regression loss of SEEDS.md, averaged over the batch.

    ``E = 1/(2N) sum_i sum_k (t_ik - y_ik)^2``: the lecture's
    ``E(w) = 1/2 sum_i sum_k (t_ik - y_k(x_i, w))^2`` divided by the batch size
    N (multiply by N to get the lecture's sum).

    Parameters
    ----------
    y : (N, ...) predictions;  t : targets of the same shape.

    Returns
    -------
    loss : float;  dy : (N, ...) = (y - t) / N.
    """
    if y.shape != t.shape:
        raise EngineError(f"predictions {y.shape} and targets {t.shape} differ in shape")
    if y.ndim == 0:
        raise EngineError("squared error expects a batch (N, ...), got a scalar")
    n = y.shape[0]
    diff = y - t
    return 0.5 * float(np.sum(diff * diff)) / n, diff / n


def loss_by_name(scores: np.ndarray, y: np.ndarray, loss: str) -> tuple[float, np.ndarray]:
    """A training loss chosen by name, on scores ``(N, K)``: ``(loss, dscores)``.

    ``cross_entropy``: :func:`softmax_cross_entropy` of the logits; ``squared``:
    :func:`squared_error_loss` of the outputs, integer labels ``y`` (N,) taken as one-hot
    targets ``t_ik = [k = y_i]`` (targets of the scores' shape are used as they are).
    """
    if loss == "cross_entropy":
        return softmax_cross_entropy(scores, y)
    target = np.asarray(y)
    if target.ndim == 1:
        target = np.eye(scores.shape[1], dtype=scores.dtype)[target]
    return squared_error_loss(scores, target)
