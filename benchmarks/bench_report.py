"""Benchmark ``reportlab-nlp report``: build time and headless-Chromium render time for N reports.

    python benchmarks/bench_report.py [--reports 10000] [--screenshot report.png]

Labels the bundled synthetic ``examples/reports.csv`` once (rule labeler, with evidence), then
repeats its label rows and evidence records under new ids up to ``--reports`` reports, writes
the HTML report and opens it in headless Chromium (Debian's chromium + chromedriver, Selenium)
when installed. Synthetic data only.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reports", type=int, default=10_000)
    ap.add_argument("--screenshot", type=Path, default=None)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        subprocess.run(
            [
                sys.executable,
                "-m",
                "reportlab_nlp.cli",
                "label",
                str(ROOT / "examples" / "reports.csv"),
                "-o",
                str(t / "l.csv"),
                "--evidence",
                str(t / "e.jsonl"),
                "--no-link",
                "-q",
            ],
            check=True,
            env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        )
        base = pd.read_csv(t / "l.csv", dtype=str, keep_default_na=False)
        ev = [json.loads(x) for x in (t / "e.jsonl").read_text().splitlines()]
        reps = -(-args.reports // len(base))
        frames, records = [], []
        for k in range(reps):
            f = base.copy()
            f["report_id"] = f["report_id"] + f"-{k}"
            frames.append(f)
            records.extend({**r, "report_id": f"{r['report_id']}-{k}"} for r in ev)
        labels = pd.concat(frames).head(args.reports)
        keep = set(labels["report_id"])
        labels.to_csv(t / "labels.csv", index=False)
        with open(t / "mentions.jsonl", "w") as fh:
            fh.writelines(json.dumps(r) + "\n" for r in records if r["report_id"] in keep)
        t0 = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                "-m",
                "reportlab_nlp.cli",
                "report",
                str(t / "labels.csv"),
                "-e",
                str(t / "mentions.jsonl"),
                "-o",
                str(t / "qa.html"),
                "-q",
            ],
            check=True,
            env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        )
        build = time.perf_counter() - t0
        size = (t / "qa.html").stat().st_size
        print(
            f"{len(labels):,} reports, "
            f"{sum(1 for r in records if r['report_id'] in keep):,} evidence records: "
            f"report built in {build:.1f} s (process start included), {size / 1e6:.2f} MB"
        )
        if not (shutil.which("chromium") and shutil.which("chromedriver")):
            print("no Chromium: render time not measured")
            return
        from selenium import webdriver
        from selenium.webdriver.chrome.options import Options
        from selenium.webdriver.chrome.service import Service

        opts = Options()
        opts.binary_location = shutil.which("chromium")
        for a in (
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--window-size=1200,1600",
        ):
            opts.add_argument(a)
        driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=opts)
        try:
            t0 = time.perf_counter()
            driver.get((t / "qa.html").as_uri())
            load = time.perf_counter() - t0
            nav = driver.execute_script(
                "const n = performance.getEntriesByType('navigation')[0];"
                "return [n.domContentLoadedEventEnd, n.loadEventEnd];"
            )
            print(
                f"Chromium: page loaded in {load:.2f} s "
                f"(DOMContentLoaded {nav[0]:.0f} ms, load {nav[1]:.0f} ms)"
            )
            if args.screenshot:
                driver.save_screenshot(str(args.screenshot))
                print(f"screenshot: {args.screenshot}")
        finally:
            driver.quit()


if __name__ == "__main__":
    main()
