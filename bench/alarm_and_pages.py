"""The alarm under a burst and the pages a team opens all day, in one command and one table.

Runs safety_latency.py (SQLite with one worker; PostgreSQL with one and with two workers: 600
alerts staggered over a minute, then 1,000 at once) and daily_pages.py (SQLite and PostgreSQL),
then prints every figure together. Run on a quiet machine: it takes about 15 minutes.

Run: .venv/bin/python bench/alarm_and_pages.py [page seconds]
"""
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import daily_pages, safety_latency  # noqa: E402

POSTGRES = daily_pages.POSTGRES


def main() -> None:
    seconds = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    alarms = []
    for label, target, workers in [("SQLite, 1 worker", None, 1), ("PostgreSQL, 1 worker", POSTGRES, 1),
                                   ("PostgreSQL, 2 workers", POSTGRES, 2)]:
        print(f"== {label}", flush=True)
        alarms += [(label, row) for row in safety_latency.run(target, workers)]
    pages = []
    for label, target in [("SQLite", "sqlite"), ("PostgreSQL", POSTGRES)]:
        print(f"== pages, {label}", flush=True)
        cpu, loaded, paced = daily_pages.run(target, seconds, list(daily_pages.PAGES))
        pages += [(label, page, got, cpu[page], paced.get(page, {})) for page, got in loaded.items()]

    print(f"\nThe alarm: grace deadline to arrival (load average {os.getloadavg()[0]:.1f}, {os.cpu_count()} cores)")
    print(f"  {'':24} {'case':28} {'p50':>8} {'p99':>8} {'max':>8} {'alerts/s':>9} {'lost':>5} {'duplicated':>10}")
    for label, row in alarms:
        if not row["n"]:
            print(f"  {label:24} {row['case']:28} nothing arrived, lost {row['lost']}")
            continue
        print(f"  {label:24} {row['case']:28} {row['p50'] * 1000:5.0f} ms {row['p99'] * 1000:5.0f} ms "
              f"{row['max'] * 1000:5.0f} ms {row['rate']:9.0f} {row['lost']:5} {row['duplicated']:10}")
    every = " / ".join(f"~{s:g} s" for s in daily_pages.PACED_PAGE_S)
    print("\nThe daily pages: gunicorn with the Procfile's 2 workers; wrk, 32 connections back to back, and "
          f"{daily_pages.PHONES} paced phones (p99 with a page every {every})")
    print(f"  {'':12} {'page':42} {'p50':>9} {'p99':>9} {'max':>9} {'CPU/req':>8} {'SQL':>4}  phones p99")
    for label, page, got, cpu, runs in pages:
        phones = " / ".join(f"{run['p99']:.0f} ms" for run in runs.values()) or "-"
        print(f"  {label:12} {page:42} {got['p50']:6.1f} ms {got['p99']:6.1f} ms {got['max']:6.1f} ms "
              f"{cpu['cpu']:5.1f} ms {cpu['statements']:4}  {phones}")


if __name__ == "__main__":
    main()
