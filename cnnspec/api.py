"""The Python API: a validated spec with its analysis and its NumPy build.

Room: consumers (it reads every room before it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cnnspec.analysis import Report, analyze
from cnnspec.render.html import attach_report_html
from cnnspec.spec import Network
from cnnspec.spec import load as load_network

attach_report_html()


@dataclass(frozen=True)
class Spec:
    """A validated network spec (``.network``) with convenience methods."""

    network: Network

    @property
    def name(self) -> str:
        """The spec's name."""
        return self.network.name

    def report(self, *, batch: int = 1, optimizer: str = "adam",
               include_aux: bool = False) -> Report:
        """The analysis as records (:class:`cnnspec.analysis.Report`)."""
        return analyze(self.network, batch=batch, optimizer=optimizer, include_aux=include_aux)

    def with_conventions(self, **changes: Any) -> Spec:
        """This spec with some conventions changed: ``spec.with_conventions(macs="torchinfo")``."""
        conventions = self.network.conventions.model_copy(update=changes)
        return Spec(self.network.model_copy(update={"conventions": conventions}))

    def analyze(self, **options: Any) -> dict[str, Any]:
        """The analysis as the JSON contract (the dict ``--format json`` prints)."""
        return self.report(**options).to_dict()

    def build(self, **options: Any) -> Any:
        """The NumPy network for this spec (see :func:`cnnspec.engine.build`)."""
        from cnnspec.engine.model import build

        return build(self.network, **options)

    def _repr_html_(self) -> str:
        from cnnspec.render.html import report_html

        return report_html(self.report())


def load(spec: Any, *, input_shape: Any = None, conventions: str | None = None) -> Spec:
    """A :class:`Spec` from a YAML path, a zoo name or a network string."""
    if isinstance(spec, Spec):
        return spec
    if isinstance(spec, Network):
        return Spec(spec)
    return Spec(load_network(spec, input_shape=input_shape, conventions=conventions))
