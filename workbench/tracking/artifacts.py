"""Run artifacts: files stored under the data dir, listed from the store.

Files live at ``<artifact root>/<run id>/<path>``; the table says what exists so
listing never walks the disk and a half-written upload never shows up (files
are written to a temporary name and renamed into place before the row commits).
"""

from __future__ import annotations

import mimetypes
import os
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from sqlalchemy import select

from workbench import models
from workbench.clock import now_ms
from workbench.errors import InvalidArgument, NotFound
from workbench.store.tables import ArtifactRow
from workbench.store.upsert import upsert
from workbench.tenancy import Principal
from workbench.tracking.service import Tracking

TEXT_TYPES = {".txt", ".log", ".md", ".csv", ".tsv", ".json", ".yaml", ".yml", ".py", ".toml", ".ini", ".cfg"}


def clean_path(path: str) -> str:
    """A safe relative POSIX path, or InvalidArgument saying what is wrong with it."""
    if not isinstance(path, str) or not path.strip():
        raise InvalidArgument("An artifact path must be a non-empty relative path such as 'plots/loss.png'.")
    if "\\" in path or "\x00" in path:
        raise InvalidArgument(f"Invalid artifact path {path!r}: use '/' as the separator.")
    pure = PurePosixPath(path)
    if pure.is_absolute() or any(part in ("..", ".") for part in pure.parts) or len(path) > 1024:
        raise InvalidArgument(f"Invalid artifact path {path!r}: it must be relative, without '.' or '..' parts.")
    return str(pure)


def media_type(path: str) -> str:
    suffix = PurePosixPath(path).suffix.lower()
    if suffix in TEXT_TYPES:
        return "text/plain" if suffix not in (".json", ".csv") else ("application/json" if suffix == ".json" else "text/csv")
    return mimetypes.guess_type(path)[0] or "application/octet-stream"


class Artifacts:
    def __init__(self, tracking: Tracking, root: Path):
        self.tracking = tracking
        self.root = root

    def _file(self, run_id: str, path: str) -> Path:
        return self.root / run_id / path

    def put(self, user: Principal, run_id: str, path: str, data: BinaryIO | bytes) -> models.Artifact:
        """Store one file under ``path`` in the run's artifacts, replacing an older one."""
        run_id = self.tracking.check_run(user, run_id)
        path = clean_path(path)
        target = self._file(run_id, path)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as out:
                if isinstance(data, bytes | bytearray | memoryview):
                    out.write(data)
                else:
                    shutil.copyfileobj(data, out, 1 << 20)
            size = os.path.getsize(tmp)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        kind = media_type(path)
        with self.tracking.store.session() as s:
            upsert(s, ArtifactRow.__table__,
                   [{"run_id": run_id, "path": path, "size": size, "media_type": kind, "created_at": now_ms()}],
                   ("run_id", "path"), ("size", "media_type", "created_at"))
        return models.Artifact(path=path, size=size, media_type=kind)

    def put_file(self, user: Principal, run_id: str, local: Path, artifact_path: str | None = None) -> list[models.Artifact]:
        """Log a file, or a directory's files, under ``artifact_path`` (default: the file's name)."""
        local = Path(local)
        if not local.exists():
            raise InvalidArgument(f"No file or directory at {str(local)!r} to log as an artifact.")
        files: Iterable[Path] = sorted(p for p in local.rglob("*") if p.is_file()) if local.is_dir() else [local]
        prefix = artifact_path.strip("/") if artifact_path else ""
        out = []
        for f in files:
            rel = f.relative_to(local).as_posix() if local.is_dir() else f.name
            dest = f"{prefix}/{rel}" if prefix else rel
            with f.open("rb") as fh:
                out.append(self.put(user, run_id, dest, fh))
        return out

    def list(self, user: Principal, run_id: str) -> list[models.Artifact]:
        run_id = self.tracking.check_run(user, run_id)
        with self.tracking.store.session() as s:
            rows = s.scalars(select(ArtifactRow).where(ArtifactRow.run_id == run_id).order_by(ArtifactRow.path)).all()
            return [models.Artifact(path=r.path, size=r.size, media_type=r.media_type) for r in rows]

    def open(self, user: Principal, run_id: str, path: str) -> tuple[Path, str]:
        """The local file and media type of one artifact."""
        run_id = self.tracking.check_run(user, run_id)
        path = clean_path(path)
        with self.tracking.store.session() as s:
            row = s.get(ArtifactRow, (run_id, path))
        file = self._file(run_id, path)
        if row is None or not file.is_file():
            raise NotFound(f"Run {run_id} has no artifact {path!r}.")
        return file, row.media_type or media_type(path)
