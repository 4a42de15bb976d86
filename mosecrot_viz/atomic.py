"""Atomic file writes: a reader (another tab, the CLI, a crash-restarted app) never sees half a file."""
from __future__ import annotations

import json
import os
import uuid
from pathlib import Path


def write_json(path: Path, data) -> None:
    """Write `data` as JSON to a uniquely named temp file beside `path`, then rename it into place."""
    write_bytes(path, json.dumps(data, indent=2, ensure_ascii=False).encode("utf-8"))


def write_bytes(path: Path, data: bytes) -> None:
    """Write `data` to a uniquely named temp file beside `path`, then rename it into place."""
    path = Path(path)
    tmp = path.with_name(f"{path.name}.{uuid.uuid4().hex[:6]}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
