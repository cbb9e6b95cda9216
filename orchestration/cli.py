"""The `strata` command: generate sample extracts, materialise the pipeline, run the demo."""

from __future__ import annotations

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
    checks = report.check_failures
    if checks.blocking:
        err_console.print("[red]failed checks, blocking (stopped the run):[/]")
        for line in checks.blocking:
            err_console.print(f"  - {line}")
    if checks.warnings:
        published = "published anyway" if "published_marts" in report.materialized else "did not stop the run"
        err_console.print(f"[yellow]failed checks, warnings ({published}):[/]")
        for line in checks.warnings:
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


if __name__ == "__main__":
    main()
