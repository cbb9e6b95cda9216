"""The performance benchmark of strata: the whole pipeline at three sizes, two baselines, the targets.

    uv run python -m benchmarks.run --sizes S,M[,L] [--no-pandas] [--no-verify-update]

For each size it
1. generates (once; cached in benchmarks/.cache/<size>/source, git-ignored) the sample extracts for
   months + 1 months ending 2025-12 (seed 7, CSV), and links the first `months` of them (hard
   links: no copy) into a fresh landing folder;
2. runs the whole pipeline as `strata materialize` does (`orchestration.runner.materialize`, in a
   child process whose process tree's memory is sampled), and splits its wall time into stages from
   the Dagster run's step stats and dbt's run_results.json (finance models, segment models, tests);
3. runs the two baselines on the same landing folder: the hand-written DuckDB script
   (benchmarks/baselines/profit_duckdb.sql) and the pandas version (profit_pandas.py, in a process
   whose address space is capped: running out of memory is recorded, not fatal), and checks that
   both give the pipeline's fct_customer_profit_monthly to the cent (required on S);
4. links the held-back month into the landing folder and runs the update (only that month's
   batches; `materialize(..., months=[new])`); on S it also checks that the updated warehouse holds
   the same marts as a full run over all months; then the incremental scenarios (docs/incremental.md):
   a sales batch 6 months before the newest month re-delivered with one line corrected, and a rerun
   over the unchanged landing folder, each reported as a share of the full run with the build plans;
5. writes docs/benchmarks/<size>-<UTC time>.json and rewrites the results tables of
   docs/performance.md from the newest JSON of each size.

`--ingestion-only` measures the ingestion stage alone (step 2 with only the 16 ingestion assets, no
dbt, baselines or update) and writes docs/benchmarks/ingestion-<size>-<UTC time>.json; `--code DIR`
runs the pipeline from another checkout (e.g. one with an older version of a part) for a before and
after measure on the same data in the same moment.

Timings on a shared machine are noisy: every measurement records the load average before and after.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks.measure import Measured, failure_line, gib, run_measured

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "benchmarks" / ".cache"
DOCS = ROOT / "docs" / "benchmarks"
PERFORMANCE_MD = ROOT / "docs" / "performance.md"
WORKTREE = CACHE / "worktree"
PY = sys.executable
END_MONTH = "2025-12"
SEED = 7
GIB = 2**30


@dataclass(frozen=True)
class Size:
    name: str
    customers: int
    months: int


SIZES = {"S": Size("S", 1_000, 36), "M": Size("M", 10_000, 60), "L": Size("L", 100_000, 60)}

TARGETS = {
    "full_run_seconds": ("L", "<=", 600, "full run ≤ 10 minutes"),
    "peak_memory_gib": ("L", "<=", 6, "peak memory ≤ 6 GB"),
    "finance_vs_duckdb": ("L", "<=", 2, "finance marts ≤ 2× the hand-written DuckDB script"),
    "pandas_vs_pipeline": ("L", ">=", 5, "whole pipeline ≥ 5× faster than pandas (or pandas OOM)"),
    "update_share": ("L", "<=", 0.05, "adding one month ≤ 5 % of a full run"),
    "update_share_m": ("M", "<=", 0.10, "adding one month ≤ 10 % of a full run at M"),
    "corrected_share": ("L", "<=", 0.15, "a corrected batch 6 months back ≤ 15 % of a full run"),
    "noop_seconds": ("L", "<=", 15, "a no-op rerun ≤ 15 s"),
    "fixed_overhead_seconds": ("S", "<=", 10, "fixed overhead ≤ 10 s on S"),
}

PUBLISHING_STEPS = {"published_marts", "finance_export", "postgres_marts", "segment_report"}
# The predicted-value fits (assets/clv), between the two steps Dagster splits the dbt assets into.
CLV_STEPS = {"clv_fits"}


def is_dbt_step(key: str) -> bool:
    """`dbt_models`, and `dbt_models_2` after the fit (Dagster names the split steps so)."""
    return key == "dbt_models" or key.startswith("dbt_models_")


def log(msg: str) -> None:
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"[{time.strftime('%H:%M:%S')} load {load}] {msg}", flush=True)


# ---------------------------------------------------------------------------------------------
# Data


def ensure_source(size: Size) -> Path:
    """The generated extracts for size.months + 1 months (cached)."""
    src = CACHE / size.name / "source"
    want = {
        "customers": size.customers,
        "months": size.months + 1,
        "end_month": END_MONTH,
        "seed": SEED,
        "fmt": "csv",
    }
    meta = src / "_generator.json"
    if meta.exists() and json.loads(meta.read_text()).get("arguments") == want:
        return src
    log(f"{size.name}: generating {size.customers:,} customers × {size.months + 1} months into {src}")
    from orchestration.generator import generate

    start = time.time()
    generate(src, customers=size.customers, months=size.months + 1, end_month=END_MONTH, seed=SEED, fmt="csv")
    log(f"{size.name}: generated in {time.time() - start:.0f} s")
    return src


def source_months(src: Path) -> list[str]:
    return json.loads((src / "_generator.json").read_text())["summary"]["months"]


def link_months(src: Path, landing: Path, months: list[str]) -> None:
    """Hard-link the batch folders of `months` from the cache into `landing` (no copy)."""
    for system in sorted(p for p in src.iterdir() if p.is_dir()):
        for ent in sorted(p for p in system.iterdir() if p.is_dir()):
            for m in months:
                batch = ent / m
                if not batch.is_dir():
                    continue
                target = landing / batch.relative_to(src)
                target.mkdir(parents=True, exist_ok=True)
                for f in batch.iterdir():
                    if not (target / f.name).exists():
                        os.link(f, target / f.name)


def landing_rows(src: Path, months: list[str]) -> dict[str, int]:
    """Data rows per `<system>/<entity>` in those months, from the batches' manifests."""
    rows: dict[str, int] = {}
    for manifest in src.glob("*/*/*/_manifest.json"):
        if manifest.parent.name in months:
            data = json.loads(manifest.read_text())
            key = f"{data['system']}/{data['entity']}"
            rows[key] = rows.get(key, 0) + sum(f["rows"] for f in data["files"])
    return rows


# ---------------------------------------------------------------------------------------------
# The code under test


def code_root(in_place: bool, worktree: Path = WORKTREE) -> tuple[Path, str]:
    """Where the pipeline runs from, and its commit.

    By default a git worktree of HEAD (benchmarks/.cache/worktree): other engineers edit and test in
    the shared checkout, and their uncommitted dbt changes and `dbt parse` runs would both change the
    code under test and invalidate dbt's saved parse in the middle of a measurement. The worktree
    keeps its dbt_project/target between runs, as a deployment does. `--in-place` runs the checkout
    as it is (its commit is then marked +dirty when it has changes).
    """
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    if in_place:
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "assets", "orchestration", "quality", "dbt_project"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        ).stdout.strip()
        return ROOT, head[:7] + ("+dirty" if dirty else "")
    if not (worktree / ".git").exists():
        subprocess.run(["git", "worktree", "prune"], cwd=ROOT, check=True)
        subprocess.run(
            ["git", "worktree", "add", "--detach", str(worktree), head],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
    else:
        subprocess.run(
            ["git", "checkout", "--detach", "--force", head], cwd=worktree, check=True, capture_output=True
        )
    return worktree, head[:7]


def prepare_manifest(code: Path, warehouse: Path, logs: Path) -> dict:
    """`strata prepare` as a deployment runs it once, for the warehouse the runs will use."""
    script = (
        "import json, time; from pathlib import Path; from orchestration.runner import prepare_dbt; "
        f"t = time.time(); parsed = prepare_dbt(warehouse=Path({str(warehouse)!r})); "
        "print(json.dumps({'parsed': parsed, 'seconds': time.time() - t}))"
    )
    m = run_measured([PY, "-c", script], cwd=code, log=logs / "prepare.log")
    if m.returncode != 0:
        raise SystemExit(f"dbt prepare failed:\n{m.stderr[-3000:]}")
    info = json.loads(m.stdout.strip().splitlines()[-1])
    log(f"dbt manifest: {'parsed' if info['parsed'] else 'unchanged, not parsed'} ({m.wall:.1f} s)")
    return {
        "parsed": info["parsed"],
        "wall_seconds": round(m.wall, 2),
        "cpu_seconds": round(m.cpu_seconds, 1) if m.cpu_seconds is not None else None,
    }


# ---------------------------------------------------------------------------------------------
# The pipeline run and its stages


def union_seconds(intervals: list[tuple[float, float]]) -> float:
    total, end = 0.0, None
    for s, e in sorted(intervals):
        if end is None or s > end:
            total += e - s
            end = e
        elif e > end:
            total += e - end
            end = e
    return total


def _iso(ts: str) -> float:
    return dt.datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp()


def dbt_nodes(run_id: str, out: Path, code: Path) -> tuple[list[dict], float | None]:
    """Every node dbt ran in this Dagster run (both dbt steps, before and after the predicted-value
    fit): kind, category (finance, segments, test), interval; and dbt's own elapsed seconds.

    dagster-dbt writes each dbt call's results into a folder of the output folder's dbt target
    (`<out>/dbt_target`); a checkout from before that (`--code`) wrote them into the project's."""
    from assets.core.engines import dbt_target_dir

    dirs = sorted(d for target in (dbt_target_dir(out), code / "dbt_project" / "target")
                  for d in target.glob(f"dbt_models*-{run_id[:7]}-*"))
    runs = [json.loads((d / "run_results.json").read_text())
            for d in dirs if (d / "run_results.json").exists()]
    if not runs:
        return [], None
    nodes = {}
    for d in dirs:
        if (d / "manifest.json").exists():
            nodes.update(json.loads((d / "manifest.json").read_text())["nodes"])
    results = {"results": [r for run in runs for r in run["results"]],
               "elapsed_time": sum(run.get("elapsed_time") or 0 for run in runs)}

    def category(uid: str) -> str:
        node = nodes.get(uid, {})
        return "segments" if "segments" in node.get("fqn", []) else "finance"

    out = []
    for r in results["results"]:
        uid = r["unique_id"]
        node = nodes.get(uid, {})
        times = [
            (_iso(t["started_at"]), _iso(t["completed_at"]))
            for t in r.get("timing", [])
            if t.get("started_at")
        ]
        if not times:
            continue
        kind = node.get("resource_type", uid.split(".")[0])
        if kind == "test":
            attached = node.get("attached_node") or next(
                iter(node.get("depends_on", {}).get("nodes", [])), ""
            )
            cat = "test_" + category(attached)
        else:
            cat = category(uid)
        out.append(
            {
                "unique_id": uid,
                "kind": kind,
                "category": cat,
                "status": r["status"],
                "start": min(s for s, _ in times),
                "end": max(e for _, e in times),
                "execution_time": r.get("execution_time"),
            }
        )
    return out, results.get("elapsed_time")


def run_pipeline(
    label: str,
    landing: Path,
    out: Path,
    months: list[str] | None,
    rows: dict[str, int],
    logs: Path,
    code: Path,
    ingestion_only: bool = False,
) -> dict:
    """One `strata materialize` in a child process, measured and split into stages."""
    markers = logs / f"{label}.markers.json"
    cmd = [
        PY,
        "-m",
        "benchmarks.child",
        "--landing",
        str(landing),
        "--out",
        str(out),
        "--markers",
        str(markers),
    ]
    if months:
        cmd += ["--months", ",".join(months)]
    if ingestion_only:
        cmd.append("--ingestion-only")
    log(f"{label}: materialize {landing.name} → {out}" + (f" (months {','.join(months)})" if months else ""))
    m = run_measured(cmd, cwd=code, log=logs / f"{label}.log")
    if not markers.exists():
        raise SystemExit(
            f"{label}: the run did not finish (exit {m.returncode}); see {logs / (label + '.log')}\n"
            + m.stderr[-3000:]
        )
    marks = json.loads(markers.read_text())
    report = marks["report"]
    status = "ok" if report["success"] else "FAILED"
    log(f"{label}: {status} in {m.wall:.1f} s ({m.cpu_seconds:.0f} CPU-s), peak {gib(m.peak_rss):.2f} GiB")
    if not report["success"]:
        raise SystemExit(f"{label}: the run failed: {report['failures']}")
    if report.get("nothing_changed"):  # no Dagster run to split into stages
        return {"label": label, "nothing_changed": True, "wall_seconds": round(m.wall, 2),
                "peak_rss_gib": gib(m.peak_rss), "stages": {}}
    result = summarize_run(m, marks, out, rows, code)
    result["label"] = label
    return result


def summarize_run(m: Measured, marks: dict, out: Path, rows: dict[str, int], code: Path) -> dict:
    from assets.core.contract import entities
    from orchestration.runner import open_instance

    run_id = marks["report"]["run_id"]
    instance = open_instance(out)
    run_stats = instance.get_run_stats(run_id)
    steps = [
        {"key": s.step_key, "start": s.start_time, "end": s.end_time, "status": str(s.status)}
        for s in instance.get_run_step_stats(run_id)
        if s.start_time and s.end_time
    ]
    instance.dispose()
    ingestion_keys = {f"{e.system}__{e.name}" for e in entities().values()}
    nodes, dbt_elapsed = dbt_nodes(run_id, out, code)
    total_rows = sum(rows.values())
    sales_lines = rows.get("erp/sales_lines", 0)

    def stage(
        intervals: list[tuple[float, float]], seconds: float | None = None, n_rows: int | None = total_rows
    ):
        secs = union_seconds(intervals) if seconds is None else seconds
        return {
            "seconds": round(secs, 2),
            "rows": n_rows,
            "rows_per_second": round(n_rows / secs) if n_rows and secs > 0 else None,
            "peak_rss_gib": gib(max((m.sampler.peak(s, e) for s, e in intervals), default=0)),
        }

    def iv(items):
        return [(x["start"], x["end"]) for x in items]

    ingest = [s for s in steps if s["key"] in ingestion_keys]
    dbt_step = [s for s in steps if is_dbt_step(s["key"])]
    publishing = [s for s in steps if s["key"] in PUBLISHING_STEPS]
    clv = [s for s in steps if s["key"] in CLV_STEPS]
    not_checks = ingestion_keys | PUBLISHING_STEPS | CLV_STEPS
    check_steps = [s for s in steps if s["key"] not in not_checks and not is_dbt_step(s["key"])]
    finance = [n for n in nodes if n["category"] == "finance"]
    segments = [n for n in nodes if n["category"] == "segments"]
    tests = [n for n in nodes if n["category"].startswith("test_")]
    run_start, run_end = run_stats.start_time, run_stats.end_time
    step_sum = sum(s["end"] - s["start"] for s in steps)
    dbt_wall = sum(s["end"] - s["start"] for s in dbt_step)
    dbt_nodes_wall = union_seconds(iv(nodes))
    startup = run_start - m.started
    between = (run_end - run_start) - step_sum
    dbt_overhead = dbt_wall - dbt_nodes_wall if dbt_step else 0.0
    shutdown = m.ended - run_end
    marts = {"fct_customer_profit_monthly", "fct_cost_to_serve_monthly", "margin_reconciliation"}
    finance_marts = [n for n in finance if n["unique_id"].split(".")[-1] in marts]
    finance_span = (
        (max(n["end"] for n in finance_marts) - min(n["start"] for n in finance)) if finance_marts else None
    )

    stages = {
        "ingestion": stage(iv(ingest), sum(s["end"] - s["start"] for s in ingest)),
        "dbt_finance": stage(iv(finance)),
        "dbt_segments_kpis": stage(iv(segments)),
        "checks": stage(iv(tests) + iv(check_steps)),
        "publishing": stage(iv(publishing), sum(s["end"] - s["start"] for s in publishing)),
        "clv_fits": stage(iv(clv), sum(s["end"] - s["start"] for s in clv)),
        "dbt_overhead": stage(iv(dbt_step), dbt_overhead, None),
        "startup": stage([(m.started, run_start)], startup, None),
    }
    stages["startup"]["parts"] = _startup_parts(m, marks, run_start)
    stages["dagster_between_steps"] = {"seconds": round(between, 2)}
    stages["shutdown"] = {"seconds": round(shutdown, 2)}
    fixed = startup + between + dbt_overhead + shutdown
    return {
        "run_id": run_id,
        "months": marks["report"]["months"],
        "wall_seconds": round(m.wall, 2),
        "cpu_seconds": round(m.cpu_seconds, 1) if m.cpu_seconds is not None else None,
        "rows": total_rows,
        "sales_lines": sales_lines,
        "rows_per_second": round(total_rows / m.wall) if m.wall else None,
        "peak_rss_gib": gib(m.peak_rss),
        "load_before": [round(x, 2) for x in m.load_before],
        "load_after": [round(x, 2) for x in m.load_after],
        "fixed_overhead_seconds": round(fixed, 2),
        "finance_span_seconds": round(finance_span, 2) if finance_span else None,
        "dbt_step_seconds": round(dbt_wall, 2),
        "dbt_elapsed_seconds": round(dbt_elapsed, 2) if dbt_elapsed else None,
        "stages": stages,
        "steps": [
            {
                "key": s["key"],
                "seconds": round(s["end"] - s["start"], 2),
                "peak_rss_gib": gib(m.sampler.peak(s["start"], s["end"])),
            }
            for s in steps
        ],
        "dbt_slowest": [
            {
                "node": n["unique_id"].split(".", 1)[1],
                "category": n["category"],
                "seconds": round(n["end"] - n["start"], 2),
            }
            for n in sorted(nodes, key=lambda n: n["start"] - n["end"])[:15]
        ],
        "dbt_totals": {
            c: round(sum(n["end"] - n["start"] for n in nodes if n["category"] == c), 2)
            for c in sorted({n["category"] for n in nodes})
        },
    }


def _startup_parts(m: Measured, marks: dict, run_start: float) -> dict:
    parts = {"python_start": marks["t0"] - m.started, "imports": marks["runner_imported"] - marks["t0"]}
    if "prepare_dbt" in marks:
        s, e = marks["prepare_dbt"]
        parts["prepare_dbt"] = e - s
        definitions = marks.get("build_definitions")
        parts["definitions_import"] = definitions[0] - e if definitions else None
    if "build_definitions" in marks:
        s, e = marks["build_definitions"]
        parts["build_definitions"] = e - s
        parts["run_start"] = run_start - e
    return {k: round(v, 2) for k, v in parts.items() if v is not None}


# ---------------------------------------------------------------------------------------------
# Baselines and correctness


def duckdb_settings() -> dict:
    """The pipeline's DuckDB threads and memory limit, so the DuckDB baseline runs with the same."""
    from assets.core.settings import load_settings

    config = load_settings().warehouse.duckdb_config()
    return {k: v for k, v in config.items() if k in ("threads", "memory_limit")}


def larger_memory_limit(limit: str) -> str | None:
    """1.5 times a DuckDB memory limit written in GB ("4GB" -> "6GB"), else None."""
    found = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*GB\s*", limit, re.IGNORECASE)
    return f"{float(found.group(1)) * 1.5:g}GB" if found else None


def run_duckdb_baseline(landing: Path, work: Path, logs: Path, code: Path) -> dict:
    """The hand-written script with the pipeline's DuckDB settings. If DuckDB runs out of memory
    under the pipeline's limit (at L it has, near 4 GB), once more with 1.5 times the limit: the
    ratio then compares the pipeline with a script that had more memory, never less, and the
    record keeps the failed attempt."""
    out = work / "baseline_duckdb.parquet"
    settings = duckdb_settings()

    def attempt(settings: dict) -> tuple[Measured, dict]:
        cmd = [PY, "-m", "benchmarks.baselines.duckdb_runner", "--landing", str(landing), "--out", str(out)]
        if settings.get("threads"):
            cmd += ["--threads", str(settings["threads"])]
        if settings.get("memory_limit"):
            cmd += ["--memory-limit", str(settings["memory_limit"]),
                    "--temp-dir", str(work / "duckdb_baseline_tmp")]
        log(f"baseline duckdb {settings} ...")
        m = run_measured(cmd, cwd=code)
        return m, _baseline_result(m, settings=settings)

    m, result = attempt(settings)
    larger = larger_memory_limit(str(settings.get("memory_limit", "")))
    if m.returncode != 0 and "OutOfMemory" in (result.get("error") or "").replace(" ", "") and larger:
        log(f"baseline duckdb: out of memory at {settings['memory_limit']}: {result['error']}")
        first = result
        m, result = attempt({**settings, "memory_limit": larger})
        result["first_attempt"] = first
    if m.returncode == 0:
        info = json.loads(m.stdout.strip().splitlines()[-1])
        result.update(
            compute_seconds=round(info["compute_seconds"], 2), fct_rows=info["rows"], output=repo_path(out)
        )
    log(f"baseline duckdb: {result['status']} in {m.wall:.1f} s, peak {result['peak_rss_gib']} GiB")
    return result


def run_pandas_baseline(landing: Path, work: Path, memory_gib: float, code: Path) -> dict:
    out = work / "baseline_pandas.parquet"
    cmd = [PY, "-m", "benchmarks.baselines.profit_pandas", "--landing", str(landing), "--out", str(out)]
    log(f"baseline pandas (address space capped at {memory_gib:g} GiB) ...")
    m = run_measured(cmd, cwd=code, memory_limit=int(memory_gib * GIB))
    result = _baseline_result(m, memory_limit_gib=memory_gib)
    if m.returncode == 0:
        result["output"] = repo_path(out)
    log(f"baseline pandas: {result['status']} in {m.wall:.1f} s, peak {result['peak_rss_gib']} GiB")
    return result


def repo_path(path: Path) -> str:
    """A path as the JSON records it: relative to the repository (the results travel between machines)."""
    return str(path.relative_to(ROOT))


def _baseline_result(m: Measured, **extra) -> dict:
    status = "ok" if m.returncode == 0 else ("out_of_memory" if m.out_of_memory else "failed")
    result = {
        "status": status,
        "wall_seconds": round(m.wall, 2),
        "peak_rss_gib": gib(m.peak_rss),
        "cpu_seconds": round(m.cpu_seconds, 1) if m.cpu_seconds is not None else None,
        "load_before": [round(x, 2) for x in m.load_before],
        "load_after": [round(x, 2) for x in m.load_after],
        **extra,
    }
    if status != "ok":
        result["error"] = failure_line(m.stderr) or f"exit {m.returncode}"
    return result


def compare_fct(warehouse: Path, parquet: Path, cents: bool) -> dict:
    """Rows of the pipeline's fct and of a baseline's that the other lacks (exact, or to the cent)."""
    import duckdb

    con = duckdb.connect()
    con.execute(f"ATTACH '{warehouse}' AS wh (READ_ONLY)")
    cols = [r[0] for r in con.execute("DESCRIBE wh.marts.fct_customer_profit_monthly").fetchall()]
    money = cols[2:]

    def norm(src: str) -> str:
        vals = ", ".join(f"CAST(round({c} * 100) AS BIGINT) AS {c}" if cents else c for c in money)
        return f"SELECT CAST(month AS DATE) AS month, customer_no, {vals} FROM {src}"

    pipeline, base = norm("wh.marts.fct_customer_profit_monthly"), norm(f"read_parquet('{parquet}')")
    only_pipeline = con.execute(f"SELECT count(*) FROM ({pipeline} EXCEPT ALL {base})").fetchone()[0]
    only_baseline = con.execute(f"SELECT count(*) FROM ({base} EXCEPT ALL {pipeline})").fetchone()[0]
    rows = con.execute("SELECT count(*) FROM wh.marts.fct_customer_profit_monthly").fetchone()[0]
    con.close()
    return {
        "pipeline_rows": rows,
        "only_in_pipeline": only_pipeline,
        "only_in_baseline": only_baseline,
        "same": only_pipeline == 0 and only_baseline == 0,
        "compared": "cents" if cents else "exact",
    }


def compare_marts(a: Path, b: Path) -> dict:
    """Every marts table of warehouse a against b: rows that differ (both directions)."""
    import duckdb

    con = duckdb.connect()
    con.execute(f"ATTACH '{a}' AS a (READ_ONLY)")
    con.execute(f"ATTACH '{b}' AS b (READ_ONLY)")
    tables = [
        r[0]
        for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = 'a' AND schema_name = 'marts' "
            "ORDER BY 1"
        ).fetchall()
    ]
    out = {}
    for t in tables:
        diff = con.execute(
            f"SELECT (SELECT count(*) FROM (FROM a.marts.{t} EXCEPT ALL FROM b.marts.{t})) + "
            f"(SELECT count(*) FROM (FROM b.marts.{t} EXCEPT ALL FROM a.marts.{t}))"
        ).fetchone()[0]
        out[t] = diff
    con.close()
    return {"tables": out, "same": all(v == 0 for v in out.values())}


# ---------------------------------------------------------------------------------------------
# One size


def fresh_work(size: Size, name: str) -> tuple[Path, Path, Path, Path, list[str]]:
    """An empty work folder (work, logs, landing, out) whose landing folder links every month but
    the held-back last one; returns them and the source's months."""
    src = ensure_source(size)
    months = source_months(src)
    assert len(months) - 1 == size.months, (size, len(months))
    work = CACHE / size.name / name
    if work.exists():
        shutil.rmtree(work)
    logs = work / "logs"
    logs.mkdir(parents=True)
    landing, out = work / "landing", work / "out"
    link_months(src, landing, months[:-1])
    return work, logs, landing, out, months


def bench_size(size: Size, args, code: Path) -> dict:
    work, logs, landing, out, months = fresh_work(size, "work")
    src = CACHE / size.name / "source"
    base_months, new_month = months[:-1], months[-1]
    rows_full = landing_rows(src, base_months)
    rows_new = landing_rows(src, [new_month])
    result: dict = {
        "size": size.name,
        "customers": size.customers,
        "months": size.months,
        "first_month": base_months[0],
        "last_month": base_months[-1],
        "new_month": new_month,
        "landing_rows": rows_full,
        "new_month_rows": rows_new,
        "landing_bytes": sum(f.stat().st_size for f in landing.rglob("*.csv")),
    }
    result["prepare"] = prepare_manifest(code, out / "warehouse.duckdb", logs)
    result["full"] = run_pipeline("full", landing, out, None, rows_full, logs, code)
    warehouse = out / "warehouse.duckdb"
    result["warehouse_bytes"] = warehouse.stat().st_size

    result["baselines"] = {}
    result["correctness"] = {}
    if not args.no_duckdb:
        result["baselines"]["duckdb"] = bl = run_duckdb_baseline(landing, work, logs, code)
        if bl["status"] == "ok":
            result["correctness"]["duckdb"] = compare_fct(warehouse, ROOT / bl["output"], cents=False)
    if not args.no_pandas:
        result["baselines"]["pandas"] = bl = run_pandas_baseline(landing, work, args.pandas_memory_gib, code)
        if bl["status"] == "ok":
            result["correctness"]["pandas"] = compare_fct(warehouse, ROOT / bl["output"], cents=True)
    for name, c in result["correctness"].items():
        log(f"correctness {name}: {'same' if c['same'] else 'DIFFERENT'} ({c})")
        if size.name == "S" and not c["same"]:
            raise SystemExit(f"the {name} baseline does not give the pipeline's fct on S: {c}")

    link_months(src, landing, [new_month])
    rows_all = landing_rows(src, months)
    result["update"] = run_pipeline("update", landing, out, [new_month], rows_new, logs, code)
    if args.verify_update is True or (args.verify_update is None and size.name == "S"):
        ref = work / "out_full_all"
        prepare_manifest(code, ref / "warehouse.duckdb", logs)
        result["update_reference"] = run_pipeline("full_all_months", landing, ref, None, rows_all, logs, code)
        result["correctness"]["update_vs_full"] = c = compare_marts(warehouse, ref / "warehouse.duckdb")
        log(f"update vs full run over all months: {'same' if c['same'] else 'DIFFERENT'} {c['tables']}")
    if args.incremental:
        # Incremental scenarios on the updated warehouse: a sales batch 6 months before the newest
        # month re-delivered with one line corrected, then a rerun with nothing new.
        corrected = months[-7]
        result["corrected_month"] = corrected
        log(f"corrected: re-delivering erp/sales_lines/{corrected} with one line changed")
        correct_sales_batch(landing, corrected)
        result["corrected"] = run_pipeline("corrected", landing, out, None, rows_all, logs, code)
        result["noop"] = run_pipeline("noop", landing, out, None, rows_all, logs, code)
        result["plans"] = build_plans(warehouse)
    result["targets"] = evaluate(result)
    if not args.keep:
        shutil.rmtree(work / "out_full_all", ignore_errors=True)
    return result


def bench_ingestion(size: Size, code: Path) -> dict:
    """The ingestion stage alone: every batch of the size's landing folder into a fresh warehouse."""
    work, logs, landing, out, months = fresh_work(size, "work-ingestion")
    months = months[:-1]
    rows = landing_rows(CACHE / size.name / "source", months)
    result: dict = {
        "size": size.name, "customers": size.customers, "months": size.months,
        "first_month": months[0], "last_month": months[-1], "landing_rows": rows,
        "landing_bytes": sum(f.stat().st_size for f in landing.rglob("*.csv")),
    }
    result["prepare"] = prepare_manifest(code, out / "warehouse.duckdb", logs)
    full = run_pipeline("ingestion", landing, out, None, rows, logs, code, ingestion_only=True)
    ingestion = full["stages"]["ingestion"]
    result["ingestion"] = {
        **ingestion,
        "cpu_seconds": full["cpu_seconds"],
        "wall_seconds": full["wall_seconds"],
        "load_before": full["load_before"],
        "load_after": full["load_after"],
        "steps": full["steps"],
    }
    log(f"{size.name} ingestion: {ingestion['seconds']} s, {ingestion['rows_per_second']:,} rows/s "
        f"(whole process {full['wall_seconds']} s, {full['cpu_seconds']} CPU-s)")
    shutil.rmtree(work, ignore_errors=True)
    return result


def correct_sales_batch(landing: Path, month: str) -> None:
    """Re-deliver a sales batch with the first line's net amount raised by 1.00 (new files and
    manifest: the landing folder's hard links to the cached source are replaced, never written)."""
    import csv
    from decimal import Decimal

    from orchestration.generator.landing import write_batch

    folder = landing / "erp" / "sales_lines" / month
    rows: list[dict] = []
    for part in sorted(folder.glob("*.csv")):
        with open(part, newline="", encoding="utf-8") as fh:
            rows += list(csv.DictReader(fh))
    rows[0]["net_amount"] = format(Decimal(rows[0]["net_amount"]) + 1, "f")
    shutil.rmtree(folder)
    write_batch(landing, "erp", "sales_lines", month, rows)


def build_plans(warehouse: Path) -> list[dict]:
    """Every build plan the runs recorded, oldest first, with its number of months per layer."""
    import duckdb

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        rows = con.execute(
            "SELECT p.run_id, p.mode, p.reason, count(m.month) FILTER (WHERE m.layer = 'fact'), "
            "count(m.month) FILTER (WHERE m.layer = 'segment'), "
            "count(m.month) FILTER (WHERE m.layer = 'kpi') "
            "FROM audit.build_plans AS p LEFT JOIN audit.build_plan_months AS m USING (run_id) "
            "GROUP BY ALL ORDER BY min(p.planned_at)").fetchall()
    finally:
        con.close()
    return [{"run_id": r[0], "mode": r[1], "reason": r[2], "fact_months": r[3], "segment_months": r[4],
             "kpi_months": r[5]} for r in rows]


def share(r: dict, scenario: str) -> float | None:
    """A scenario's wall time as a share of the full run's."""
    return round(r[scenario]["wall_seconds"] / r["full"]["wall_seconds"], 3) if scenario in r else None


def evaluate(r: dict) -> dict:
    full = r["full"]
    duck = r["baselines"].get("duckdb", {})
    pandas = r["baselines"].get("pandas", {})
    values = {
        "full_run_seconds": full["wall_seconds"],
        "peak_memory_gib": max(full["peak_rss_gib"], r.get("update", {}).get("peak_rss_gib", 0)),
        "finance_vs_duckdb": (
            round(full["stages"]["dbt_finance"]["seconds"] / duck["wall_seconds"], 2)
            if duck.get("status") == "ok"
            else None
        ),
        "pandas_vs_pipeline": (
            round(pandas["wall_seconds"] / full["wall_seconds"], 2)
            if pandas.get("status") == "ok"
            else ("pandas out of memory" if pandas.get("status") == "out_of_memory" else None)
        ),
        "update_share": share(r, "update"),
        "update_share_m": share(r, "update"),
        "corrected_share": share(r, "corrected"),
        "noop_seconds": r["noop"]["wall_seconds"] if "noop" in r else None,
        "fixed_overhead_seconds": full["fixed_overhead_seconds"],
    }
    out = {}
    for key, (size, op, limit, text) in TARGETS.items():
        if key == "update_share_m" and r["size"] != "M":
            continue
        v = values[key]
        if isinstance(v, str):
            ok = True
        elif v is None:
            ok = None
        else:
            ok = v <= limit if op == "<=" else v >= limit
        out[key] = {"value": v, "target": f"{op} {limit}", "applies_to": size, "met": ok, "what": text}
    return out


# ---------------------------------------------------------------------------------------------
# Output


def machine(commit: str) -> dict:
    mem = next(
        (
            int(line.split()[1]) * 1024
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        ),
        None,
    )
    import duckdb

    return {
        "cpus": os.cpu_count(),
        "memory_gib": gib(mem),
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "commit": commit,
        "warehouse_settings": duckdb_settings(),
    }


def write_json(result: dict, prefix: str = "") -> Path:
    DOCS.mkdir(parents=True, exist_ok=True)
    stamp = result["finished_at"].replace(":", "").replace("-", "")[:13]
    path = DOCS / f"{prefix}{result['size']}-{stamp}.json"
    path.write_text(json.dumps(result, indent=1, default=str) + "\n")
    return path


BEGIN, END = "<!-- benchmark-results:begin -->", "<!-- benchmark-results:end -->"


def newest_results() -> list[dict]:
    newest: dict[str, dict] = {}
    for path in sorted(DOCS.glob("*.json")):
        if not re.fullmatch(r"[SML]-\d{8}T\d{4}\.json", path.name):  # e.g. spark-M-*.json is not ours
            continue
        data = json.loads(path.read_text())
        data["_file"] = path.name
        if data.get("size") and data.get("finished_at", "") >= newest.get(data["size"], {}).get(
            "finished_at", ""
        ):
            newest[data["size"]] = data
    return [newest[k] for k in ("S", "M", "L") if k in newest]


def _fmt(v, unit: str = "") -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        v = f"{v:,.1f}" if abs(v) >= 10 else f"{v:,.2f}"
    elif isinstance(v, int):
        v = f"{v:,}"
    return f"{v}{unit}"


def results_markdown(results: list[dict]) -> str:
    lines = [
        "_Generated by `python -m benchmarks.run` from the newest `docs/benchmarks/<size>-*.json`; "
        "do not edit by hand._",
        "",
        *targets_markdown(results),
    ]
    for r in results:
        full, upd = r["full"], r.get("update")
        load = "/".join(f"{x:.1f}" for x in full["load_before"])
        lines += [
            f"### {r['size']}: {r['customers']:,} customers × {r['months']} months "
            f"({full['rows']:,} rows, {full['sales_lines']:,} sales lines) — `{r['_file']}`",
            "",
            f"Commit `{r['machine']['commit']}`, {r['machine']['cpus']} cores, "
            f"load average before the full run {load}; warehouse settings "
            f"{r['machine'].get('warehouse_settings') or 'DuckDB defaults'}.",
            "",
            "| stage | full run s | rows/s | peak GiB | update s | rows/s | peak GiB |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        for key, name in [
            ("ingestion", "ingestion"),
            ("dbt_finance", "dbt finance models"),
            ("dbt_segments_kpis", "dbt segments and KPIs"),
            ("checks", "checks (dbt tests)"),
            ("publishing", "publishing"),
            ("clv_fits", "predicted-value fits (clv_fits)"),
            ("dbt_overhead", "dbt start-up and gaps"),
            ("startup", "start-up (imports, dbt parse, definitions)"),
            ("dagster_between_steps", "Dagster between steps"),
            ("shutdown", "shutdown"),
        ]:
            f = full["stages"].get(key, {})
            u = (upd or {}).get("stages", {}).get(key, {})
            lines.append(
                f"| {name} | {_fmt(f.get('seconds'))} | {_fmt(f.get('rows_per_second'))} | "
                f"{_fmt(f.get('peak_rss_gib'))} | {_fmt(u.get('seconds'))} | "
                f"{_fmt(u.get('rows_per_second'))} | {_fmt(u.get('peak_rss_gib'))} |"
            )
        lines.append(
            f"| **whole run** | **{_fmt(full['wall_seconds'])}** | {_fmt(full['rows_per_second'])} | "
            f"{_fmt(full['peak_rss_gib'])} | **{_fmt((upd or {}).get('wall_seconds'))}** | "
            f"{_fmt((upd or {}).get('rows_per_second'))} | {_fmt((upd or {}).get('peak_rss_gib'))} |"
        )
        lines += [
            "",
            "| baseline | status | wall s | peak GiB | same fct as the pipeline |",
            "|---|---|---:|---:|---|",
        ]
        for name, b in r.get("baselines", {}).items():
            c = r.get("correctness", {}).get(name)
            same = (
                "–"
                if not c
                else ("yes" if c["same"] else f"NO ({c['only_in_pipeline']}/{c['only_in_baseline']})")
            )
            status = b["status"] + (
                f" (cap {b['memory_limit_gib']:g} GiB)" if b.get("memory_limit_gib") else ""
            )
            if first := b.get("first_attempt"):
                status += (f" with memory_limit {b['settings']['memory_limit']} (out of memory with "
                           f"{first['settings']['memory_limit']} after {_fmt(first['wall_seconds'])} s)")
            lines.append(
                f"| {name} | {status} | {_fmt(b['wall_seconds'])} | {_fmt(b['peak_rss_gib'])} | {same} |"
            )
        scenarios = [(k, t) for k, t in (("update", "add one month"), ("corrected",
                     f"a corrected batch 6 months back ({r.get('corrected_month', '?')})"),
                     ("noop", "no-op rerun")) if k in r]
        if scenarios:
            lines += ["", "| scenario | wall s | share of the full run | peak GiB |", "|---|---:|---:|---:|",
                      f"| full run | {_fmt(full['wall_seconds'])} | 1 | {_fmt(full['peak_rss_gib'])} |"]
            lines += [f"| {t} | {_fmt(r[k]['wall_seconds'])} | {_fmt(share(r, k))} | "
                      f"{_fmt(r[k]['peak_rss_gib'])} |" for k, t in scenarios]
            lines += ["", "Build plans: " + "; ".join(
                f"{p['mode']} ({p['fact_months']}/{p['segment_months']}/{p['kpi_months']} fact/segment/KPI "
                f"months: {p['reason']})" for p in r.get("plans", [])) + "."] if r.get("plans") else []
        if "update_vs_full" in r.get("correctness", {}):
            c = r["correctness"]["update_vs_full"]
            lines += [
                "",
                f"Update + earlier months vs one full run over all months: marts "
                f"{'identical' if c['same'] else 'DIFFERENT: ' + json.dumps(c['tables'])}.",
            ]
        shown = [
            f"{t['what'].split(' ≤ ')[0].split(' ≥ ')[0]}: {_fmt(t['value'])}" for t in r["targets"].values()
        ]
        lines += ["", "The targets' measures at this size: " + "; ".join(shown) + ".", ""]
    return "\n".join(lines)


def targets_markdown(results: list[dict]) -> list[str]:
    """Each target judged on the size it applies to (its newest run), and by how much it is missed."""
    by_size = {r["size"]: r for r in results}
    lines = ["### The targets", "", "| target | size | measured | met | by how much |",
             "|---|---|---:|---|---|"]
    for key, (size, op, limit, text) in TARGETS.items():
        r = by_size.get(size)
        t = (r or {}).get("targets", {}).get(key)
        if not t or t["value"] is None:
            lines.append(f"| {text} | {size} | not measured | – | – |")
            continue
        v = t["value"]
        if isinstance(v, str):
            how = v
        elif t["met"]:
            how = "met"
        else:
            how = f"{v / limit:.1f}× the limit" if op == "<=" else f"{v / limit:.2f} of the goal"
        met = {True: "yes", False: "**no**", None: "–"}[t["met"]]
        lines.append(f"| {text} | {size} | {_fmt(v)} | {met} | {how} |")
    return [*lines, ""]


def write_markdown() -> None:
    block = f"{BEGIN}\n{results_markdown(newest_results())}\n{END}"
    text = PERFORMANCE_MD.read_text() if PERFORMANCE_MD.exists() else f"# Performance\n\n{BEGIN}\n{END}\n"
    if BEGIN not in text:
        text += f"\n{BEGIN}\n{END}\n"
    head, rest = text.split(BEGIN, 1)
    PERFORMANCE_MD.write_text(head + block + rest.split(END, 1)[1])


def main() -> None:
    parser = argparse.ArgumentParser(description="strata performance benchmark")
    parser.add_argument("--sizes", default="S", help="comma-separated: S, M, L (default S)")
    parser.add_argument("--no-pandas", action="store_true", help="skip the pandas baseline")
    parser.add_argument("--no-duckdb", action="store_true", help="skip the DuckDB baseline")
    parser.add_argument(
        "--pandas-memory-gib",
        type=float,
        default=12.0,
        help="address-space cap of the pandas baseline (default 12)",
    )
    parser.add_argument(
        "--verify-update",
        dest="verify_update",
        action="store_true",
        default=None,
        help="also run a full run over all months and compare its marts with the update's "
        "(default: on S only)",
    )
    parser.add_argument("--no-verify-update", dest="verify_update", action="store_false")
    parser.add_argument("--keep", action="store_true", help="keep the reference run's output")
    parser.add_argument("--no-incremental", dest="incremental", action="store_false",
                        help="skip the incremental scenarios (a corrected batch 6 months back, "
                             "a no-op rerun)")
    parser.add_argument("--no-docs", action="store_true", help="write the JSON only, not docs/performance.md")
    parser.add_argument(
        "--in-place", action="store_true", help="run the checkout as it is instead of a worktree of HEAD"
    )
    parser.add_argument(
        "--ingestion-only",
        action="store_true",
        help="measure the ingestion stage alone; writes docs/benchmarks/ingestion-<size>-<time>.json",
    )
    parser.add_argument("--code", type=Path, help="run the pipeline from this checkout (not versioned)")
    args = parser.parse_args()
    sizes = [s.strip().upper() for s in args.sizes.split(",") if s.strip()]
    unknown = [s for s in sizes if s not in SIZES]
    if unknown:
        parser.error(f"unknown size(s) {unknown}; choose from {', '.join(SIZES)}")
    if args.code:
        code, commit = args.code.resolve(), f"{args.code.name} (a checkout given by --code)"
    else:
        code, commit = code_root(args.in_place)
    log(f"code under test: {code} at {commit}")
    if args.ingestion_only:
        for name in sizes:
            started = dt.datetime.now(dt.UTC)
            result = bench_ingestion(SIZES[name], code)
            result["started_at"] = started.isoformat(timespec="seconds")
            result["finished_at"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
            result["machine"] = machine(commit)
            log(f"{name}: wrote {write_json(result, 'ingestion-').relative_to(ROOT)}")
        return
    for name in sizes:
        started = dt.datetime.now(dt.UTC)
        result = bench_size(SIZES[name], args, code)
        result["started_at"] = started.isoformat(timespec="seconds")
        result["finished_at"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        result["machine"] = machine(commit)
        path = write_json(result)
        log(f"{name}: wrote {path.relative_to(ROOT)}")
        for key, t in result["targets"].items():
            log(f"  {key}: {t['value']} ({t['target']}, for {t['applies_to']}) met={t['met']}")
    if not args.no_docs:
        write_markdown()
        log(f"updated {PERFORMANCE_MD.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
