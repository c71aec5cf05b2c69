"""Spec: the notation and YAML parsed into one validated pydantic tree.

Room 1 of 4: imports pydantic, PyYAML, ``cnnspec.errors`` and ``cnnspec.conventions`` only.
"""

from cnnspec.spec.load import from_string, from_yaml, load
from cnnspec.spec.tree import AnyNode, Claims, Network

__all__ = ["AnyNode", "Claims", "Network", "from_string", "from_yaml", "load"]
