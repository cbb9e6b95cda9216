"""The `strata` command: generate sample extracts, materialise the pipeline, run the demo."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from orchestration.settings import ConfigError

# Piped output (CI logs, `| tee`) gets room for the KPI tables instead of rich's default 80 columns.
console = Console() if sys.stdout.isatty() else Console(width=150)
err_console = Console(stderr=True) if sys.stderr.isatty() else Console(stderr=True, width=150)

DEMO_DIR = Path("demo")


@click.group(help="strata: customer profitability and stratification for IT distributors.")
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
    from orchestration.runner import prepare_dbt

    prepare_dbt(force=True)
    console.print("[green]dbt manifest ready[/]")


def _materialize(landing: Path, out: Path, config: Path | None, verbose: bool):
    from orchestration.runner import MaterializeError, materialize

    console.print(f"materialising [bold]{landing}[/] into [bold]{out}[/] ...")
    try:
        report = materialize(landing, out, config_file=config, verbose=verbose)
    except (ConfigError, MaterializeError) as exc:
        err_console.print(f"[red]error:[/] {exc}")
        sys.exit(2)
    console.print(f"months {report.months[0]} .. {report.months[-1]} ({len(report.months)}); "
                  f"{len(report.materialized)} asset materialisations; run {report.run_id}")
    if report.check_failures:
        err_console.print("[yellow]failed checks:[/]")
        for line in report.check_failures:
            err_console.print(f"  - {line}")
    if not report.success:
        err_console.print("[red]the run failed:[/]")
        for failure in report.failures:
            err_console.print(f"  - {failure}")
        if "published_marts" in report.materialized:
            err_console.print(f"The marts were published ({report.published}); a later step failed.")
        else:
            err_console.print(f"The last good published copy (if any) is unchanged: {report.published}")
        sys.exit(1)
    console.print(f"[green]done[/]: warehouse {report.warehouse}; published marts {report.published}")
    return report


@cli.command(help="Materialise every asset for every month present in a landing folder.")
@click.option("--landing", type=click.Path(path_type=Path), required=True, help="The landing root.")
@click.option("--out", type=click.Path(path_type=Path), required=True,
              help="Output folder: warehouse.duckdb, published/, dagster_home/.")
@click.option("--config", type=click.Path(path_type=Path), default=None, help="Business settings (YAML).")
@click.option("--verbose", is_flag=True, help="Show every asset's log lines.")
def materialize(landing: Path, out: Path, config: Path | None, verbose: bool) -> None:
    _materialize(landing, out, config, verbose)


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
    from orchestration.settings import load_settings

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
    from orchestration.scenario_plan import ScenarioError, check_name

    try:  # refuse a bad name or file before any run starts
        check_name(name)
        from orchestration.settings import load_settings

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
    from assets.scenario_publish import list_scenarios

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
    from orchestration.scenario_plan import ScenarioError, check_name

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
