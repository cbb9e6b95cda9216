"""The `strata` command: generate sample extracts, materialise the pipeline, run the demo."""

from __future__ import annotations

import json
import os
import signal
import sys
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

if TYPE_CHECKING:
    from quality.summary import FailedChecks

# Piped output (CI logs, `| tee`) gets room for the KPI tables instead of rich's default 80 columns.
console = Console() if sys.stdout.isatty() else Console(width=150)
err_console = Console(stderr=True) if sys.stderr.isatty() else Console(stderr=True, width=150)

DEMO_DIR = Path("demo")
# The exit code of a run ended by SIGINT or SIGTERM (the shell's 128 + SIGINT).
INTERRUPTED_EXIT = 130


@click.group(help="strata: customer profitability and stratification for IT distributors.")
@click.version_option(package_name="strata", message="strata %(version)s")
def cli() -> None:
    pass


def main() -> None:
    """The `strata` entry point: run the command, then leave without interpreter teardown.

    DuckDB 2.0's Python bindings print pages of "nanobind: leaked instance" warnings at shutdown when
    a library (Dagster, dbt) still holds one of its objects; the command's work and output are
    complete by then, so flush and exit with the command's code.
    """
    try:
        cli(standalone_mode=True)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=console, transient=False)


def _generate(out: Path, customers: int, months: int, end_month: str | None, seed: int, fmt: str):
    from orchestration.generator import generate

    with _progress() as progress:
        task = progress.add_task("generating", total=months)

        def report(stage: str, done: int, total: int) -> None:
            progress.update(task, description=stage, completed=done, total=total)

        return generate(out, customers=customers, months=months, end_month=end_month, seed=seed, fmt=fmt,
                        progress=report)


@cli.command(help="Write deterministic sample extracts (ERP, CRM, PSA) into a landing folder.")
@click.option("--out", type=click.Path(path_type=Path), required=True, help="The landing folder to write.")
@click.option("--customers", type=click.IntRange(min=1), default=300, show_default=True)
@click.option("--months", type=click.IntRange(min=1), default=36, show_default=True)
@click.option("--end-month", metavar="YYYY-MM", default=None,
              help="The newest month (default: the last complete month).")
@click.option("--seed", type=int, default=7, show_default=True)
@click.option("--format", "fmt", type=click.Choice(["csv", "parquet"]), default="csv", show_default=True)
def generate(out: Path, customers: int, months: int, end_month: str | None, seed: int, fmt: str) -> None:
    summary = _generate(out, customers, months, end_month, seed, fmt)
    console.print(f"[green]wrote[/] {out}: {summary.customers} customers, months {summary.first_month} .. "
                  f"{summary.last_month}, {summary.total_rows:,} rows in {summary.files} files")


@cli.command(help="Build the dbt manifest (run once after installing or changing dbt_project/).")
def prepare() -> None:
    from orchestration.prepare import prepare_dbt

    prepare_dbt(force=True)
    console.print("[green]dbt manifest ready[/]")


@cli.command(help="Write the dbt sources of the raw layer (dbt_project/models/staging/*/_*__sources.yml) "
             "from the landing contract.")
@click.option("--check", is_flag=True,
              help="Write nothing; exit 1 when a sources file differs from the contract.")
def sources(check: bool) -> None:
    from assets.core import dbt_sources

    if check:
        stale = dbt_sources.stale_sources()
        for path in stale:
            err_console.print(f"[red]differs from the landing contract:[/] {path}")
        if stale:
            err_console.print(f"run `{dbt_sources.REGENERATE}` to regenerate")
            raise SystemExit(1)
        console.print("[green]dbt sources match the landing contract[/]")
        return
    written = dbt_sources.write_sources()
    for path in written:
        console.print(f"[green]wrote[/] {path}")
    if written:
        console.print("run `strata prepare` to rebuild the dbt manifest")
    else:
        console.print("dbt sources already match the landing contract")


def _months_option(_ctx, _param, value: str | None) -> list[str] | None:
    from orchestration.preflight import parse_months

    if value is None:
        return None
    try:
        return parse_months(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def _materialize(landing: Path, out: Path, config: Path | None, verbose: bool,
                 months: list[str] | None = None, full_refresh: bool = False):
    # Only light imports before the landing folder is checked: a wrong one is refused at once, before
    # pydantic, Dagster or dbt load (`python -X importtime -m orchestration.cli`).
    from orchestration.preflight import MaterializeError, check_landing

    try:
        check_landing(landing.resolve())
    except MaterializeError as exc:
        err_console.print(f"[red]error:[/] {exc}", soft_wrap=True)
        sys.exit(2)
    from assets.core.settings import ConfigError, load_settings
    from orchestration.run_log import capture_output, log_path

    try:
        load_settings(config)
    except ConfigError as exc:
        err_console.print(f"[red]error:[/] {exc}", soft_wrap=True)
        sys.exit(2)
    run_id = str(uuid.uuid4())
    # SIGTERM as SIGINT, as Dagster does while a step runs: also before and between the runs, a
    # `kill` ends the command through the same path (KeyboardInterrupt) and the message below.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    log = log_path(out.resolve(), run_id)
    console.print(f"materialising [bold]{landing}[/] into [bold]{out}[/] (full log: {log})", soft_wrap=True)
    started = time.monotonic()
    report = error = None
    followed: dict = {}
    with capture_output(log, echo=verbose) as captured:
        from assets.core.engines import EngineError
        from orchestration.progress_view import ProgressView
        from orchestration.runner import materialize

        view = None if verbose else ProgressView(captured.terminal)

        def on_progress(progress) -> None:
            followed[progress.run_id] = progress
            if view is not None:
                view.update(progress)

        try:
            report = materialize(landing, out, config_file=config, verbose=True, months=months, run_id=run_id,
                                 on_progress=on_progress, full_refresh=full_refresh)
        except (ConfigError, MaterializeError, EngineError) as exc:
            error = exc
        except KeyboardInterrupt:  # outside Dagster's steps: nothing was running that needs its word
            report = None
        finally:
            if view is not None:
                for progress in followed.values():
                    view.finish(progress)
                view.close()
    if error is not None:
        err_console.print(f"[red]error:[/] {error}", soft_wrap=True)
        err_console.print(f"full log: {log}", soft_wrap=True)
        sys.exit(2)
    if report is None or report.interrupted:
        _print_interrupted(report, time.monotonic() - started, log)
    if report.nothing_changed:
        console.print(f"[green]nothing changed[/] since the last build: nothing loaded, no model recomputed, "
                      f"the published copy stays ({report.published}); run {report.run_id}", soft_wrap=True)
        return report
    _print_run_summary(report, followed, time.monotonic() - started, log)
    return report


def _print_failed_checks(checks: FailedChecks, log: Path, published: bool) -> None:
    """Failed checks in the group that says what they did: the blocking ones one by one, the warnings
    counted per check with one example each (every line goes to the log)."""
    if not checks:
        return
    with open(log, "a", encoding="utf-8") as f:
        f.write("\nfailed checks:\n" + "".join(f"  - {line}\n" for line in checks.lines))
    if checks.blocking:
        err_console.print("[red]failed checks, blocking (stopped the run):[/]")
        for line in checks.blocking:
            err_console.print(f"  - {line}", soft_wrap=True, highlight=False)
    if checks.warnings:
        by_check: dict[str, list[str]] = {}
        for line in checks.warnings:
            by_check.setdefault(line.split(" — ", 1)[0].split(" ", 1)[1].rsplit(":", 1)[-1], []).append(line)
        effect = "published anyway" if published else "did not stop the run"
        err_console.print(f"[yellow]failed checks, warnings ({effect}):[/] each one in the log")
        for check, lines in sorted(by_check.items()):
            more = f" (and {len(lines) - 1} more)" if len(lines) > 1 else ""
            err_console.print(f"  - {check} ×{len(lines)}: {lines[0]}{more}", soft_wrap=True, highlight=False)


def _print_interrupted(report, seconds: float, log: Path) -> None:
    """SIGINT or SIGTERM ended the command: say so, say what was published, exit non-zero."""
    minutes, secs = divmod(int(seconds), 60)
    run = f" (run {report.run_id}, marked failed in Dagster)" if report else ""
    err_console.print(f"[red]the run was interrupted[/] (SIGINT or SIGTERM) after {minutes}:{secs:02d}{run}; "
                      "the running step (dbt included) was stopped, no later step runs.", soft_wrap=True)
    if report and "published_marts" in report.materialized:
        err_console.print(f"The marts were published before the interrupt ({report.published}).")
    else:
        err_console.print("Nothing was published: the last good published copy (if any) is unchanged.")
    err_console.print(f"full log: {log}", soft_wrap=True)
    sys.exit(INTERRUPTED_EXIT)


def _print_run_summary(report, followed: dict, seconds: float, log: Path) -> None:
    from orchestration.progress_view import months_text

    rows = sum(p.rows_loaded for p in followed.values())
    minutes, secs = divmod(int(seconds), 60)
    _print_failed_checks(report.check_failures, log, published="published_marts" in report.materialized)
    if not report.success:
        err_console.print(f"[red]the run failed[/] after {minutes}:{secs:02d} (run {report.run_id}):")
        for failure in report.failures:
            err_console.print(f"  - {failure}", soft_wrap=True)
        if "published_marts" in report.materialized:
            err_console.print(f"The marts were published ({report.published}); a later step failed.")
        else:
            err_console.print(f"The last good published copy (if any) is unchanged: {report.published}")
        err_console.print(f"full log: {log}", soft_wrap=True)
        sys.exit(1)
    console.print(f"[green]done[/] in {minutes}:{secs:02d}: {months_text(report.months)}, {rows:,} rows "
                  f"loaded, {len(report.materialized)} asset materialisations; run {report.run_id}",
                  soft_wrap=True)
    out = report.warehouse.parent
    for label, path in (("warehouse", report.warehouse), ("published", report.published),
                        ("finance", out / "finance" / "finance.xlsx"),
                        ("report", out / "report" / "index.html"), ("log", log)):
        if path.exists():
            console.print(f"  {label:<10} {path}", soft_wrap=True)


@cli.command(help="Materialise every asset over a landing folder: the months that changed since the "
                  "last run (every month on the first run), or only the months given.")
@click.option("--landing", type=click.Path(path_type=Path), required=True, help="The landing root.")
@click.option("--out", type=click.Path(path_type=Path), required=True,
              help="Output folder: warehouse.duckdb, published/, logs/, dagster_home/.")
@click.option("--config", type=click.Path(path_type=Path), default=None, help="Business settings (YAML).")
@click.option("--months", metavar="LIST", callback=_months_option, default=None,
              help="Load only these months' batches: YYYY-MM, comma-separated, YYYY-MM..YYYY-MM for a range "
                   "(e.g. 2025-01,2025-03..2025-06). dbt, checks and publishing run as always.")
@click.option("--verbose", is_flag=True,
              help="Print the full log (dbt's and Dagster's) as it is written instead of the progress view; "
                   "it is always kept in <out>/logs/<run>.log.")
@click.option("--full-refresh", is_flag=True,
              help="Rebuild every dbt model over every month, whatever changed (docs/incremental.md).")
def materialize(landing: Path, out: Path, config: Path | None, months: list[str] | None,
                verbose: bool, full_refresh: bool) -> None:
    _materialize(landing, out, config, verbose, months, full_refresh)


@cli.command(help="Generate the sample extracts, materialise them and show the per-segment KPIs.")
@click.option("--dir", "demo_dir", type=click.Path(path_type=Path), default=DEMO_DIR, show_default=True)
@click.option("--customers", type=click.IntRange(min=1), default=300, show_default=True)
@click.option("--months", type=click.IntRange(min=13), default=36, show_default=True)
@click.option("--config", type=click.Path(path_type=Path), default=None, help="Business settings (YAML).")
def demo(demo_dir: Path, customers: int, months: int, config: Path | None) -> None:
    from orchestration.summary import print_summary

    landing, out = demo_dir / "landing", demo_dir / "out"
    _generate(landing, customers, months, None, 7, "csv")
    report = _materialize(landing, out, config, verbose=False)
    from assets.core.settings import load_settings

    print_summary(console, report, landing, lcy=load_settings(config).currency.lcy)


# --------------------------------------------------------------------------------------------------
# `strata scenario`: what-if runs (docs/scenarios.md). Kept as its own group, apart from the commands above.

OUT_OPTION = click.option(
    "--out", type=click.Path(path_type=Path), envvar="STRATA_OUT", default=DEMO_DIR / "out",
    show_default=True,
    help="The output folder production materialises into (warehouse.duckdb); $STRATA_OUT if set.")


@cli.group(help="What-if scenarios: see what a changed configuration would do, without changing production.")
def scenario() -> None:
    pass


def _scenario_job(out: Path, job: str, op_config: dict, production_config: Path | None):
    from orchestration.scenario_jobs import execute

    result = execute(out, job, op_config, production_config)
    if not result.success:
        failures = [e.step_failure_data.error.message.strip() for e in result.all_events
                    if e.is_step_failure and e.step_failure_data.error]
        err_console.print("[red]error:[/] " + ("\n".join(failures) or f"run {result.run_id} failed"))
        sys.exit(2)
    return result


@scenario.command("run", help="Recompute what a scenario file changes, compare with production, publish it.")
@click.option("--config", "config_file", type=click.Path(path_type=Path), required=True,
              help="The scenario's configuration (a copy of production's, changed).")
@click.option("--name", required=True, help="The scenario's name: lower-case letters, digits, underscores.")
@click.option("--month", metavar="YYYY-MM", default=None,
              help="Compare at this segment month (default: the newest).")
@OUT_OPTION
@click.option("--production-config", type=click.Path(path_type=Path), envvar="STRATA_CONFIG", default=None,
              help="The configuration production runs with (default: $STRATA_CONFIG, else the built-in one).")
@click.option("--rebuild-all", is_flag=True,
              help="Recompute every model that reads any setting, not only what the scenario changes.")
def scenario_run(config_file: Path, name: str, month: str | None, out: Path, production_config: Path | None,
                 rebuild_all: bool) -> None:
    from assets.core.settings import ConfigError, load_settings
    from assets.scenarios.plan import ScenarioError, check_name

    try:  # refuse a bad name or file before any run starts
        check_name(name)
        load_settings(config_file)
    except (ScenarioError, ConfigError) as exc:
        err_console.print(f"[red]error:[/] {exc}")
        sys.exit(2)
    if not (Path(out) / "warehouse.duckdb").is_file():
        err_console.print(f"[red]error:[/] no warehouse in {out}: run `strata materialize` first "
                          "(or pass --out)")
        sys.exit(2)
    op_config = {"name": name, "config_file": str(Path(config_file).resolve()), "rebuild_all": rebuild_all,
                 **({"month": month} if month else {})}
    result = _scenario_job(out, "scenario_run", op_config, production_config)
    folder = Path(result.output_for_node("scenario"))
    summary = json.loads((folder / "_scenario.json").read_text(encoding="utf-8"))
    console.print(f"scenario [bold]{name}[/] at {summary['month'][:7]}: settings changed: "
                  f"{', '.join(summary['changed_settings']) or 'none'}; "
                  f"{len(summary['models_rebuilt'])} models "
                  f"rebuilt; {summary['customers_changed']} customer(s) change")
    console.print(f"[green]published[/] {folder} (report: {folder / 'report' / 'index.html'})")


@scenario.command("list", help="List the published scenarios of an output folder.")
@OUT_OPTION
def scenario_list(out: Path) -> None:
    from assets.scenarios.publish import list_scenarios

    found = list_scenarios(out)
    if not found:
        console.print(f"no scenarios under {out}")
        return
    for s in found:
        console.print(f"[bold]{s['scenario']}[/]  month {s['month'][:7]}  created {s['created_at']}  "
                      f"{s['customers_changed']} customer(s) change  "
                      f"settings: {', '.join(s['changed_settings']) or 'none'}")


@scenario.command("drop", help="Remove a scenario: its warehouse schemas, its folder, its PostgreSQL rows.")
@click.argument("name")
@OUT_OPTION
def scenario_drop(name: str, out: Path) -> None:
    from assets.scenarios.plan import ScenarioError, check_name

    try:
        check_name(name)
    except ScenarioError as exc:
        err_console.print(f"[red]error:[/] {exc}")
        sys.exit(2)
    result = _scenario_job(out, "scenario_drop", {"name": name}, None)
    removed = result.output_for_node("drop")
    console.print(f"scenario {name}: "
                  + (f"removed {len(removed)} item(s)" if removed else "nothing to remove"))

if __name__ == "__main__":
    main()
