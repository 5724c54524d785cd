"""Path remapping for user code: makes ``/opt/ml/...`` resolve inside a job's sandbox directory.

This file is copied as ``sitecustomize.py`` into a directory put first on the user process's
PYTHONPATH, so it runs before the user's script in that interpreter and in every Python process
the script starts. It uses the standard library only and must stay importable by any Python >= 3.8,
since the user's interpreter need not be the engine's.

It wraps the Python-level file APIs (builtins/io ``open``, the ``os`` path functions that ``os.path``,
``pathlib``, ``shutil``, ``glob`` and ``tarfile`` call at run time) and the import system's path hooks.
Code that hands a path straight to C (some C extensions, shell commands) is not remapped.
"""

from __future__ import annotations

import builtins
import io
import os
import sys

_ENV_ROOT = "SAGEMAKER_LOCAL_OPT_ML"
_VIRTUAL = "/opt/ml"
_VIRTUAL_B = b"/opt/ml"


def _install(real_root: str) -> None:
    real_root = real_root.rstrip("/")
    real_root_b = os.fsencode(real_root)

    def remap(path):
        # Fast path for the common types; PathLike objects are converted only when they would change.
        if isinstance(path, str):
            if path.startswith(_VIRTUAL) and (len(path) == 7 or path[7] == "/"):
                return real_root + path[7:]
            return path
        if isinstance(path, bytes):
            if path.startswith(_VIRTUAL_B) and (len(path) == 7 or path[7:8] == b"/"):
                return real_root_b + path[7:]
            return path
        if hasattr(path, "__fspath__"):
            raw = path.__fspath__()
            mapped = remap(raw)
            return path if mapped is raw else mapped
        return path

    def wrap1(func):
        def wrapper(path, *args, **kwargs):
            return func(remap(path), *args, **kwargs)

        wrapper.__name__ = getattr(func, "__name__", "wrapper")
        wrapper.__doc__ = getattr(func, "__doc__", None)
        wrapper.__wrapped__ = func
        return wrapper

    def wrap2(func):
        def wrapper(src, dst, *args, **kwargs):
            return func(remap(src), remap(dst), *args, **kwargs)

        wrapper.__name__ = getattr(func, "__name__", "wrapper")
        wrapper.__doc__ = getattr(func, "__doc__", None)
        wrapper.__wrapped__ = func
        return wrapper

    def wrap_optional(func):
        # listdir/scandir take an optional path (default '.').
        def wrapper(path=None, *args, **kwargs):
            if path is None:
                return func(*args, **kwargs)
            return func(remap(path), *args, **kwargs)

        wrapper.__name__ = getattr(func, "__name__", "wrapper")
        wrapper.__doc__ = getattr(func, "__doc__", None)
        wrapper.__wrapped__ = func
        return wrapper

    def wrap_symlink(func):
        # The link target is stored verbatim, so it must point at the real location.
        def wrapper(src, dst, *args, **kwargs):
            return func(remap(src), remap(dst), *args, **kwargs)

        wrapper.__name__ = "symlink"
        wrapper.__wrapped__ = func
        return wrapper

    replaced = {}

    def patch(owner, name, factory):
        func = getattr(owner, name, None)
        if func is None or getattr(func, "__wrapped__", None) is not None:
            return
        new = factory(func)
        setattr(owner, name, new)
        replaced[id(func)] = (func, new)

    patch(builtins, "open", wrap1)
    patch(io, "open", wrap1)
    if getattr(io, "open_code", None) is not None:
        patch(io, "open_code", wrap1)
    for name in (
        "stat", "lstat", "open", "mkdir", "rmdir", "remove", "unlink", "chdir", "chmod", "chown",
        "lchown", "access", "utime", "readlink", "truncate", "statvfs", "mkfifo", "chroot",
        "getxattr", "setxattr", "listxattr", "removexattr", "pathconf",
    ):
        patch(os, name, wrap1)
    for name in ("listdir", "scandir"):
        patch(os, name, wrap_optional)
    for name in ("rename", "replace", "link"):
        patch(os, name, wrap2)
    patch(os, "symlink", wrap_symlink)

    # Modules imported before this hook (by site or .pth files) may hold the original functions
    # under their own names (``from os import stat``); point those names at the wrappers too.
    for module in list(sys.modules.values()):
        namespace = getattr(module, "__dict__", None)
        if not isinstance(namespace, dict) or module in (builtins, io, os):
            continue
        for attr, value in list(namespace.items()):
            hit = replaced.get(id(value))
            if hit is not None and hit[0] is value:
                namespace[attr] = hit[1]
    accessor = getattr(sys.modules.get("pathlib"), "_NormalAccessor", None)  # Python < 3.11
    if accessor is not None:
        for attr, value in list(vars(accessor).items()):
            hit = replaced.get(id(value))
            if hit is not None and hit[0] is value:
                setattr(accessor, attr, staticmethod(hit[1]))

    # Imports go through importlib's own os bindings, so sys.path entries under /opt/ml need a path hook.
    original_hooks = list(sys.path_hooks)

    def opt_ml_path_hook(entry):
        mapped = remap(entry)
        if not isinstance(entry, str) or mapped == entry:
            raise ImportError("not a sandboxed path")
        for hook in original_hooks:
            try:
                return hook(mapped)
            except ImportError:
                continue
        raise ImportError("no finder for " + mapped)

    sys.path_hooks.insert(0, opt_ml_path_hook)
    sys.path_importer_cache.clear()


def _chain_next_sitecustomize() -> None:
    """Run the sitecustomize this file shadows, if the environment has one."""
    import importlib.machinery
    import importlib.util

    here = os.path.dirname(os.path.abspath(__file__))
    search = [p for p in sys.path if os.path.abspath(p or ".") != here]
    spec = importlib.machinery.PathFinder.find_spec("sitecustomize", search)
    if spec is None or spec.loader is None:
        return
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)


_root = os.environ.get(_ENV_ROOT)
if _root:
    _install(_root)
try:
    _chain_next_sitecustomize()
except Exception as _exc:  # a broken site hook of the environment must not hide the user's error
    sys.stderr.write(f"sitecustomize chained from the sandbox failed: {_exc!r}\n")
