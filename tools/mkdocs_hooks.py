"""MkDocs hooks for `make docs` (mkdocs.yml): the README as the site's home page, the CLI reference generated
from the argparse parser, and links that leave the documentation made plain text.

Links are checked, not silenced: a link to a documentation page is rewritten to where that page is in the site
(the README links ``docs/x.md``, the site has ``x.md``), a link to a file of the repository outside docs/
(``../dags/churn_training.py``) becomes its text, and a link to a file that does not exist is left alone, so
MkDocs reports it and the strict build fails.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
# The checkout's package, whatever the venv has installed (mkdocstrings reads it from `paths: [.]` too).
sys.path.insert(0, str(ROOT))
# [text](target) and ![alt](target); a target with a space or a title is not one of ours.
_LINK = re.compile(r"(!?)\[((?:[^\[\]]|\[[^\]]*\])*)\]\(([^()\s]+)\)")
_FENCE = re.compile(r"^(```|~~~).*?^\1", re.M | re.S)


def on_files(files: Files, config: Any) -> Files:
    files.append(File.generated(config, "index.md", abs_src_path=str(ROOT / "README.md")))
    files.append(File.generated(config, "reference/cli.md", content=cli_reference()))
    return files


def on_page_markdown(markdown: str, page: Any, config: Any, files: Files) -> str:
    src_uri = page.file.src_uri
    source_dir = ROOT if src_uri == "index.md" else (DOCS / src_uri).parent
    site_dir = (DOCS / src_uri).parent

    def fix(match: re.Match[str]) -> str:
        bang, text, target = match.groups()
        if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith(("#", "/")):
            return match.group(0)
        path, _, anchor = target.partition("#")
        resolved = (source_dir / path).resolve()
        if resolved == DOCS / "README.md" or not resolved.exists():
            return match.group(0)  # MkDocs reports it
        if resolved.is_relative_to(DOCS):
            new = os.path.relpath(resolved, site_dir).replace(os.sep, "/") + (f"#{anchor}" if anchor else "")
            return f"{bang}[{text}]({new})"
        if resolved == ROOT / "README.md":
            new = os.path.relpath(DOCS / "index.md", site_dir).replace(os.sep, "/") + (f"#{anchor}" if anchor else "")
            return f"{bang}[{text}]({new})"
        return text  # a file of the repository, not a page of the site

    # Code blocks hold examples, not links (a code span's look-alike never names an existing file).
    out, last = [], 0
    for block in _FENCE.finditer(markdown):
        out.append(_LINK.sub(fix, markdown[last:block.start()]))
        out.append(block.group(0))
        last = block.end()
    out.append(_LINK.sub(fix, markdown[last:]))
    return "".join(out)


def cli_reference() -> str:
    """Every command's ``--help``, as ``python -m airflow_sagemaker_mlops`` prints it."""
    from airflow_sagemaker_mlops import cli

    os.environ["COLUMNS"] = "110"  # argparse wraps at the terminal's width: make the page the same everywhere
    parser = cli.build_parser()
    cli._describe_commands(parser)
    parts = ["# Command line\n",
             "`python -m airflow_sagemaker_mlops` (also installed as `airflow-sagemaker-mlops`). Generated from the "
             "command's own parser: each section is that command's `--help`.\n"]
    todo: list[tuple[str, argparse.ArgumentParser]] = [("", parser)]
    while todo:
        name, current = todo.pop(0)
        title = f"`{name}`" if name else "Usage"
        parts.append(f"## {title}\n\n```text\n{current.format_help().rstrip()}\n```\n")
        for action in current._actions:
            if isinstance(action, argparse._SubParsersAction):
                todo.extend((f"{name} {sub}".strip(), p) for sub, p in action.choices.items())
    return "\n".join(parts)
