"""Output files: permissions that follow the user's umask (temporary files are created private)."""

from __future__ import annotations

import os
from pathlib import Path


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
