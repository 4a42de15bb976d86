"""Atomic file writes and run folders: a reader (another tab, the CLI, a crash-restarted app) never sees
half a file, and never a run folder that mixes one run's results with another's predictions.

- `atomic_path` / `atomic_dir`: the one temp-then-rename writer. Write into the temp path (a file, or a folder
  of files) the block yields; it is renamed onto the target when the block ends without error and removed when
  it does not. Every file that another page, tab or process may read while it is written goes through these
  (run folders and their status files, caches, built defaults, uploads, sweep tables, the benchmark report);
  an export (`export --out DIR`, the app's download zips) is written into a folder of its own, read only after.
- `write_json` / `write_bytes`: one file's bytes through `atomic_path`. JSON is strict (`json_text`): a NaN or
  infinity is an error naming its field, never a `NaN` token in a file.
- `commit_files`: a whole run's files at once. They are written into a fresh sibling folder, the
  other files already in the run folder are hard-linked beside them, and the two folders are
  swapped in one `renameat2(RENAME_EXCHANGE)` call (Linux); a new folder is simply renamed into
  place. Where no exchange is possible (another OS, a folder holding sub-folders, a file system
  without it) the files are replaced one by one after `results.json` is removed, so a crash
  leaves an incomplete run, never a complete-looking mixture.
- `probe_writable` and `out_lock`: an output folder is created and probed before any work, and
  one run at a time writes to it.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import errno
import glob
import json
import math
import os
import shutil
import tempfile
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from mosecrot_viz.errors import InputError, PathError

LOCK_NAME = ".mosecrot.lock"
COMMIT_MARK = "results.json"  # written last: its presence marks a complete run


class NonFiniteError(ValueError):
    """A NaN or infinity about to be written as JSON (which has neither): the message names the field."""


def _nonfinite_field(data, where: str = ""):
    """(path, value) of the first float in `data` that is NaN or infinite ('methods.ls.per_seed[1]'), or None."""
    if isinstance(data, float):
        return None if math.isfinite(data) else (where or "<top level>", data)
    if isinstance(data, dict):
        items = ((f"{where}.{k}" if where else str(k), v) for k, v in data.items())
    elif isinstance(data, (list, tuple)):
        items = ((f"{where}[{i}]", v) for i, v in enumerate(data))
    else:
        return None
    for path, value in items:
        found = _nonfinite_field(value, path)
        if found:
            return found
    return None


def _nulls_for_nonfinite(data):
    if isinstance(data, float):
        return data if math.isfinite(data) else None
    if isinstance(data, dict):
        return {k: _nulls_for_nonfinite(v) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return [_nulls_for_nonfinite(v) for v in data]
    return data


def json_text(data, *, indent: int | None = 2, nonfinite_as_null: bool = False) -> str:
    """`data` as strict JSON text: never a `NaN` or `Infinity` token (invalid JSON that many readers reject).

    A non-finite float raises `NonFiniteError` naming its field, unless `nonfinite_as_null`: then it is written as
    `null` (for views of stored figures where NaN means "not measured", such as `explain --json`)."""
    if nonfinite_as_null:
        data = _nulls_for_nonfinite(data)
    try:
        return json.dumps(data, indent=indent, ensure_ascii=False, allow_nan=False)
    except ValueError:
        found = _nonfinite_field(data)
        if found is None:
            raise
        raise NonFiniteError(f"refusing to write {found[1]} as JSON at {found[0]}: a figure there is not a "
                             f"number (NaN or infinity), which JSON cannot hold") from None


def json_bytes(data) -> bytes:
    """`data` as the JSON bytes every writer here uses: strict (`json_text`), so a NaN anywhere is an error
    naming its field, never a `NaN` token in a file."""
    return json_text(data).encode("utf-8")


def write_json(path: Path, data) -> None:
    """Write `data` as JSON to a uniquely named temp file beside `path`, then rename it into place."""
    write_bytes(path, json_bytes(data))


def _temp_beside(path: Path) -> Path:
    return path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}.tmp")


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


@contextmanager
def atomic_path(path) -> Iterator[Path]:
    """Yield a unique temp file path beside `path`; write the file there. When the block ends without error the
    file is synced and renamed onto `path` (a reader sees the old file or the new one, never half of one); when it
    raises, the temp file is removed and the error goes on.

    >>> import tempfile; folder = Path(tempfile.mkdtemp())
    >>> with atomic_path(folder / "a.txt") as tmp:
    ...     _ = tmp.write_text("hello")
    >>> (folder / "a.txt").read_text(), sorted(p.name for p in folder.iterdir())
    ('hello', ['a.txt'])
    """
    path = Path(path)
    tmp = _temp_beside(path)
    try:
        yield tmp
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        _remove(tmp)
        raise


@contextmanager
def atomic_dir(path, *, keep: Callable[[Path], bool] | None = None) -> Iterator[Path]:
    """Yield a fresh temp folder beside `path`; fill it. When the block ends without error it takes `path`'s
    place: an existing folder is moved aside first and removed after (rename cannot replace a full folder), unless
    `keep(path)` says the existing one is a finished entry (two writers built the same cache entry: the first one
    stays). When the block raises, the temp folder is removed.

    >>> import tempfile; folder = Path(tempfile.mkdtemp())
    >>> with atomic_dir(folder / "built") as tmp:
    ...     _ = (tmp / "x").write_text("1")
    >>> sorted(p.name for p in (folder / "built").iterdir()), sorted(p.name for p in folder.iterdir())
    (['x'], ['built'])
    """
    path = Path(path)
    tmp = _temp_beside(path)
    tmp.mkdir(parents=True)
    try:
        yield tmp
        if path.exists() and keep is not None and keep(path):
            _remove(tmp)
            return
        try:
            if path.exists():
                aside = _temp_beside(path)
                os.replace(path, aside)
                try:
                    os.replace(tmp, path)
                except OSError:
                    os.replace(aside, path)
                    raise
                _remove(aside)
            else:
                os.replace(tmp, path)
        except OSError:
            if keep is not None and path.exists() and keep(path):  # another writer finished first, meanwhile
                _remove(tmp)
                return
            raise
    except BaseException:
        _remove(tmp)
        raise


def write_bytes(path: Path, data: bytes) -> None:
    """Write `data` through `atomic_path` (the temp file is removed if anything fails, a full disk included);
    an `OSError` becomes a `PathError` naming `path`."""
    path = Path(path)
    try:
        with atomic_path(path) as tmp:
            tmp.write_bytes(data)
    except OSError as exc:
        raise PathError(f"cannot write this file ({exc.strerror or exc})", path) from None


def probe_writable(folder, flag: str) -> Path:
    """Create `folder` (and its parents) and prove a file can be written there, before any work.

    Raises `PathError` naming the folder and the flag: an existing file in the way, a parent that
    cannot be created, a read-only folder, a full disk.
    """
    if folder is None or not str(folder).strip():
        raise InputError(f"{flag} is empty: give a folder")
    p = Path(folder).expanduser()
    if p.exists() and not p.is_dir():
        raise PathError(f"{flag} names an existing file, not a folder", p)
    try:
        p.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise PathError(f"{flag}: cannot create this folder ({exc.strerror or exc})", p) from None
    try:
        fd, probe = tempfile.mkstemp(prefix=".write-probe-", dir=p)
        try:
            os.write(fd, b"probe")
        finally:
            os.close(fd)
            os.unlink(probe)
    except OSError as exc:
        raise PathError(f"{flag}: cannot write into this folder ({exc.strerror or exc})", p) from None
    return p


def out_lock(folder, flag: str = "--out"):
    """Hold the lock on run folder `folder` (a `filelock.FileLock`, already acquired; release it when done).

    Why: two runs writing one folder would interleave their files. The second is refused at once
    with a message instead of waiting. The lock is an advisory `flock` on `folder/.mosecrot.lock`,
    released by the kernel if the process dies.
    """
    from filelock import FileLock, Timeout

    lock = FileLock(str(Path(folder) / LOCK_NAME), timeout=0)
    try:
        lock.acquire()
    except Timeout:
        raise PathError(f"another run is writing to this folder: wait for it to finish, or choose another {flag}",
                        folder) from None
    return lock


def _exchange_function():
    """`renameat2(..., RENAME_EXCHANGE)` from the C library, or None where there is none."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return None
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    fn.restype = ctypes.c_int
    return fn


_AT_FDCWD, _RENAME_EXCHANGE = -100, 2


def _exchange(a: Path, b: Path) -> bool:
    """Swap folders `a` and `b` atomically; False where the system cannot."""
    fn = _exchange_function()
    if fn is None:
        return False
    if fn(_AT_FDCWD, os.fsencode(str(a)), _AT_FDCWD, os.fsencode(str(b)), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EXDEV, errno.EPERM):
        return False
    raise OSError(err, os.strerror(err), str(b))


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


STAGE_TAG = ".commit-"
#: bytes a staging folder's name adds to its run folder's name: "." + ".commit-" + a pid (up to 10 digits) + "-" +
#: 12 hex digits; preflight checks a run folder's name leaves room for it (`experiment.preflight.check_out_name`)
STAGE_OVERHEAD = 1 + len(STAGE_TAG) + 10 + 1 + 12
STALE_TEMP_SECONDS = 3600  # a temp file beside a run's files untouched this long belongs to a writer that died


def stage_name(folder_name: str) -> str:
    """The staging sibling of run folder `folder_name`, carrying this process's pid (so the next run can tell a
    killed run's stage, to remove, from a live one's)."""
    return f".{folder_name}{STAGE_TAG}{os.getpid()}-{uuid.uuid4().hex[:12]}"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True


def clean_stale_staging(folder) -> list[Path]:
    """Remove what a killed run left beside and in run folder `folder`: staging folders whose process is gone
    (`stage_name`), and `atomic_path` temp files inside untouched for an hour. Returns what was removed.

    Why: a run killed mid-commit leaves its stage (which may hold every kept model) for ever otherwise.
    """
    folder = Path(folder)
    removed = []
    if folder.parent.is_dir():
        for stage in folder.parent.glob(f".{glob.escape(folder.name)}{STAGE_TAG}*"):
            pid = stage.name[len(folder.name) + 1 + len(STAGE_TAG):].split("-")[0]
            if pid.isdigit() and not _pid_alive(int(pid)) and stage.is_dir() and not stage.is_symlink():
                shutil.rmtree(stage, ignore_errors=True)
                removed.append(stage)
    if folder.is_dir():
        now = time.time()
        for tmp in folder.glob(".*.tmp"):
            try:
                if tmp.is_file() and now - tmp.stat().st_mtime > STALE_TEMP_SECONDS:
                    tmp.unlink()
                    removed.append(tmp)
            except OSError:
                pass
    return removed


def commit_files(folder, files: dict, drop=()) -> Path:
    """Make `folder` hold `files` ({name: bytes}) all at once, without the files named in `drop` (an
    earlier run's extras); other files already there are kept.

    A reader sees either the folder as it was or with every new file, never a mixture; a failure
    (a full disk, an interrupt) leaves the folder as it was and no temp folder behind.
    """
    folder = Path(folder)
    names = sorted(files, key=lambda n: n == COMMIT_MARK)  # results.json last on every path
    for name in names:
        if not name or "/" in name or name in (".", ".."):
            raise InputError(f"refusing to write {name!r}: not a plain file name", folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    clean_stale_staging(folder)  # a killed earlier commit's stage
    stage = folder.parent / stage_name(folder.name)
    stage.mkdir()
    try:
        for name in names:
            with open(stage / name, "wb") as fh:
                fh.write(files[name])
                fh.flush()
                os.fsync(fh.fileno())
        if not folder.exists():
            _fsync_dir(stage)
            try:
                os.rename(stage, folder)  # a new run folder: one rename
                _fsync_dir(folder.parent)
                return folder
            except OSError:
                if not folder.is_dir():
                    raise
                # someone created it meanwhile (an empty folder from mkdir): fall through to the exchange
        for _ in range(5):  # a file that vanishes while linked (another writer's commit): look again
            others = [p for p in folder.iterdir() if p.name not in files and p.name not in drop]
            if not all(p.is_file() and not p.is_symlink() for p in others):
                break
            try:
                for p in others:
                    os.link(p, stage / p.name)  # the same inode: a lock held on it stays held
            except FileNotFoundError:
                for p in others:
                    (stage / p.name).unlink(missing_ok=True)
                continue
            _fsync_dir(stage)
            if _exchange(stage, folder):  # stage now holds the old run
                _fsync_dir(folder.parent)
                return folder
            for p in others:
                (stage / p.name).unlink()
            break
        # no atomic exchange here: replace file by file, with the completion mark gone meanwhile
        (folder / COMMIT_MARK).unlink(missing_ok=True)
        for name in drop:
            (folder / name).unlink(missing_ok=True)
        for name in names:
            os.replace(stage / name, folder / name)
        _fsync_dir(folder)
        return folder
    except OSError as exc:
        raise PathError(f"cannot write the run's files ({exc.strerror or exc})", folder) from None
    finally:
        shutil.rmtree(stage, ignore_errors=True)
