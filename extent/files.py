"""Output files: atomic CSV writes, permissions that follow the user's umask (temporary files are created private)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pandas as pd

from extent.exceptions import ExtentError


def current_umask() -> int:
    """The process's umask (read by setting it and restoring it at once)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def follow_umask(path: Path) -> None:
    """Give ``path`` (a file from ``mkstemp``, 0600, or a folder from ``mkdtemp``, 0700, and its files) the
    permissions a normally created one would have."""
    mask = current_umask()
    if path.is_dir():
        for f in path.iterdir():
            os.chmod(f, 0o666 & ~mask)
        os.chmod(path, 0o777 & ~mask)
    else:
        os.chmod(path, 0o666 & ~mask)


def write_csv(table: pd.DataFrame, path: str | Path) -> Path:
    """Write ``table`` to ``path`` atomically (nothing half-written is left on failure)."""
    path = Path(path)
    if path.parent and not path.parent.exists():
        raise ExtentError(f"{path}: folder {path.parent} does not exist")
    fd, tmp = tempfile.mkstemp(dir=path.parent or ".", prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "w", newline="") as fh:
            table.to_csv(fh, index=False)
        follow_umask(Path(tmp))
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path
