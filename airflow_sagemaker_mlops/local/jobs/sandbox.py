"""The per-job sandbox: ``/opt/ml`` inside a work directory, and running user processes in it.

Two backends make the literal ``/opt/ml/...`` paths of a SageMaker script resolve inside
``<work_dir>/opt_ml`` without root and without containers:

``namespace``
    The process runs in its own unprivileged user + mount namespace (``unshare -Urm``) in which
    ``<work_dir>/opt_ml`` is bind-mounted on ``/opt/ml`` (over a tmpfs on ``/opt`` that re-binds the
    host's ``/opt`` entries when the host has no ``/opt/ml``). Everything sees the sandbox: Python,
    C extensions, shell scripts, child processes. Used when the kernel allows unprivileged user
    namespaces (probed once).
``python``
    A ``sitecustomize`` hook (``_pathhook.py``) remaps the ``/opt/ml`` prefix in Python's file APIs;
    ``/opt/ml`` in argv, environment values and ``*.sh`` files of the sandbox is rewritten to the real
    directory. Code that passes paths to C or to other programs directly is not remapped.

``SAGEMAKER_LOCAL_SANDBOX=namespace|python|auto`` (default ``auto``) picks one.
"""

from __future__ import annotations

import logging
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from airflow_sagemaker_mlops.local.jobs.base import JobContext

log = logging.getLogger(__name__)

OPT_ML = "/opt/ml"
BACKEND_ENV = "SAGEMAKER_LOCAL_SANDBOX"
_HOOK_ENV = "SAGEMAKER_LOCAL_OPT_ML"
_TERM_GRACE_SECONDS = 3.0
# /opt/ml as a whole path component, also inside shell command strings ("cd /opt/ml/code && ...").
_OPT_ML_RE = re.compile(r"(?<![\w.-])/opt/ml(?=/|$|[^\w.-])")

# Mount setup run by ``sh`` inside the new namespace; $1 real root, $2 cwd, $3 scratch, rest: command.
_NS_SETUP = r"""
set -e
root=$1; cwd=$2; scratch=$3; shift 3
if [ -d /opt/ml ]; then
  mount --bind "$root" /opt/ml
else
  # /opt is root-owned: cover it with a tmpfs, re-bind what the host had there, add ml/.
  mount --rbind /opt "$scratch"
  mount -t tmpfs -o mode=755 sagemaker-local /opt
  for e in "$scratch"/* "$scratch"/.[!.]*; do
    [ -e "$e" ] || [ -L "$e" ] || continue
    n=${e##*/}
    if [ -L "$e" ]; then ln -s "$(readlink "$e")" "/opt/$n"
    elif [ -d "$e" ]; then mkdir "/opt/$n"; mount --rbind "$e" "/opt/$n"
    else : > "/opt/$n"; mount --bind "$e" "/opt/$n"; fi
  done
  umount -l "$scratch"
  mkdir /opt/ml
  mount --bind "$root" /opt/ml
fi
cd "$cwd"
exec "$@"
"""


@lru_cache(maxsize=1)
def namespace_supported() -> bool:
    """Whether ``unshare -Urm`` works here and can put a directory on /opt/ml."""
    unshare, mount = shutil.which("unshare"), shutil.which("mount")
    if not unshare or not mount or not os.path.isdir("/opt"):
        return False
    with tempfile.TemporaryDirectory(prefix="sm-local-probe-") as tmp:
        root, scratch = Path(tmp, "root"), Path(tmp, "scratch")
        root.mkdir()
        scratch.mkdir()
        (root / "probe").write_text("ok")
        try:
            proc = subprocess.run(
                [unshare, "--user", "--map-root-user", "--mount", "--propagation", "private",
                 "sh", "-c", _NS_SETUP, "sh", str(root), "/", str(scratch), "cat", "/opt/ml/probe"],
                capture_output=True, timeout=10, check=False,
            )
        except (OSError, subprocess.SubprocessError):
            return False
        ok = proc.returncode == 0 and proc.stdout == b"ok"
        if not ok:
            log.info("mount-namespace sandbox unavailable (%s); using the Python path hook",
                     proc.stderr.decode(errors="replace").strip()[:200])
        return ok


def choose_backend() -> str:
    wanted = os.environ.get(BACKEND_ENV, "auto").strip().lower() or "auto"
    if wanted == "python":
        return "python"
    if wanted == "namespace":
        if not namespace_supported():
            raise RuntimeError(f"{BACKEND_ENV}=namespace but unprivileged mount namespaces are unavailable")
        return "namespace"
    return "namespace" if namespace_supported() else "python"


@dataclass
class ProcessOutcome:
    exit_code: int | None
    stopped: bool = False  # ctx.stop_event was set
    timed_out: bool = False  # the runtime limit was reached
    tail: list[str] = field(default_factory=list)  # last lines of output


@dataclass
class Sandbox:
    """``<work_dir>/opt_ml`` is ``/opt/ml`` for the job's processes."""

    work_dir: Path
    backend: str = field(default_factory=choose_backend)

    def __post_init__(self) -> None:
        self.work_dir = Path(self.work_dir).resolve()
        self.root = self.work_dir / "opt_ml"
        self.root.mkdir(parents=True, exist_ok=True)
        self.internal = self.work_dir / ".sandbox"
        self.bin_dir = self.internal / "bin"
        self.tmp_dir = self.work_dir / "tmp"
        self.cwd_dir = self.work_dir / "cwd"
        self.log_path = self.work_dir / "logs" / "job.log"
        for d in (self.bin_dir, self.tmp_dir, self.cwd_dir, self.log_path.parent):
            d.mkdir(parents=True, exist_ok=True)

    # --- paths -------------------------------------------------------------------------------

    def real(self, virtual: str) -> Path:
        """Where a ``/opt/ml/...`` path lives on the host."""
        if not is_opt_ml(virtual):
            raise ValueError(f"{virtual!r} is not under {OPT_ML}")
        rest = virtual[len(OPT_ML) :].lstrip("/")
        if ".." in rest.split("/"):
            raise ValueError(f"{virtual!r} leaves {OPT_ML} ('..')")
        return self.root / rest if rest else self.root

    def visible(self, virtual: str) -> str:
        """How the job's processes should be told about a ``/opt/ml`` path (env vars, argv)."""
        return virtual if self.backend == "namespace" else str(self.real(virtual))

    def rewrite(self, text: str) -> str:
        """Rewrite ``/opt/ml`` occurrences for the python backend; no-op with namespaces."""
        if self.backend == "namespace":
            return text
        return _OPT_ML_RE.sub(lambda _m: str(self.root), text)

    # --- processes ---------------------------------------------------------------------------

    def _write_shims(self, python: str) -> None:
        # Shell scripts (SDK v3's sm_train.sh) call `python3`/`pip` from PATH: make those the job's
        # interpreter. Scripts, not symlinks, so a venv interpreter keeps finding its pyvenv.cfg.
        shims = {
            "python": f'exec {shlex.quote(python)} "$@"\n',
            "python3": f'exec {shlex.quote(python)} "$@"\n',
            "pip": f'exec {shlex.quote(python)} -m pip "$@"\n',
            "pip3": f'exec {shlex.quote(python)} -m pip "$@"\n',
        }
        for name, body in shims.items():
            path = self.bin_dir / name
            path.write_text("#!/bin/sh\n" + body)
            path.chmod(0o755)

    def _install_hook(self) -> Path:
        hook_dir = self.internal / "pyhook"
        hook_dir.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(Path(__file__).with_name("_pathhook.py"), hook_dir / "sitecustomize.py")
        return hook_dir

    def _rewrite_shell_scripts(self) -> None:
        for path in self.root.rglob("*.sh"):
            try:
                if path.is_file() and path.stat().st_size < 1_000_000:
                    text = path.read_text()
                    new = self.rewrite(text)
                    if new != text:
                        path.write_text(new)
            except (OSError, UnicodeDecodeError):
                continue

    def build(
        self, argv: Sequence[str], env: Mapping[str, str], cwd: str, python: str
    ) -> tuple[list[str], dict[str, str], str]:
        """The host command, environment and cwd that run ``argv`` with ``cwd`` inside the sandbox."""
        self._write_shims(python)
        argv = [python if i == 0 and a in ("python", "python3") else a for i, a in enumerate(argv)]
        full_env = dict(env)
        full_env["PATH"] = f"{self.bin_dir}{os.pathsep}{full_env.get('PATH', os.defpath)}"
        full_env["TMPDIR"] = str(self.tmp_dir)
        if self.backend == "namespace":
            scratch = self.internal / "host_opt"
            scratch.mkdir(parents=True, exist_ok=True)
            unshare = shutil.which("unshare") or "unshare"
            cmd = [unshare, "--user", "--map-root-user", "--mount", "--propagation", "private",
                   "sh", "-c", _NS_SETUP, "sh", str(self.root), cwd, str(scratch), *argv]
            return cmd, full_env, str(self.cwd_dir)
        hook_dir = self._install_hook()
        self._rewrite_shell_scripts()
        full_env = {k: self.rewrite(v) for k, v in full_env.items()}
        full_env[_HOOK_ENV] = str(self.root)
        prior = full_env.get("PYTHONPATH")
        full_env["PYTHONPATH"] = str(hook_dir) + (os.pathsep + prior if prior else "")
        real_cwd = str(self.real(cwd)) if is_opt_ml(cwd) else cwd
        return [self.rewrite(a) for a in argv], full_env, real_cwd

    def run(
        self,
        argv: Sequence[str],
        env: Mapping[str, str],
        cwd: str,
        ctx: JobContext,
        *,
        timeout: float | None = None,
        on_line: Callable[[str], None] | None = None,
        tail_lines: int = 40,
    ) -> ProcessOutcome:
        """Run a user process to its end; every output line goes to ctx.log, on_line and the job log."""
        cmd, full_env, real_cwd = self.build(argv, env, cwd, ctx.python)
        # The supervisor leads the job's process group and ends it when the engine goes (_supervisor.py).
        cmd = [sys.executable, "-I", str(Path(__file__).with_name("_supervisor.py")), str(os.getpid()), *cmd]
        log.debug("sandbox %s runs %s", self.backend, cmd)
        tail: list[str] = []
        with self.log_path.open("a", encoding="utf-8") as log_file:
            try:
                proc = subprocess.Popen(
                    cmd, cwd=real_cwd, env=full_env, stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
                )
            except OSError as exc:
                line = f"cannot start {argv[0]!r}: {exc}"
                ctx.log(line)
                log_file.write(line + "\n")
                return ProcessOutcome(exit_code=127, tail=[line])
            _register(proc, self.work_dir)

            def pump() -> None:
                assert proc.stdout is not None
                for raw in proc.stdout:
                    line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
                    log_file.write(line + "\n")
                    log_file.flush()
                    tail.append(line)
                    if len(tail) > tail_lines:
                        del tail[0]
                    try:
                        ctx.log(line)
                        if on_line is not None:
                            on_line(line)
                    except Exception:  # a broken log sink must not hang the job
                        log.exception("log callback failed")

            reader = threading.Thread(target=pump, name="sm-local-job-output", daemon=True)
            reader.start()
            deadline = time.monotonic() + timeout if timeout else None
            stopped = timed_out = False
            while proc.poll() is None:
                if ctx.stop_event.wait(0.05):
                    stopped = True
                elif deadline is not None and time.monotonic() >= deadline:
                    timed_out = True
                if stopped or timed_out:
                    _terminate_group(proc)
                    break
            proc.wait()
            _unregister(proc)
            reader.join(timeout=5)
        return ProcessOutcome(exit_code=proc.returncode, stopped=stopped, timed_out=timed_out, tail=tail)


# Job process groups alive in this process, with their work dirs: Engine.close() ends its own.
_LIVE: dict[int, tuple[subprocess.Popen, Path]] = {}
_LIVE_LOCK = threading.Lock()


def _register(proc: subprocess.Popen, work_dir: Path) -> None:
    with _LIVE_LOCK:
        _LIVE[proc.pid] = (proc, work_dir)


def _unregister(proc: subprocess.Popen) -> None:
    with _LIVE_LOCK:
        _LIVE.pop(proc.pid, None)


def terminate_jobs_under(root: Path) -> int:
    """End every running job process group whose sandbox is under ``root``; returns how many."""
    root = Path(root).resolve()
    with _LIVE_LOCK:
        mine = [proc for proc, work_dir in _LIVE.values() if work_dir == root or root in work_dir.parents]
    for proc in mine:
        _terminate_group(proc)
    return len(mine)


def _terminate_group(proc: subprocess.Popen) -> None:
    """SIGTERM the whole process group (the user code and its children), SIGKILL after a grace period."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=_TERM_GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def is_opt_ml(path: str) -> bool:
    return path == OPT_ML or path.startswith(OPT_ML + "/")
