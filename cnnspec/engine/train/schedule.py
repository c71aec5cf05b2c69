"""Learning-rate schedules, one value per epoch.

Room: engine (``cnnspec/engine/train``); imports the standard library only.

With ``eta_0`` the configured rate, ``e`` the epoch (0-based) and ``E`` the epoch count:

* ``none``:   ``eta_e = eta_0``
* ``step``:   ``eta_e = eta_0 * gamma ^ floor(e / step_size)`` (``step_size`` 0 means
  ``max(1, E // 3)``: two drops over the run)
* ``cosine``: ``eta_e = eta_0 / 2 * (1 + cos(pi * e / E))`` (half a cosine from eta_0
  down towards 0; the last epoch still learns at ``eta_0 / 2 * (1 + cos(pi (E-1) / E))``)
"""

from __future__ import annotations

import math

from cnnspec.engine.train.config import TrainConfig


def learning_rate(config: TrainConfig, epoch: int) -> float:
    """The learning rate for ``epoch`` (0-based) under ``config.schedule``."""
    if config.schedule == "step":
        size = config.step_size or max(1, config.epochs // 3)
        return config.lr * config.gamma ** (epoch // size)
    if config.schedule == "cosine":
        return config.lr * 0.5 * (1.0 + math.cos(math.pi * epoch / config.epochs))
    return config.lr
