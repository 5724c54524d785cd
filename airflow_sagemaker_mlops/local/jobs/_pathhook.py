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
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # annotations only: the user's Python may be 3.8, where these do not subscript at run time
    from collections.abc import Callable

    Remap = Callable[[Any], Any]

_ENV_ROOT = "SAGEMAKER_LOCAL_OPT_ML"
_VIRTUAL = "/opt/ml"
_VIRTUAL_B = b"/opt/ml"


def _remapper(real_root: str) -> Remap:
    """``remap(path)``: a path under /opt/ml moved under ``real_root``, any other path as it was."""
    real_root = real_root.rstrip("/")
    real_root_b = os.fsencode(real_root)

    def remap(path: Any) -> Any:
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

    return remap


class _Remapped:
    """A file API whose first ``paths`` arguments (and ``path``/``src``/``dst``/``file`` keywords) are remapped.

    An object, not a function: a class body that stores it (pathlib's ``_NormalAccessor`` on Python < 3.11:
    ``mkdir = os.mkdir``) must not bind it as a method, as it would a function (``Path.mkdir`` then got the
    accessor as its path).
    """

    _KEYWORDS = ("path", "src", "dst", "file")

    def __init__(self, func: Callable[..., Any], remap: Remap, paths: int) -> None:
        self.__wrapped__ = func
        self.__name__ = getattr(func, "__name__", "wrapper")
        self.__doc__ = getattr(func, "__doc__", None)
        self._remap = remap
        self._paths = paths

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        remap = self._remap
        if kwargs:
            for key in self._KEYWORDS:
                if key in kwargs:
                    kwargs[key] = remap(kwargs[key])
        if not args:
            return self.__wrapped__(**kwargs)
        if self._paths == 1 or len(args) == 1:  # the common calls, without building a tuple
            return self.__wrapped__(remap(args[0]), *args[1:], **kwargs)
        return self.__wrapped__(remap(args[0]), remap(args[1]), *args[2:], **kwargs)

    def __repr__(self) -> str:
        return f"<remapped {self.__wrapped__!r}>"


_OS_ONE_PATH = (
    "stat", "lstat", "open", "mkdir", "rmdir", "remove", "unlink", "chdir", "chmod", "chown",
    "lchown", "access", "utime", "readlink", "truncate", "statvfs", "mkfifo", "chroot",
    "getxattr", "setxattr", "listxattr", "removexattr", "pathconf",
    "listdir", "scandir",  # their path is optional ('.'); None stays None
)


def _install(real_root: str) -> None:
    remap = _remapper(real_root)
    replaced: dict[int, tuple[Any, Any]] = {}

    def patch(owner: Any, name: str, paths: int) -> None:
        func = getattr(owner, name, None)
        if func is None or getattr(func, "__wrapped__", None) is not None:
            return
        new = _Remapped(func, remap, paths)
        setattr(owner, name, new)
        replaced[id(func)] = (func, new)

    patch(builtins, "open", 1)
    for name in ("open", "open_code"):
        patch(io, name, 1)
    for name in _OS_ONE_PATH:
        patch(os, name, 1)
    # A link's target is stored verbatim, so symlink's must name the real location too.
    for name in ("rename", "replace", "link", "symlink"):
        patch(os, name, 2)
    _rebind_imported_names(replaced)
    _install_path_hook(remap)


def _rebind_imported_names(replaced: dict[int, tuple[Any, Any]]) -> None:
    """Modules imported before this hook (by site or .pth files) may hold the original functions under
    their own names (``from os import stat``); point those names at the wrappers too."""
    def wrapper_of(value: Any) -> Any:
        hit = replaced.get(id(value))
        return hit[1] if hit is not None and hit[0] is value else None

    for module in list(sys.modules.values()):
        namespace = getattr(module, "__dict__", None)
        if not isinstance(namespace, dict) or module in (builtins, io, os):
            continue
        for attr, value in list(namespace.items()):
            new = wrapper_of(value)
            if new is not None:
                namespace[attr] = new
    accessor = getattr(sys.modules.get("pathlib"), "_NormalAccessor", None)  # Python < 3.11
    if accessor is not None:
        for attr, value in list(vars(accessor).items()):
            new = wrapper_of(value)
            if new is not None:
                setattr(accessor, attr, staticmethod(new))


def _install_path_hook(remap: Remap) -> None:
    """Imports go through importlib's own os bindings, so sys.path entries under /opt/ml need a path hook."""
    original_hooks = list(sys.path_hooks)

    def opt_ml_path_hook(entry: Any) -> Any:
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
