"""The scenario jobs as the Dagster UI shows them: in the definitions, one writer at a time."""

from __future__ import annotations

import dagster as dg

from orchestration.jobs import WAREHOUSE_TAG_KEY
from orchestration.scenario_jobs import ScenarioRunConfig

POOL = "warehouse_writer"


def test_the_scenario_jobs_are_launchable_from_the_ui_and_take_the_writer_slot():
    from orchestration.definitions import defs as lazy_defs

    defs = lazy_defs()
    dg.Definitions.validate_loadable(defs)
    for name, op in (("scenario_run", "scenario"), ("scenario_drop", "drop")):
        job = defs.resolve_job_def(name)
        assert job.description and job.executor_def.name == "in_process"
        assert job.tags[WAREHOUSE_TAG_KEY] == "write"  # the run queue starts one writer run at a time
        node = job.graph.node_named(op).definition
        assert node.pool == POOL  # and its step holds the slot


def test_the_launchpad_takes_the_scenario_as_text_or_as_a_path():
    fields = ScenarioRunConfig.model_fields
    assert {"name", "config_yaml", "config_file", "month", "rebuild_all"} == set(fields)
    assert fields["name"].is_required() and not fields["config_yaml"].is_required()
