"""The engine's work directory: where step attempts run, and the cleanup of dead engines' ones."""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from pathlib import Path

log = logging.getLogger(__name__)

WORK_DIR_PREFIX = "sagemaker-local-"
OWNER_FILE = ".engine-pid"


def remove_stale_work_dirs(base: str | None = None) -> list[Path]:
    """Remove the temporary work dirs of engines that died without cleaning up (killed, crashed).

    A dir is stale when the engine pid it records is gone; dirs from before that record, when unused for a day.
    """
    import time

    removed = []
    for path in Path(base or tempfile.gettempdir()).glob(f"{WORK_DIR_PREFIX}*"):
        try:
            if not path.is_dir() or path.owner() != _user_name():
                continue
            owner = path / OWNER_FILE
            if owner.exists():
                stale = not _alive(int(owner.read_text().strip() or 0))
            else:
                stale = time.time() - path.stat().st_mtime > 86400
        except (OSError, ValueError, KeyError):
            continue
        if stale:
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    if removed:
        log.info("removed %d stale work dir(s) of engines that are gone", len(removed))
    return removed


def _user_name() -> str:
    import getpass

    return getpass.getuser()


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
