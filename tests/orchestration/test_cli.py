"""The `strata` command as a person meets it: --version, refusals before any work, --months, the log.

Every command runs as a real process (`python -m orchestration.cli`), its output a pipe (not a
terminal), so what is asserted is what a CI log or `| tee` shows.
"""

from __future__ import annotations

import subprocess
import textwrap
from importlib.metadata import version
from pathlib import Path

import pytest

from orchestration.preflight import MaterializeError, check_landing, contiguous_blocks, parse_months
from tests.orchestration.helpers import PYTHON

REPO = Path(__file__).resolve().parents[2]


def strata(*args: str, timeout: float = 1500) -> subprocess.CompletedProcess:
    return subprocess.run([PYTHON, "-m", "orchestration.cli", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=timeout)


def test_version_prints_the_package_version():
    done = strata("--version")
    assert done.returncode == 0
    assert done.stdout.strip() == f"strata {version('strata')}"


def test_an_empty_landing_folder_is_refused_naming_it_and_what_to_do(tmp_path):
    landing, out = tmp_path / "landing", tmp_path / "out"
    landing.mkdir()
    (landing / ".DS_Store").write_text("")  # metadata does not count as content
    done = strata("materialize", "--landing", str(landing), "--out", str(out))
    assert done.returncode == 2
    message = " ".join(done.stderr.split())  # rich may wrap long paths
    assert f"landing folder {landing} is empty" in message
    assert f"strata generate --out {landing}" in message
    assert not out.exists()  # no warehouse, no log: nothing started


def test_a_misspelled_landing_folder_is_refused_with_the_close_name(tmp_path):
    (tmp_path / "landing" / "erp").mkdir(parents=True)
    out = tmp_path / "out"
    done = strata("materialize", "--landing", str(tmp_path / "landnig"), "--out", str(out))
    assert done.returncode == 2
    message = " ".join(done.stderr.split())
    assert f"landing folder {tmp_path / 'landnig'} does not exist (did you mean 'landing'?)" in message
    assert not out.exists()


def test_a_misspelled_system_folder_is_refused_before_any_work(tmp_path):
    landing, out = tmp_path / "landing", tmp_path / "out"
    (landing / "crm" / "accounts" / "2025-01").mkdir(parents=True)
    (landing / "ERP" / "sales_lines" / "2025-01").mkdir(parents=True)
    done = strata("materialize", "--landing", str(landing), "--out", str(out))
    assert done.returncode == 2
    message = " ".join(done.stderr.split())
    assert f"landing folder {landing} holds 'ERP' (did you mean 'erp'?), which is not a system folder" in message
    assert "system folders crm found" in message
    assert not out.exists()


def test_landing_checks(tmp_path):
    (tmp_path / "erp" / "sales_lines" / "2025-01").mkdir(parents=True)
    check_landing(tmp_path)  # a month folder of a known entity: fine
    (tmp_path / "erp" / "invoices").mkdir()
    with pytest.raises(MaterializeError, match=r"holds 'invoices', which is not an entity of erp"):
        check_landing(tmp_path)
    (tmp_path / "erp" / "invoices").rmdir()
    (tmp_path / "erp" / "sales_lines" / "2025-01").rmdir()
    with pytest.raises(MaterializeError, match="no batches found"):
        check_landing(tmp_path)
    nested = tmp_path / "x"
    (nested / "delivery" / "erp").mkdir(parents=True)
    with pytest.raises(MaterializeError, match=f"pass --landing {nested / 'delivery'}"):
        check_landing(nested)


def test_months_syntax():
    assert parse_months("2025-01,2025-03..2025-06") == ["2025-01", "2025-03", "2025-04", "2025-05", "2025-06"]
    assert parse_months("2024-11..2025-02, 2025-01") == ["2024-11", "2024-12", "2025-01", "2025-02"]
    for bad, why in (("2025-13", "not a month"), ("2025-1", "not a month"), ("2025-03..2025-01", "ends before"),
                     (",", "no month")):
        with pytest.raises(ValueError, match=why):
            parse_months(bad)
    registered = ["2025-01", "2025-02", "2025-03", "2025-05"]  # 2025-04 never delivered
    assert contiguous_blocks(["2025-01", "2025-03", "2025-05"], registered) == [["2025-01"], ["2025-03", "2025-05"]]
    assert contiguous_blocks(["2025-02", "2025-01"], registered) == [["2025-01", "2025-02"]]


def test_a_bad_months_option_is_refused_by_click(tmp_path):
    done = strata("materialize", "--landing", str(tmp_path), "--out", str(tmp_path / "out"), "--months", "2025-3")
    assert done.returncode == 2
    assert "'2025-3' is not a month: write YYYY-MM" in done.stderr


def test_the_log_catches_descriptors_and_echoes_them_with_verbose(tmp_path):
    """What dbt and Dagster print (sys.stdout, sys.stderr, child processes) goes to the log file; with
    echo it also reaches the terminal, and the terminal handle stays usable for the progress view."""
    log = tmp_path / "logs" / "run.log"
    script = textwrap.dedent(f"""
        import subprocess, sys
        from pathlib import Path
        from orchestration.run_log import capture_output
        for echo in (False, True):
            with capture_output(Path({str(log)!r}), echo=echo) as captured:
                print("python stdout", echo)
                print("python stderr", echo, file=sys.stderr)
                subprocess.run(["echo", "child process", str(echo)], check=True)
                captured.terminal.write(f"progress view {{echo}}\\n")
        print("after")
    """)
    done = subprocess.run([PYTHON, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert log.read_text().splitlines() == [
        "python stdout False", "python stderr False", "child process False",
        "python stdout True", "python stderr True", "child process True"]
    shown = done.stdout.splitlines()
    # Without echo only the progress view reaches the terminal; with echo the log's lines too (the echo
    # thread and the view write independently, so their order is free).
    assert shown[0] == "progress view False" and shown[-1] == "after"
    assert sorted(shown[1:-1]) == sorted(["python stdout True", "python stderr True", "child process True",
                                         "progress view True"])
    assert done.stderr == ""


@pytest.mark.slow
def test_months_materialises_exactly_those_months_with_a_short_output_and_the_full_log(out_of_order):
    # The session's out-of-order chain (tests/support/out_of_order.py) began with
    # `strata materialize --months <first>..<before gap>,<after gap>..<last>` over the sample's
    # months, one month in the middle (`gap`) left out on purpose: two stretches, so two runs.
    chain = out_of_order
    assert chain.cli_returncode == 0, chain.cli_stdout + chain.cli_stderr
    assert chain.gap not in chain.cli_months
    assert chain.cli_loaded == chain.cli_months  # audit and raw layer: exactly those months

    # Piped, the output is a handful of lines: where the log is, a line per phase and run, the summary.
    lines = (chain.cli_stdout + chain.cli_stderr).splitlines()
    assert len(lines) <= 20, "\n".join(lines)
    first, last = chain.cli_months[0], chain.cli_months[-1]
    assert "done in" in chain.cli_stdout and f"{len(chain.cli_months)} months ({first} .. {last})" in chain.cli_stdout
    assert "of 2" in chain.cli_stdout  # two runs: the first stretch's batches alone, then the rest with dbt
    assert "Running with dbt=" not in chain.cli_stdout + chain.cli_stderr

    # The full log holds dbt's output and Dagster's, under the run id the summary names. The later
    # run of the chain (a Python call, not the CLI) writes no log of its own.
    [log] = (chain.out / "logs").glob("*.log")
    assert log.stem in chain.cli_stdout
    text = log.read_text(encoding="utf-8")
    assert "Running with dbt=" in text and "Completed successfully" in text
    assert " - dagster - INFO - materialize_all - " in text


def test_the_progress_phases_of_the_materialize_job(tmp_path):
    from orchestration.run_events import plan, step_phases
    from tests.orchestration.helpers import build_defs

    defs, _ = build_defs(tmp_path / "landing", tmp_path / "out")
    phases = step_phases(defs)
    assert sum(1 for p in phases.values() if p == "ingestion") == 16  # one op per contract entity
    assert phases["erp__sales_lines"] == "ingestion" and phases["dbt_models"] == "dbt"
    assert {op for op, p in phases.items() if p == "publishing"} == {
        "published_marts", "postgres_marts", "segment_report", "finance_export", "dbt_docs"}
    assert {op for op, p in phases.items() if p == "dbt"} == {"dbt_models", "clv_fits"}
    job = defs.resolve_job_def("materialize_all")
    full = plan(job, phases, ingestion_only=False)
    checks = len(job.graph.nodes) - 16 - 2 - 5  # every other op is an asset check
    assert {n: p.total for n, p in full.items()} == {"ingestion": 16, "checks": checks, "dbt": 2, "publishing": 5}
    partial = plan(job, phases, ingestion_only=True)
    assert {n: p.total for n, p in partial.items()} == {"ingestion": 16, "checks": None}
