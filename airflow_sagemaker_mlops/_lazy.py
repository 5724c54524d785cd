"""Names a package exports but loads on first use (PEP 562's module ``__getattr__``).

A DAG file pays only for what it imports, and the parts that need no Airflow (the engine, ``image_uri``,
``compiler.assets``) import without it.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Collection, Mapping
from typing import Any


def lazy_exports(package: str, exports: Mapping[str, str], modules: Collection[str] = ()) -> Callable[[str], Any]:
    """The ``__getattr__`` of ``package``: ``exports`` maps each name to the module defining it (absolute, or
    relative to ``package`` with a leading dot); the names in ``modules`` are that module itself. A loaded
    name is kept in the package, so it is looked up once."""

    def __getattr__(name: str) -> Any:
        target = exports.get(name)
        if target is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module = importlib.import_module(target, package)
        value = module if name in modules else getattr(module, name)
        setattr(sys.modules[package], name, value)
        return value

    return __getattr__
