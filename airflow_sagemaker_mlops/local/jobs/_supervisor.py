"""Runs one job command so that its whole process group ends with the engine (no orphaned job processes).

``python _supervisor.py ENGINE_PID CMD...``, started by the sandbox as a new session, so this process leads
the job's process group. It asks the kernel (Linux ``PR_SET_PDEATHSIG``) for SIGTERM when the engine's
thread that started it dies, and also polls the parent (macOS, or a parent gone before the request took
effect). When the engine is gone, or the command has ended, every process left in the group is killed, as
a SageMaker container's processes end with the container. The exit status is the command's.

Standard library only, no package import: it runs before anything of the job.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading

_PR_SET_PDEATHSIG = 1


def _ask_for_parent_death_signal() -> None:
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):
        pass  # the parent poll below still notices


def _kill_group() -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        os.killpg(os.getpgid(0), signal.SIGKILL)  # this process too: nothing of the job outlives it
    except OSError:
        pass


def main(argv: list[str]) -> int:
    engine_pid, command = int(argv[0]), argv[1:]
    _ask_for_parent_death_signal()
    # SIGTERM from the engine (stop, run-time limit) reaches the whole group anyway; here it means the
    # engine died, or the engine is ending the job: either way the group goes.
    signal.signal(signal.SIGTERM, lambda *_: _kill_group())
    if os.getppid() != engine_pid:
        _kill_group()
    try:
        child = subprocess.Popen(command)
    except OSError as exc:
        print(f"cannot start {command[0]!r}: {exc}", file=sys.stderr, flush=True)
        return 127

    def watch_parent() -> None:
        while child.poll() is None:
            if os.getppid() != engine_pid:
                _kill_group()
            threading.Event().wait(0.5)

    threading.Thread(target=watch_parent, daemon=True).start()
    code = child.wait()
    # The command ended: background processes it left behind end with it, as in a container.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    for pid in _others_in_group():
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    if code < 0:
        signal.signal(-code, signal.SIG_DFL)
        os.kill(os.getpid(), -code)
    return code


def _others_in_group() -> list[int]:
    """The other processes of this group (Linux /proc; elsewhere none are found)."""
    me, group = os.getpid(), os.getpgid(0)
    found = []
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else []:
        if not entry.isdigit() or int(entry) == me:
            continue
        try:
            if os.getpgid(int(entry)) == group:
                found.append(int(entry))
        except OSError:
            continue
    return found


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
