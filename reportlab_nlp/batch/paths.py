"""Refuse output paths that would destroy an input or collide with another output.

Checked before anything is opened for writing. Paths are compared after resolving symlinks
(``os.path.realpath``) and, where both exist, by inode (``os.path.samefile``), so a symlink or a
hard link to the input is caught too.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from ..errors import E, OutputCollisionError


def _same(a: Path, b: Path) -> bool:
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def _inside_txt_folder(out: Path, folder: Path) -> bool:
    """An output a directory input would read back as a report (``.txt`` inside it)."""
    if not folder.is_dir() or out.suffix.lower() != ".txt":
        return False
    return Path(os.path.realpath(out)).parent == Path(os.path.realpath(folder))


def guard_paths(inputs: Mapping[str, str | Path | None], outputs: Mapping[str, str | Path | None]) -> None:
    """Raise :class:`OutputCollisionError` (RL301/RL302) when an output is an input or another output.

    ``inputs`` and ``outputs`` map an option name (``"input"``, ``"-o"``, ``"--evidence"``) to a path;
    None entries are ignored. ``/dev/null`` may be given as several outputs.
    """
    ins = [(k, Path(v)) for k, v in inputs.items() if v is not None]
    outs = [(k, Path(v)) for k, v in outputs.items() if v is not None and str(v) != os.devnull]
    for oname, out in outs:
        for iname, inp in ins:
            if _same(out, inp) or _inside_txt_folder(out, inp):
                raise OutputCollisionError(
                    f"refusing to write {oname} {out}: it is the {iname} ({inp}); choose another output path",
                    code=E.RL301,
                )
    for i, (aname, a) in enumerate(outs):
        for bname, b in outs[i + 1 :]:
            if _same(a, b):
                raise OutputCollisionError(
                    f"{aname} and {bname} both name {a}; give each output its own file",
                    code=E.RL302,
                )
