"""The deterministic sample-extract generator behind `strata generate` (see docs/generator.md).

from orchestration.generator import generate
summary = generate(Path("demo/landing"), customers=300, months=36, end_month="2026-10", seed=7)
"""

from orchestration.generator.run import generate
from orchestration.generator.summary import GenerationSummary, PlantedDifference, UnknownCustomerRows

__all__ = ["GenerationSummary", "PlantedDifference", "UnknownCustomerRows", "generate"]
