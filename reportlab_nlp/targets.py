"""Classify given target spans of an archive (the code behind ``reportlab-nlp assertion``).

The input is read by the strict per-record reader (:class:`~reportlab_nlp.inputs.ReportSource`)
with columns ``id, text, start, end``; a record whose span is not two whole numbers inside the
text, or that the reader rejects, goes to the rejects file. Rows in = rows out + rejects.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .errors import ArgumentError, E, ReportLabError
from .inputs import Reject, ReportSource


@dataclass
class TargetRun:
    rows_in: int
    rows_out: int
    rejects: int
    rejects_path: Path | None


def classify_targets(
    input_path: str | Path,
    output_path: str | Path,
    *,
    rejects_path: str | Path | None = None,
    encoding: str = "auto",
    chunk_size: int = 2000,
) -> TargetRun:
    """Write ``id,assertion`` for every target span of ``input_path``; bad rows go to the rejects file."""
    from .assertion import assert_target
    from .batch import guard_paths
    from .outputs import RejectsWriter, TableWriter, default_rejects_path

    src = ReportSource(input_path, "id", "text", required_columns=("start", "end"), encoding=encoding)
    rpath = Path(rejects_path) if rejects_path else default_rejects_path(output_path)
    guard_paths({"input": input_path}, {"-o": output_path, "--rejects": rpath})
    n_in = n_out = 0
    with TableWriter(output_path, columns=["id", "assertion"]) as w, RejectsWriter(rpath, "id") as rw:
        for chunk in src.chunks(chunk_size):
            n_in += chunk.n_in
            rejects: list[Reject] = list(chunk.rejects)
            ids, statuses = [], []
            frame = chunk.frame
            for rid, text, start, end in zip(frame["id"], frame["text"], frame["start"], frame["end"]):
                try:
                    s, e = int(str(start).strip()), int(str(end).strip())
                except ValueError:
                    rejects.append(Reject(str(rid), "start/end are not integers", E.RL120))
                    continue
                try:
                    status = assert_target(text, s, e)
                except ArgumentError as err:  # one bad target never stops the batch
                    rejects.append(Reject(str(rid), err.message, err.code))
                    continue
                except ReportLabError:
                    raise
                ids.append(str(rid))
                statuses.append(status)
            w.write(pd.DataFrame({"id": ids, "assertion": statuses}))
            rw.write(rejects)
            n_out += len(ids)
        n_rej = rw.count
    return TargetRun(n_in, n_out, n_rej, rpath if n_rej else None)
