"""Atomic file writes and JSON/JSONL helpers.

Every result file is written to a temporary file in the same folder and then
renamed over the target (``os.replace`` is atomic on POSIX), so a killed process
never leaves a half-written result behind.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

TEMP_SUFFIX = ".tmp"
_PID_SEP = "~"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def remove_orphan_temp_files(folder: str | os.PathLike) -> int:
    """Delete temp files that killed writers left under ``folder``; return how many.

    A SIGKILL between the temp file's creation and its rename leaves the temp file (the
    target itself is never half-written). Only files of writers that no longer run are
    removed, so a concurrent writer is never disturbed.
    """
    removed = 0
    for tmp in Path(folder).rglob(f".*{TEMP_SUFFIX}"):
        head = tmp.name.rsplit(_PID_SEP, 1)[0]  # ".<target>.<pid>"
        pid = head.rsplit(".", 1)[-1]
        if pid.isdigit() and not _pid_alive(int(pid)):
            tmp.unlink(missing_ok=True)
            removed += 1
    return removed


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (temp file + fsync + rename).

    Args:
        path: Target file. Parent folders are created.
        data: Bytes to write.

    Returns:
        The target path.

    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # The writer's pid in the name lets a later start tell a killed writer's leftover
    # (remove_orphan_temp_files) from a live one's file in progress.
    fd, tmp = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.{os.getpid()}{_PID_SEP}", suffix=TEMP_SUFFIX
    )
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """Write UTF-8 text atomically."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def _default(obj: Any) -> Any:
    # numpy scalars and paths appear in metrics; make them plain JSON.
    if hasattr(obj, "item"):
        return obj.item()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def atomic_write_json(path: str | os.PathLike, obj: Any) -> Path:
    """Write ``obj`` as indented, key-sorted JSON atomically."""
    return atomic_write_text(
        path, json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False, default=_default) + "\n"
    )


def read_json(path: str | os.PathLike) -> Any:
    """Read a JSON file."""
    return json.loads(Path(path).read_text(encoding="utf-8"))


def write_jsonl(path: str | os.PathLike, rows: Iterable[dict]) -> Path:
    """Write rows as JSON lines atomically."""
    text = "".join(json.dumps(r, ensure_ascii=False, default=_default) + "\n" for r in rows)
    return atomic_write_text(path, text)


def read_jsonl(path: str | os.PathLike) -> list[dict]:
    """Read a JSON-lines file into a list of dicts."""
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]
