"""Staged outputs: atomic final files and ``--resume`` after an interruption.

A run writes nothing at the final names while it works. Beside the main output it keeps a
folder ``<output>.partial/`` holding

* ``manifest.json``: the input fingerprint, the options and rules/model hash that decide the
  output, the number of completed chunks and the run's counters;
* ``parts/<output>/<chunk>.<ext>``: each completed chunk's rows, one file per output.

A chunk's part files are renamed into place before the manifest records the chunk, and the
manifest itself is replaced atomically, so after kill -9 the manifest names only chunks whose
parts are whole. ``resume=True`` checks the fingerprint (a changed input or changed options
are refused, RL303), drops parts of unfinished chunks and continues with the next chunk.
When the run ends, each output is assembled from its parts under a temporary name in its
folder and renamed into place; then the ``.partial`` folder is removed. An uninterrupted
run and an interrupted, resumed one assemble the same parts the same way: the files are
byte-identical.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shutil
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import E, OutputError, ResumeError
from ..outputs import JsonlWriter, RejectsWriter, TableWriter, _fmt_for_output, publish, temp_path

MANIFEST = "manifest.json"
MANIFEST_VERSION = 1
KINDS = ("table", "jsonl", "rejects")


@dataclass(frozen=True)
class OutputSpec:
    """One output of a run: a table (``columns``), JSONL records, or a rejects CSV."""

    name: str
    path: Path
    kind: str = "table"
    columns: tuple[str, ...] | None = None
    float_columns: tuple[str, ...] = ()
    id_column: str = "report_id"

    @property
    def format(self) -> str:
        return "rejects" if self.kind == "rejects" else _fmt_for_output(self.path)


def fingerprint_input(path: str | Path) -> dict[str, Any]:
    """Size, modification time and a hash of the first and last MiB of a file (or of a folder's listing)."""
    p = Path(path)
    h = hashlib.sha256()
    if p.is_dir():
        for f in sorted(p.iterdir()):
            st = f.stat()
            h.update(f"{f.name}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
        return {"path": os.path.realpath(p), "listing": h.hexdigest()[:32]}
    st = p.stat()
    with open(p, "rb") as fh:
        h.update(fh.read(1 << 20))
        if st.st_size > 2 << 20:
            fh.seek(-(1 << 20), os.SEEK_END)
            h.update(fh.read())
    return {
        "path": os.path.realpath(p),
        "size": st.st_size,
        "mtime_ns": st.st_mtime_ns,
        "sha256": h.hexdigest()[:32],
    }


def tree_hash(*roots: str | Path) -> str:
    """Hash of every file's relative path and bytes under the given folders (or files)."""
    h = hashlib.sha256()
    for root in roots:
        r = Path(root)
        files = (
            [r]
            if r.is_file()
            else sorted(f for f in r.rglob("*") if f.is_file() and "__pycache__" not in f.parts)
        )
        for f in files:
            h.update(str(f.relative_to(r) if f != r else f.name).encode() + b"\0")
            h.update(f.read_bytes())
    return h.hexdigest()[:32]


def write_json_atomic(path: Path, obj: Any, *, sort_keys: bool = False) -> None:
    """Write ``obj`` as JSON under a temporary name and rename it into place."""
    tmp = temp_path(path)
    try:
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(obj, fh, indent=2, sort_keys=sort_keys)
            fh.write("\n")
        publish(tmp, path)
    except OSError as err:
        raise OutputError(f"cannot write {path}: {err.strerror}") from None


class StagedRun:
    """Chunk-by-chunk outputs under ``<primary>.partial/``, assembled atomically by :meth:`finish`."""

    def __init__(
        self,
        primary: str | Path,
        outputs: Sequence[OutputSpec],
        fingerprint: Mapping[str, Any],
        *,
        resume: bool = False,
    ):
        self.primary = Path(primary)
        self.outputs = [o for o in outputs if str(o.path) != os.devnull]
        self.fingerprint = json.loads(json.dumps(dict(fingerprint), sort_keys=True, default=str))
        self.dir = self.primary.with_name(self.primary.name + ".partial")
        self.completed = 0
        self.finishing = False
        self.counters: dict[str, Any] = {}
        self.notes: list[str] = []
        for o in self.outputs:
            if o.kind not in KINDS:
                raise OutputError(f"unknown output kind {o.kind!r}")
        manifest = self.dir / MANIFEST
        if resume and manifest.exists():
            self._resume(manifest)
        else:
            if resume:
                self.notes.append(f"no interrupted run at {self.dir}; starting from the first record")
            elif self.dir.exists():
                self.notes.append(
                    f"discarded the unfinished output of an earlier run ({self.dir}); "
                    "pass --resume to continue an interrupted run instead"
                )
            self._reset()

    # ------------------------------------------------------------------ state
    def _reset(self) -> None:
        if self.dir.exists():
            shutil.rmtree(self.dir)
        try:
            for o in self.outputs:
                (self.dir / "parts" / o.name).mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise OutputError(f"cannot create folder {self.dir}: {err.strerror}") from None
        self._save()

    def _resume(self, manifest: Path) -> None:
        try:
            m = json.loads(manifest.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raise ResumeError(
                f"the manifest {manifest} cannot be read; remove {self.dir} and run again"
            ) from None
        if m.get("version") != MANIFEST_VERSION:
            raise ResumeError(f"{manifest} was written by another version; remove {self.dir} and run again")
        old = m.get("fingerprint", {})
        changed = sorted(_diff_keys(old, self.fingerprint))
        if changed:
            raise ResumeError(
                f"cannot resume into {self.primary}: the interrupted run had other {', '.join(changed)}; "
                f"run without --resume to start again",
                code=E.RL303,
            )
        self.completed = int(m.get("completed_chunks", 0))
        self.counters = dict(m.get("counters", {}))
        # parts of a chunk that was being written when the run stopped are dropped
        for o in self.outputs:
            folder = self.dir / "parts" / o.name
            folder.mkdir(parents=True, exist_ok=True)
            for f in folder.iterdir():
                stem = f.name.split(".")[0]
                if not stem.isdigit() or int(stem) >= self.completed:
                    f.unlink()
        self.notes.append(f"resumed after {self.completed} completed chunk(s)")

    def _save(self) -> None:
        write_json_atomic(
            self.dir / MANIFEST,
            sort_keys=True,
            obj={
                "version": MANIFEST_VERSION,
                "fingerprint": self.fingerprint,
                "completed_chunks": self.completed,
                "counters": self.counters,
                "outputs": {o.name: str(o.path) for o in self.outputs},
                "finishing": self.finishing,
            },
        )

    # ------------------------------------------------------------------ chunks
    def _part(self, o: OutputSpec, index: int) -> Path:
        ext = {"table": o.path.suffix or ".csv", "jsonl": ".jsonl", "rejects": ".csv"}[o.kind]
        return self.dir / "parts" / o.name / f"{index:09d}{ext}"

    def commit(self, index: int, data: Mapping[str, Any], counters: Mapping[str, Any]) -> None:
        """Write chunk ``index``'s results (``{output name: DataFrame | records | rejects}``)."""
        if index != self.completed:
            raise OutputError(
                f"internal error: chunk {index} committed after {self.completed} chunk(s)", code=E.RL900
            )
        for o in self.outputs:
            part = self._part(o, index)
            value = data.get(o.name)
            if o.kind == "table":
                with TableWriter(part, columns=o.columns, float_columns=o.float_columns) as w:
                    if value is not None and len(value):
                        w.write(value)
            elif o.kind == "jsonl":
                with JsonlWriter(part) as jw:
                    jw.write_many(value or [])
            else:
                with RejectsWriter(part, o.id_column) as rw:
                    rw.write(value or [])
        self.completed = index + 1
        self.counters = dict(counters)
        self._save()

    # ------------------------------------------------------------------ the end
    def finish(self) -> None:
        """Assemble every output from its parts and rename it into place; remove the staging folder.

        A rejects output without rows writes no file.
        """
        staged: list[tuple[Path, Path]] = []
        for o in self.outputs:
            parts = sorted((self.dir / "parts" / o.name).iterdir())
            final = o.path
            try:
                final.parent.mkdir(parents=True, exist_ok=True)
            except OSError as err:
                raise OutputError(f"cannot create folder {final.parent}: {err.strerror}") from None
            tmp = temp_path(final)
            if _assemble(o, parts, tmp):
                staged.append((tmp, final))
        self.finishing = True
        self._save()  # from here on the final files appear one by one; a resume only publishes again
        for tmp, final in staged:
            publish(tmp, final)
        done = self.dir.with_name(f".{self.dir.name}.done-{os.getpid()}")
        os.replace(self.dir, done)  # the run is over in one step; then the parts go
        shutil.rmtree(done, ignore_errors=True)


def _diff_keys(a: Any, b: Any, prefix: str = "") -> Iterable[str]:
    """Names of the fingerprint entries that differ (never their values: options may hold paths only)."""
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            yield from _diff_keys(a.get(k), b.get(k), f"{prefix}{k}" if not prefix else f"{prefix}.{k}")
    elif a != b:
        yield prefix or "settings"


def _assemble(o: OutputSpec, parts: list[Path], tmp: Path) -> bool:
    """Write ``o``'s parts, in chunk order, to ``tmp``; False when a rejects output has no rows."""
    fmt = o.format
    if fmt == "rejects" and not parts:  # a chunk without rejects leaves no part file
        return False
    try:
        if fmt == "parquet":
            _assemble_parquet(o, parts, tmp)
            return True
        with open(tmp, "wb") as out:
            if fmt in ("csv", "tsv", "rejects"):
                columns = [o.id_column, "code", "reason"] if fmt == "rejects" else list(o.columns or [])
                out.write(_csv_line(columns, "tsv" if fmt == "tsv" else "csv").encode("utf-8"))
            for part in parts:
                with open(part, "rb") as fh:
                    if fmt in ("csv", "tsv", "rejects"):
                        fh.readline()  # each part carries the header too
                    shutil.copyfileobj(fh, out)
        return True
    except OSError as err:
        tmp.unlink(missing_ok=True)
        raise OutputError(f"cannot write {o.path}: {err.strerror}") from None


def _assemble_parquet(o: OutputSpec, parts: list[Path], tmp: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    writer = None
    first_empty = None
    for part in parts:
        table = pq.read_table(part)
        if table.num_rows == 0:
            if first_empty is None:
                first_empty = table
            continue
        if writer is None:
            writer = pq.ParquetWriter(tmp, table.schema)
        writer.write_table(table.cast(writer.schema))
    if writer is not None:
        writer.close()
        return
    if first_empty is None:
        first_empty = pa.Table.from_pandas(
            pd.DataFrame(
                {
                    c: pd.Series(dtype="float64" if c in o.float_columns else "object")
                    for c in (o.columns or ())
                }
            ),
            preserve_index=False,
        )
    pq.write_table(first_empty, tmp)


def _csv_line(columns: Sequence[str], fmt: str) -> str:
    buf = io.StringIO()
    csv.writer(buf, delimiter="," if fmt == "csv" else "\t", lineterminator="\n").writerow(columns)
    return buf.getvalue()
