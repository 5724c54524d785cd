"""The MWAA venv under test: its paths, its pins (a module of its own: every test folder has a conftest)."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CONSTRAINTS = Path(__file__).resolve().parent / "constraints"


@dataclass(frozen=True)
class MwaaVenv:
    version: str
    path: Path

    @property
    def python(self) -> str:
        return str(self.path / "bin" / "python")

    @property
    def airflow(self) -> str:
        return str(self.path / "bin" / "airflow")

    @property
    def constraints(self) -> Path:
        return CONSTRAINTS / f"constraints-{self.version}.txt"

    @property
    def airflow_3(self) -> bool:
        return int(self.version.split(".")[0]) >= 3

    def freeze(self) -> dict[str, str]:
        """name -> version of what is installed (names normalised as in the constraints files)."""
        out = subprocess.run([str(ROOT / ".venv" / "bin" / "uv"), "pip", "freeze", "--python", self.python],
                             capture_output=True, text=True, check=True, timeout=120).stdout
        return parse_pins(out)


def normalise(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def parse_pins(text: str) -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            name, version = line.split("==", 1)
            pins[normalise(name.split("[", 1)[0])] = version.strip()
        elif " @ " in line:
            pins[normalise(line.split(" @ ", 1)[0])] = "@"
    return pins
