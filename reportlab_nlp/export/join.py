"""Joining label rows to images: one row per image, keyed by report (study) id.

Rejects (``source, line, record, code, reason``):

* RL710 an image whose report id is not in the label table (or whose label row was rejected)
* RL711 a report with no image in the metadata
* RL719 a report whose images name more than one patient (every image of it is rejected:
  a patient-level split could not keep it whole)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .tables import REJECT_COLUMNS, LabelTable, Metadata, to_arrow


@dataclass
class Joined:
    images: pd.DataFrame  # metadata fields + patient_code (0..P-1), one row per usable image
    matrix: np.ndarray  # float32 raw labels, one row per image
    rejects: pd.DataFrame


def join_images(labels: LabelTable, meta: Metadata) -> Joined:
    import pyarrow.compute as pc

    images = meta.frame
    pos = pc.index_in(to_arrow(images["report_id"]), value_set=to_arrow(labels.ids))
    pos = pos.to_numpy(zero_copy_only=False)
    pos = np.where(np.isnan(pos), -1, pos).astype(np.int64) if pos.dtype.kind == "f" else pos.astype(np.int64)
    no_report = pos < 0
    rej = [
        pd.DataFrame(
            {
                "source": "metadata",
                "line": images["line"][no_report].to_numpy(),
                "record": images["image_id"][no_report].to_numpy(),
                "code": "RL710",
                "reason": "image without a usable report in the label table",
            },
            columns=REJECT_COLUMNS,
        )
    ]
    images = images[~no_report].reset_index(drop=True)
    pos = pos[~no_report]
    patient = pc.dictionary_encode(to_arrow(images["patient_id"])).indices
    patient = patient.to_numpy(zero_copy_only=False).astype(np.int64)
    pairs = np.unique(pos * (int(patient.max()) + 1 if len(patient) else 1) + patient)
    per_report = np.bincount(
        pairs // (int(patient.max()) + 1 if len(patient) else 1), minlength=len(labels.ids)
    )
    mixed = per_report[pos] > 1
    rej.append(
        pd.DataFrame(
            {
                "source": "metadata",
                "line": images["line"][mixed].to_numpy(),
                "record": images["image_id"][mixed].to_numpy(),
                "code": "RL719",
                "reason": "its report's images name more than one patient",
            },
            columns=REJECT_COLUMNS,
        )
    )
    images = images[~mixed].reset_index(drop=True)
    pos = pos[~mixed]
    patient = patient[~mixed]
    used = np.zeros(len(labels.ids), dtype=bool)
    used[pos] = True
    orphans = np.flatnonzero(~used)
    rej.append(
        pd.DataFrame(
            {
                "source": "labels",
                "line": labels.lines[orphans],
                "record": labels.ids.iloc[orphans].to_numpy(),
                "code": "RL711",
                "reason": "report without an image in the metadata",
            },
            columns=REJECT_COLUMNS,
        )
    )
    images["patient_code"] = pd.factorize(patient)[0]
    return Joined(images, labels.matrix[pos], pd.concat(rej, ignore_index=True))
