"""Clinical NLP: record text to linked, asserted mentions, on a scispaCy pipeline.

Importing this package registers the `cdss_*` spaCy components, so a pipeline
saved with `nlp.to_disk` reloads with `spacy.load` (the package's entry points
do the same for spaCy users who never import it).
"""

from nlp import (  # noqa: F401
    abbreviations,
    context,
    fuzzy,
    matcher,
    measurement_spans,
    mentions,
    ner,
    sections,
    sentences,
    tokenizer,
)
from nlp.mentions import doc_mentions
from nlp.pipeline import (
    NerChoice,
    annotate,
    build_pipeline,
    clean_text,
    extract_mentions,
    load_pipeline,
    ner_choice,
    pipeline_version,
)

__all__ = [
    "NerChoice",
    "annotate",
    "build_pipeline",
    "clean_text",
    "doc_mentions",
    "extract_mentions",
    "load_pipeline",
    "ner_choice",
    "pipeline_version",
]
