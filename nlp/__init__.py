"""Clinical NLP: record text to linked, asserted mentions (scispaCy pipeline)."""
