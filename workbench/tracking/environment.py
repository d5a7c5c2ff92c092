"""What a run needs to be reproduced: notebook path and source, git commit,
Python version and installed packages, captured at ``start_run``.

Package lists and git commits are cached per process and re-read only when
site-packages or the repository's HEAD change, so starting many runs stays cheap.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from workbench import config, models

MAX_SOURCE_BYTES = 5 * 1024 * 1024
_packages_cache: tuple[tuple, dict[str, str]] | None = None
_git_cache: dict[str, tuple[tuple, str | None]] = {}


def notebook_path() -> str | None:
    """The notebook (or script) this process runs: JupyterLab tells kernels via JPY_SESSION_NAME."""
    value = os.environ.get("JPY_SESSION_NAME") or config.settings().notebook_path
    if value:
        return value
    main = sys.modules.get("__main__")
    file = getattr(main, "__file__", None)
    if file and os.path.isfile(file) and not os.path.basename(file).startswith("ipykernel_launcher"):
        return os.path.abspath(file)
    return None


def kernel_id() -> str | None:
    """The Jupyter kernel id, read from the kernel's connection file name (kernel-<id>.json)."""
    try:
        from ipykernel import get_connection_file  # type: ignore[import-not-found]

        name = os.path.basename(get_connection_file())
    except Exception:  # not inside an IPython kernel
        return None
    if name.startswith("kernel-") and name.endswith(".json"):
        return name[len("kernel-"):-len(".json")][:64]
    return None


def _site_dirs_signature() -> tuple:
    sig = []
    for entry in sys.path:
        if entry.endswith("site-packages") or entry.endswith("dist-packages"):
            try:
                sig.append((entry, os.stat(entry).st_mtime_ns))
            except OSError:
                pass
    return tuple(sig)


def packages() -> dict[str, str]:
    """Installed distributions and versions (cached until site-packages changes)."""
    global _packages_cache
    sig = _site_dirs_signature()
    if _packages_cache is None or _packages_cache[0] != sig:
        found: dict[str, str] = {}
        for dist in metadata.distributions():
            name = dist.metadata.get("Name")
            if name:
                found.setdefault(name.lower(), dist.version)
        _packages_cache = (sig, dict(sorted(found.items())))
    return dict(_packages_cache[1])


def _git_dir(directory: Path) -> Path | None:
    for folder in (directory, *directory.parents):
        if (folder / ".git").exists():
            return folder / ".git"
    return None


def git_commit(path: str | None) -> str | None:
    """HEAD's commit of the repository holding ``path`` (cached until HEAD or a ref moves)."""
    directory = Path(path).parent if path and os.path.isfile(path) else Path(path or os.getcwd())
    if not directory.is_dir():
        directory = Path(os.getcwd())
    git_dir = _git_dir(directory.resolve())
    if git_dir is None:
        return None  # not in a repository: no need to ask git
    sig = []
    for name in ("HEAD", "refs/heads", "packed-refs"):
        try:
            sig.append(os.stat(git_dir / name).st_mtime_ns)
        except OSError:
            sig.append(None)
    key = str(git_dir)
    cached = _git_cache.get(key)
    if cached and cached[0] == tuple(sig):
        return cached[1]
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=directory, capture_output=True, text=True, timeout=3)
        commit = out.stdout.strip() if out.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        commit = None
    _git_cache[key] = (tuple(sig), commit)
    return commit


def source_snapshot(path: str | None) -> str | None:
    if not path:
        return None
    candidates = [Path(path)]
    root = os.environ.get("JUPYTER_SERVER_ROOT")
    if root:
        candidates.append(Path(root) / path)
    for file in candidates:
        try:
            if file.is_file() and file.stat().st_size <= MAX_SOURCE_BYTES:
                return file.read_text(errors="replace")
        except OSError:
            continue
    return None


def capture() -> models.RunEnvironment:
    path = notebook_path()
    return models.RunEnvironment(
        notebook_path=path,
        git_commit=git_commit(path),
        python_version=platform.python_version(),
        packages=packages(),
        source=source_snapshot(path),
    )


if __name__ == "__main__":  # pragma: no cover - debugging aid
    print(json.dumps(capture().model_dump(exclude={"source"}), indent=2))
