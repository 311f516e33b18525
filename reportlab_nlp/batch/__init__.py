"""The archive runner's shared machinery: output-path guards, staged (atomic, resumable) outputs.

``guard_paths`` refuses an output that would overwrite an input or another output before
anything is opened for writing; :class:`StagedRun` writes each chunk's results as part files
beside the output, records completed chunks in a manifest, and assembles the final files
atomically when the run ends cleanly, so ``--resume`` continues an interrupted run.
"""

from __future__ import annotations

from .paths import guard_paths
from .staging import OutputSpec, StagedRun, fingerprint_input, tree_hash

__all__ = ["OutputSpec", "StagedRun", "fingerprint_input", "guard_paths", "tree_hash"]
