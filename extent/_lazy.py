"""Packages whose public names load on first use (PEP 562), so that importing a package is cheap.

``import extent``, the ``extent`` command's ``--help`` and its input checks then load PyMC, ArviZ and
Matplotlib only when a name that needs them is touched (a fit, a plot).
"""

from __future__ import annotations

import importlib
import sys


def lazy_exports(package: str, exports: dict[str, str]):
    """``__getattr__`` and ``__dir__`` for ``package``, whose public names live in the modules ``exports`` names.

    Use at the end of a package's ``__init__``: ``__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)``.
    A name is imported from its module when first read and then kept in the package's namespace.
    """
    namespace = sys.modules[package].__dict__

    def __getattr__(name: str):
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(exports))

    return __getattr__, __dir__
