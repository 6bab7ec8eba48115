"""A run directory: configuration, tidy records and a checkpoint, written so nothing is lost.

Layout of ``DIR``::

    config.json     the resolved configuration, package version and seed
    metrics.parquet the record of a finished run: one row per generation and replicate
    metrics.arrows  the rows of an unfinished run (an Arrow IPC stream, LZ4-compressed,
                    appended as generations finish); replaced by metrics.parquet at the end
    checkpoint-G.npz  the loop's state after generation G, the last saved one (no pickle)
    manifest.json   the last saved generation, the checkpoint's name, which of the two
                    record files holds the rows, and the length and SHA-256 of that file
                    and of the checkpoint
    figures/*.png   written when the run ends
    .lock           held by the process writing the directory (see :mod:`.folder`)

Each save writes a new checkpoint (temporary name, then rename), appends the new rows to
metrics.arrows, writes the manifest (temporary name, then rename) and only then deletes the
previous checkpoint. The last save writes metrics.parquet instead (every row, temporary name,
then rename) and deletes metrics.arrows after the manifest names metrics.parquet. A run
killed at any moment therefore leaves the manifest pointing at a consistent state; rows past
the manifest's length are cut off on resume. metrics.parquet depends only on the rows (not
on when the saves fell), so a resumed run ends with the same bytes as an uninterrupted one.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import re
import shutil
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ..files import atomic_write, checkpoint_bytes, display_path, read_checkpoint
from ..params import ParameterError
from .folder import LOCK, LockedFolder

RECORDS = "metrics.parquet"
JOURNAL = "metrics.arrows"
_CHECKPOINT = re.compile(r"checkpoint-[0-9]+\.npz")
_ROW_GROUP = 1 << 20  # rows per Parquet row group
_END_OF_STREAM = 8  # bytes of the IPC stream's end marker
_JOURNAL_OPTIONS = pa.ipc.IpcWriteOptions(compression="lz4")  # the key columns shrink many times


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def arrow_table(records: pd.DataFrame | list, schema: pa.Schema | None = None) -> pa.Table:
    """``records`` (a DataFrame, or parts with the same columns: DataFrames or column blocks) as
    an Arrow table without pandas metadata (so the bytes do not depend on the pandas version),
    cast to ``schema`` when given."""
    parts = [records] if isinstance(records, pd.DataFrame) else records
    blocks = [{k: p[k].to_numpy() for k in p.columns} if isinstance(p, pd.DataFrame) else p for p in parts]
    columns = {k: blocks[0][k] if len(blocks) == 1 else np.concatenate([b[k] for b in blocks]) for k in blocks[0]}
    # NaN stays NaN (no conversion to nulls: that scan cost more than the rest of the save)
    table = pa.table({k: pa.array(v) for k, v in columns.items()})
    return table if schema is None else table.cast(schema)


def parquet_bytes(records: pd.DataFrame | pa.Table) -> bytes:
    """The Parquet file of ``records``: the same rows give the same bytes. Float columns are
    stored plain (their values rarely repeat), the others dictionary-encoded."""
    table = records if isinstance(records, pa.Table) else arrow_table(records)
    table = table.combine_chunks()  # pages then do not depend on how the rows were gathered
    keys = [f.name for f in table.schema if not pa.types.is_floating(f.type)]
    buffer = io.BytesIO()
    pq.write_table(table, buffer, row_group_size=_ROW_GROUP, compression="snappy", use_dictionary=keys)
    return buffer.getvalue()


def parse_records(name: str, data: bytes) -> pd.DataFrame:
    """The rows in ``data``, the bytes of ``metrics.parquet`` or ``metrics.arrows`` (``name``).

    Raises ValueError when they are not such a file."""
    return _table(name, data).to_pandas()


def _table(name: str, data: bytes) -> pa.Table:
    try:
        if name == JOURNAL:
            return pa.ipc.open_stream(pa.py_buffer(data)).read_all()
        return pq.read_table(pa.BufferReader(data))
    except (pa.ArrowException, OSError) as err:
        raise ValueError(
            f"{name} is not a readable {'Arrow stream' if name == JOURNAL else 'Parquet file'} ({err})"
        ) from None


def vouched_metrics(path: str | os.PathLike) -> tuple[str, bytes]:
    """The name and bytes of the record file in ``path`` that ``manifest.json`` vouches for
    (its name, length and SHA-256).

    Bytes past the manifest's length (a run killed mid-write, or still running) are left out;
    without a manifest the whole of metrics.parquet is returned. Raises ValueError when the
    manifest is malformed or the bytes do not match it, OSError when a file cannot be read.
    """
    path = Path(path)
    manifest_path = path / "manifest.json"
    if not manifest_path.exists():
        return RECORDS, (path / RECORDS).read_bytes()
    manifest = json.loads(manifest_path.read_text())
    name, length, digest = (
        (manifest.get("records"), manifest.get("metrics_bytes"), manifest.get("metrics_sha256"))
        if isinstance(manifest, dict)
        else (None, None, None)
    )
    if (
        name not in (RECORDS, JOURNAL)
        or isinstance(length, bool)
        or not isinstance(length, int)
        or length < 0
        or not isinstance(digest, str)
    ):
        raise ValueError("manifest.json is malformed")
    with open(path / name, "rb") as handle:
        data = handle.read(length)
    if len(data) != length:
        raise ValueError(f"{name} is shorter than its manifest says")
    if _sha256(data) != digest:
        raise ValueError(f"{name} does not match the checksum in manifest.json")
    return name, data


def read_records(path: str | os.PathLike) -> pd.DataFrame:
    """The records of the run (or finished sweep) in ``path``: the rows its manifest vouches for."""
    return parse_records(*vouched_metrics(path))


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


def finished(path: str | os.PathLike) -> bool:
    """Whether the run in ``path`` finished (its manifest says so)."""
    try:
        return bool(json.loads((Path(path) / "manifest.json").read_text()).get("finished"))
    except (OSError, ValueError, AttributeError):
        return False


class RunDir(LockedFolder):
    """The directory of one run; use as a context manager to hold its lock."""

    described_by = "config.json"
    holds = "run"

    def __init__(self, path: str | os.PathLike, config: dict[str, Any], save_every: float | None = None):
        super().__init__(path)
        self.config = config
        self.save_every = save_interval() if save_every is None else save_every
        self._last_save = time.monotonic()
        self._created: Path | None = None  # the outermost folder this run created
        self._wrote_config: Path | None = None  # config.json, when this run wrote it
        self._made_lock: Path | None = None  # .lock, when this run created it
        self._pending: list[dict] = []
        self._hash = hashlib.sha256()  # of metrics.arrows as saved
        self._bytes = 0
        self._schema: pa.Schema | None = None  # of its rows

    # -- opening -------------------------------------------------------------------------
    def differences(self, old: dict[str, Any]) -> str:
        if old.get("experiment") != self.config["experiment"]:
            return f"a run of experiment {old.get('experiment')!r}, not {self.config['experiment']!r}"
        if old.get("params") != self.config["params"] or old.get("seed") != self.config["seed"]:
            changed = sorted(
                k for k in self.config["params"] if old.get("params", {}).get(k) != self.config["params"][k]
            ) or ["seed"]
            return f"a {old['experiment']} run with other settings ({', '.join(changed)})"
        return ""

    def __enter__(self) -> RunDir:
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
            lock_path = self.path / LOCK
            self._made_lock = None if lock_path.exists() else lock_path
            if not self.lock():
                self._created = self._made_lock = None  # the live run's: never remove them
                raise ParameterError(
                    f"--out {display_path(self.path)} is being written by another live run{self.holder()}: "
                    "wait for it or choose a new directory"
                )
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
        self.unlock()

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
        try:
            records, data = vouched_metrics(self.path)
            manifest = json.loads(manifest_path.read_text())
            name = manifest["checkpoint"]
            if not _CHECKPOINT.fullmatch(name):
                raise ValueError(f"the manifest names an invalid checkpoint {name!r}")
            state_bytes = (self.path / name).read_bytes()
            if _sha256(state_bytes) != manifest["checkpoint_sha256"]:
                raise ValueError("checksum mismatch")
            table = _table(records, data)
            state = read_checkpoint(state_bytes)[0]
        except (OSError, ValueError, KeyError) as err:
            warnings.warn(f"{self.path}: saved progress is damaged ({err}); recomputing from generation 1")
            self._remove_progress()
            return None
        if records == JOURNAL:
            (self.path / RECORDS).unlink(missing_ok=True)  # written by a run killed before its last manifest
            with open(self.path / JOURNAL, "r+b") as handle:
                handle.truncate(len(data))
            self._hash = hashlib.sha256(data)
            self._bytes = len(data)
            self._schema = table.schema
        self._tidy(name, finished=records == RECORDS)
        return int(manifest["generation"]), table.to_pandas(), state

    def _remove_progress(self) -> None:
        for name in ("manifest.json", RECORDS, JOURNAL):
            (self.path / name).unlink(missing_ok=True)
        for old in self.path.glob("checkpoint*.npz"):
            old.unlink()

    def _tidy(self, checkpoint: str, finished: bool) -> None:
        """Delete what the manifest no longer names: older checkpoints, and the journal of a finished run."""
        for old in self.path.glob("checkpoint*.npz"):
            if old.name != checkpoint:
                old.unlink()
        if finished:
            (self.path / JOURNAL).unlink(missing_ok=True)

    def due(self, left: float = math.inf) -> bool:
        """Whether ``save_every`` seconds have passed since the last save, unless the run expects
        to finish within ``save_every`` (``left`` seconds): its last save comes sooner then, and
        a save as large as the rows since the last one can cost more than finishing."""
        return time.monotonic() - self._last_save >= self.save_every and not 0 < left <= self.save_every

    def checkpoint(self, generation: int, blocks: list, state: Callable[[], dict]) -> None:
        """Queue ``blocks`` (new rows: column blocks or DataFrames); when ``save_every`` seconds
        have passed, append the rows queued to metrics.arrows and save the checkpoint ``state()``
        of ``generation``."""
        self._pending += blocks
        if not self.due():
            return
        self._append(arrow_table(self._pending, self._schema))
        self._pending = []
        self._save(generation, state, False, JOURNAL, self._bytes, self._hash.hexdigest())

    def finish(self, generation: int, blocks: list, state: Callable[[], dict]) -> None:
        """Save the run's last generation: ``blocks`` (column blocks or DataFrames), every row of
        the run (those saved in metrics.arrows included), as metrics.parquet (the journal is then
        deleted)."""
        data = parquet_bytes(arrow_table(blocks, self._schema))
        atomic_write(self.path / RECORDS, data)
        self._pending = []
        self._save(generation, state, True, RECORDS, len(data), _sha256(data))

    def _save(
        self, generation: int, state: Callable[[], dict], finished: bool, records: str, length: int, digest: str
    ) -> None:
        """Replace the checkpoint atomically, then write the manifest (generation, record file,
        length and checksums), last."""
        state_bytes = checkpoint_bytes(state())
        name = f"checkpoint-{generation}.npz"
        atomic_write(self.path / name, state_bytes)
        manifest = {
            "generation": generation,
            "finished": finished,
            "checkpoint": name,
            "records": records,
            "metrics_bytes": length,
            "metrics_sha256": digest,
            "checkpoint_sha256": _sha256(state_bytes),
        }
        atomic_write(self.path / "manifest.json", json.dumps(manifest, indent=2).encode())
        self._tidy(name, finished=finished)
        self._last_save = time.monotonic()

    def _append(self, rows: pa.Table) -> None:
        """Append ``rows`` to metrics.arrows past the saved length (the stream's schema first)."""
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, rows.schema, options=_JOURNAL_OPTIONS) as writer:
            writer.write_table(rows)
        messages = memoryview(sink.getvalue())[:-_END_OF_STREAM]  # later rows follow it
        if self._bytes:  # the schema message is already there: its metadata length, then no body
            messages = messages[8 + int.from_bytes(messages[4:8], "little") :]
        with open(self.path / JOURNAL, "ab") as handle:
            handle.truncate(self._bytes)
            handle.write(messages)
            handle.flush()
            os.fsync(handle.fileno())
        self._schema = rows.schema
        self._hash.update(messages)
        self._bytes += len(messages)
