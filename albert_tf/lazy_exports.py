"""Package attributes imported on first use (PEP 562), so that importing a package stays light."""

import importlib


def lazy_exports(package, exports):
    """(`__getattr__`, `__dir__`) for a package whose names `exports` maps to the modules defining them."""

    def getattr_(name):
        if name in exports:
            return getattr(importlib.import_module(exports[name]), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def dir_():
        return sorted(exports)

    return getattr_, dir_
