"""`helpdesk train` / evaluate: builds the NLU model from data/, writes evaluation reports and plots."""

from training.clinc import run_benchmark
from training.evaluate import cross_validate, public, write_plots

__all__ = ["cross_validate", "public", "run_benchmark", "write_plots"]
