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

from .tables import REJECT_COLUMNS, LabelTable, Metadata


@dataclass
class Joined:
    images: pd.DataFrame  # metadata fields + patient_code (0..P-1), one row per usable image
    matrix: np.ndarray  # float32 raw labels, one row per image
    rejects: pd.DataFrame


def join_images(labels: LabelTable, meta: Metadata) -> Joined:
    images = meta.frame
    pos = pd.Index(labels.ids).get_indexer(images["report_id"])
    no_report = pos < 0
    rej = [pd.DataFrame({"source": "metadata", "line": images["line"].to_numpy()[no_report],
                         "record": images["image_id"].to_numpy()[no_report], "code": "RL710",
                         "reason": "image without a usable report in the label table"}, columns=REJECT_COLUMNS)]
    images = images[~no_report].reset_index(drop=True)
    pos = pos[~no_report]
    n_pat = images.groupby("report_id", sort=False)["patient_id"].transform("nunique").to_numpy()
    mixed = n_pat > 1
    rej.append(pd.DataFrame({"source": "metadata", "line": images["line"].to_numpy()[mixed],
                             "record": images["image_id"].to_numpy()[mixed], "code": "RL719",
                             "reason": "its report's images name more than one patient"}, columns=REJECT_COLUMNS))
    images = images[~mixed].reset_index(drop=True)
    pos = pos[~mixed]
    used = np.zeros(len(labels.ids), dtype=bool)
    used[pos] = True
    orphans = np.flatnonzero(~used)
    rej.append(pd.DataFrame({"source": "labels", "line": labels.lines[orphans], "record": labels.ids.to_numpy()[orphans],
                             "code": "RL711", "reason": "report without an image in the metadata"},
                            columns=REJECT_COLUMNS))
    images["patient_code"] = pd.factorize(images["patient_id"])[0]
    return Joined(images, labels.matrix[pos], pd.concat(rej, ignore_index=True))
