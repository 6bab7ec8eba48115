"""A run directory: configuration, tidy metrics and a checkpoint, written so nothing is lost.

Layout of ``DIR``::

    config.json     the resolved configuration, package version and seed
    metrics.csv     one row per generation and replicate (appended as generations finish)
    checkpoint-G.npz  the loop's state after generation G, the last saved one (no pickle)
    manifest.json   the last saved generation, the checkpoint's name, and the length and
                    SHA-256 of metrics.csv and of the checkpoint
    figures/*.png   written when the run ends
    .lock           held (flock) by the process writing the directory; the kernel releases
                    it when that process dies, so a killed run never leaves it stuck

Each save writes a new checkpoint (temporary name, then rename), appends the new rows to
metrics.csv, writes the manifest (temporary name, then rename) and only then deletes the
previous checkpoint. A run killed at any moment therefore leaves the manifest pointing at a
consistent state; rows past the manifest's length are cut off on resume.
"""

from __future__ import annotations

import fcntl
import hashlib
import io
import json
import math
import os
import re
import shutil
import time
import warnings
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd

from ..files import atomic_write, display_path
from ..params import ParameterError
from .loop import frame_of


_CHECKPOINT = re.compile(r"checkpoint-[0-9]+\.npz")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def vouched_metrics(path: str | os.PathLike) -> bytes:
    """The bytes of ``path/metrics.csv`` that ``manifest.json`` vouches for (length and SHA-256).

    Rows past the manifest's length (a run killed mid-write, or still running) are left out;
    without a manifest the whole file is returned. Raises ValueError when the manifest is
    malformed or the bytes do not match it, OSError when a file cannot be read.
    """
    path = Path(path)
    manifest_path = path / "manifest.json"
    with open(path / "metrics.csv", "rb") as handle:
        if not manifest_path.exists():
            return handle.read()
        manifest = json.loads(manifest_path.read_text())
        length, digest = (manifest.get("metrics_bytes"), manifest.get("metrics_sha256")) if isinstance(manifest, dict) else (None, None)
        if isinstance(length, bool) or not isinstance(length, int) or length < 0 or not isinstance(digest, str):
            raise ValueError("manifest.json is malformed")
        data = handle.read(length)
    if len(data) != length:
        raise ValueError("metrics.csv is shorter than its manifest says")
    if _sha256(data) != digest:
        raise ValueError("metrics.csv does not match the checksum in manifest.json")
    return data


SAVE_EVERY_ENV = "AUTOPHAGY_SAVE_EVERY"


def save_interval() -> float:
    """Seconds between saves: ``$AUTOPHAGY_SAVE_EVERY`` if set (0 saves every generation), else 2."""
    text = os.environ.get(SAVE_EVERY_ENV, "2")
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 <= value < math.inf:
        raise ParameterError(f"{SAVE_EVERY_ENV}={text!r} is invalid: expected seconds, a number >= 0")
    return value


class RunDir:
    """The directory of one run; use as a context manager to hold its lock."""

    def __init__(self, path: str | os.PathLike, config: dict[str, Any], save_every: float | None = None):
        self.path = Path(path)
        self.config = config
        self.save_every = save_interval() if save_every is None else save_every
        self._last_save = time.monotonic()
        self._lock = None
        self._created: Path | None = None  # the outermost folder this run created
        self._wrote_config: Path | None = None  # config.json, when this run wrote it
        self._made_lock: Path | None = None  # .lock, when this run created it
        self._pending: list[dict] = []
        self._hash = hashlib.sha256()
        self._bytes = 0

    # -- opening -------------------------------------------------------------------------
    def check(self) -> None:
        """Refuse a directory that holds something else (before anything is written).

        An OSError on the path (a name too long, a folder we may not read) is bad input too.
        """
        if "\x00" in str(self.path):
            raise ParameterError("--out contains a NUL character: choose another directory name")
        try:
            self._check()
        except OSError as err:
            raise ParameterError(f"--out {display_path(self.path)} cannot be used: {err.strerror or err}") from None

    def _check(self) -> None:
        if self.path.exists() and not self.path.is_dir():
            raise ParameterError(f"--out {self.path} exists and is not a directory")
        existing = self.path / "config.json"
        if existing.exists():
            try:
                old = json.loads(existing.read_text())
            except (OSError, ValueError):
                raise ParameterError(f"--out {self.path} holds an unreadable config.json: choose a new directory") from None
            if old.get("experiment") != self.config["experiment"]:
                raise ParameterError(
                    f"--out {self.path} holds a run of experiment {old.get('experiment')!r}, "
                    f"not {self.config['experiment']!r}: choose a new directory"
                )
            if old.get("params") != self.config["params"] or old.get("seed") != self.config["seed"]:
                changed = sorted(
                    k for k in self.config["params"]
                    if old.get("params", {}).get(k) != self.config["params"][k]
                ) or ["seed"]
                raise ParameterError(
                    f"--out {self.path} holds a {old['experiment']} run with other settings "
                    f"({', '.join(changed)}): choose a new directory to run these"
                )
        elif self.path.is_dir() and any(p.name != ".lock" for p in self.path.iterdir()):
            raise ParameterError(f"--out {self.path} is not empty and holds no run: choose a new directory")

    def __enter__(self) -> "RunDir":
        self.check()
        try:
            top = self.path.absolute()  # the outermost folder that mkdir creates, removed on bad input
            while not top.parent.exists() and top.parent != top:
                top = top.parent
            self._created = None if self.path.exists() else top
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            self._undo()
            raise ParameterError(f"--out {display_path(self.path)} cannot be created: {err.strerror or err}") from None
        try:
            lock_path = self.path / ".lock"
            self._made_lock = None if lock_path.exists() else lock_path
            self._lock = open(lock_path, "a+")
            try:
                fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                self._lock.close()
                self._lock = None
                self._created = self._made_lock = None  # the live run's: never remove them
                raise ParameterError(f"--out {display_path(self.path)} is being written by another live run: wait for it or choose a new directory") from None
            for stale in self.path.glob(".*.tmp*"):  # left by a process killed mid-write
                stale.unlink()
            config_path = self.path / "config.json"
            if not config_path.exists():
                atomic_write(config_path, json.dumps(self.config, indent=2).encode())
                self._wrote_config = config_path
        except OSError as err:
            self.__exit__(ParameterError)
            raise ParameterError(f"--out {display_path(self.path)} cannot be written: {err.strerror or err}") from None
        except ParameterError:
            self.__exit__(ParameterError)
            raise
        return self

    def __exit__(self, exc_type=None, *exc) -> None:
        """Release the lock; on bad input (a ParameterError, such as missing data) before any
        progress was saved, remove what this run wrote (the folders it created, or its
        config.json) while it still holds the lock."""
        if exc_type is not None and issubclass(exc_type, ParameterError):
            try:
                saved = (self.path / "manifest.json").exists()
            except OSError:
                saved = True
            if not saved:
                self._undo()
        if self._lock is not None:
            fcntl.flock(self._lock, fcntl.LOCK_UN)
            self._lock.close()
            self._lock = None

    def _undo(self) -> None:
        """Remove the folders this run created (or, in a folder that existed, its config.json
        and .lock)."""
        if self._created is not None:
            shutil.rmtree(self._created, ignore_errors=True)
        else:
            for path in (self._wrote_config, self._made_lock):
                if path is not None:
                    path.unlink(missing_ok=True)
        self._created = self._wrote_config = self._made_lock = None

    # -- the loop's store interface -----------------------------------------------------
    def resume(self) -> tuple[int, pd.DataFrame, dict[str, np.ndarray]] | None:
        """(last saved generation, its records, loop state), or None to start afresh.

        Rows appended after the last manifest (a run killed mid-write) are cut off; damaged
        files (a checksum that does not match) are reported and the run starts again.
        """
        manifest_path = self.path / "manifest.json"
        if not manifest_path.exists():
            return None
        metrics_path = self.path / "metrics.csv"
        try:
            manifest = json.loads(manifest_path.read_text())
            with open(metrics_path, "rb") as handle:
                metrics_bytes = handle.read(manifest["metrics_bytes"])
            name = manifest["checkpoint"]
            if not _CHECKPOINT.fullmatch(name):
                raise ValueError(f"the manifest names an invalid checkpoint {name!r}")
            state_bytes = (self.path / name).read_bytes()
            if len(metrics_bytes) != manifest["metrics_bytes"]:
                raise ValueError("metrics.csv is shorter than its manifest says")
            if _sha256(metrics_bytes) != manifest["metrics_sha256"] or _sha256(state_bytes) != manifest["checkpoint_sha256"]:
                raise ValueError("checksum mismatch")
            frame = pd.read_csv(io.BytesIO(metrics_bytes))
            with np.load(io.BytesIO(state_bytes), allow_pickle=False) as archive:
                state = {k: archive[k] for k in archive.files}
        except (OSError, ValueError, KeyError) as err:
            warnings.warn(f"{self.path}: saved progress is damaged ({err}); recomputing from generation 1")
            self._remove_progress()
            return None
        with open(metrics_path, "r+b") as handle:
            handle.truncate(len(metrics_bytes))
        self._hash = hashlib.sha256(metrics_bytes)
        self._bytes = len(metrics_bytes)
        return int(manifest["generation"]), frame, state

    def _remove_progress(self) -> None:
        (self.path / "manifest.json").unlink(missing_ok=True)
        (self.path / "metrics.csv").unlink(missing_ok=True)
        for old in self.path.glob("checkpoint*.npz"):
            old.unlink()

    def checkpoint(self, generation: int, blocks: list[dict], state: Callable[[], dict], final: bool) -> None:
        """Queue ``blocks`` (new rows); save when ``save_every`` seconds have passed, and at the end.

        The checkpoint is replaced atomically, the new rows are appended to metrics.csv, and
        the manifest (generation, length and checksums) is written last.
        """
        self._pending += blocks
        if not final and time.monotonic() - self._last_save < self.save_every:
            return
        buffer = io.BytesIO()
        np.savez(buffer, **state())
        state_bytes = buffer.getvalue()
        name = f"checkpoint-{generation}.npz"
        atomic_write(self.path / name, state_bytes)
        rows = frame_of(self._pending).to_csv(index=False, header=self._bytes == 0).encode()
        with open(self.path / "metrics.csv", "ab") as handle:
            handle.truncate(self._bytes)
            handle.write(rows)
            handle.flush()
            os.fsync(handle.fileno())
        self._hash.update(rows)
        self._bytes += len(rows)
        self._pending = []
        manifest = {
            "generation": generation,
            "finished": final,
            "checkpoint": name,
            "metrics_bytes": self._bytes,
            "metrics_sha256": self._hash.hexdigest(),
            "checkpoint_sha256": _sha256(state_bytes),
        }
        atomic_write(self.path / "manifest.json", json.dumps(manifest, indent=2).encode())
        for old in self.path.glob("checkpoint*.npz"):
            if old.name != name:
                old.unlink()
        self._last_save = time.monotonic()

    def finished(self) -> bool:
        manifest = self.path / "manifest.json"
        return manifest.exists() and json.loads(manifest.read_text()).get("finished", False)
