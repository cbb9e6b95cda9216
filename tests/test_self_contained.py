"""Nothing a user meets points outside the repository: the docs, messages, code comments, SQL and
YAML name the project's own docs (docs/methodology.md, docs/marts.md, docs/landing-contract.md),
never the maintainers' specification folder beside the clone."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHECKED = ["README.md", "docs", "orchestration", "assets", "quality", "dbt_project"]
GENERATED = {"target", "logs", "dbt_packages", "__pycache__"}  # build output, ignored by git
OUTSIDE = "shared" + "/"  # spelled apart so this file does not match itself


def files() -> list[Path]:
    found = []
    for name in CHECKED:
        path = ROOT / name
        if path.is_file():
            found.append(path)
            continue
        found += [
            p for p in path.rglob("*")
            if p.is_file() and not GENERATED & set(p.relative_to(ROOT).parts)
        ]
    return found


def test_nothing_points_at_the_specification_folder_outside_the_repository():
    checked = files()
    assert len(checked) > 100
    hits = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in checked
        if path.suffix not in {".png", ".duckdb", ".parquet"}
        for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1)
        if OUTSIDE in line
    ]
    assert hits == []


def test_the_docs_the_project_points_at_exist():
    for page in ("methodology.md", "marts.md", "landing-contract.md", "publishing.md"):
        assert (ROOT / "docs" / page).is_file(), page
