"""Derive ``rules/deid/hospitals_cms.txt`` from the CMS "Hospital General Information" table.

    python scripts/derive_hospital_list.py Hospital_General_Information.csv [--out FILE]

The input is the CMS Hospital Compare table (data.cms.gov dataset xubh-q36u, a work of the US
government: public domain). Only the facility names are kept, normalised (lower case, legal
suffixes such as ", THE", " - CAH", ", INC", ", L L C" dropped, spaces collapsed), deduplicated
and sorted, one per line; the towns of the column "City" likewise (``hospital_towns_cms.txt``). The
source of the shipped files is recorded in ``rules/deid/SOURCES.md``.
"""

from __future__ import annotations

import argparse
import csv
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LEGAL_SUFFIX = re.compile(
    r"(?:[ ,-]+(?:\(the\)|the|inc\.?|l ?l ?c|llc|l ?p|corp\.?|corporation|pllc|cah|- ?cah|lp|ltd))+$", re.I
)


def normalise(name: str) -> str:
    n = " ".join(name.replace("’", "'").split())
    n = LEGAL_SUFFIX.sub("", n)
    n = re.sub(r"[ \t]*[-–/][ \t]*$", "", n)
    n = re.sub(r"^the[ \t]+", "", n, flags=re.I)
    return n.lower().strip(" ,.-")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("csv", type=Path)
    ap.add_argument("--out", type=Path, default=ROOT / "rules" / "deid" / "hospitals_cms.txt")
    ap.add_argument("--towns-out", type=Path, default=ROOT / "rules" / "deid" / "hospital_towns_cms.txt")
    args = ap.parse_args()
    names, towns = set(), set()
    with open(args.csv, encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            n = normalise(row.get("Hospital Name") or row.get("Facility Name") or "")
            if n:
                names.add(n)
            town = " ".join((row.get("City") or "").split()).lower()
            if town:
                towns.add(town)
    header = (
        "# Hospital names from the CMS Hospital General Information list (data.cms.gov xubh-q36u,\n"
        "# US public domain), normalised by scripts/derive_hospital_list.py. See SOURCES.md.\n"
    )
    for out, items, what in (
        (args.out, names, "Hospital names"),
        (args.towns_out, towns, "Towns with a hospital"),
    ):
        tmp = out.with_suffix(".tmp")
        tmp.write_text(
            header.replace("Hospital names", what) + "\n".join(sorted(items)) + "\n", encoding="utf-8"
        )
        tmp.replace(out)
        print(f"{len(items)} lines -> {out}")


if __name__ == "__main__":
    main()
