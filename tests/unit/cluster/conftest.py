"""The Spark jobs run on the NLP tests' tiny graph and pipeline."""

from tests.unit.nlp.conftest import graph, pipeline

__all__ = ["graph", "pipeline"]
