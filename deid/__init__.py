"""De-identification: finding HIPAA Safe Harbor identifiers in clinical text and replacing them.

Rules and dictionaries (`find_phi`), output modes (`deidentify`), a spaCy component
(`cdss_deid`) and an evaluation on tagged queries. Nothing here imports the graph,
so a note can be de-identified before anything else touches it.
"""

from deid.detect import find_phi
from deid.replace import DeidResult, deidentify
from deid.spans import PhiSpan, PhiType

__all__ = ["DeidResult", "PhiSpan", "PhiType", "deidentify", "find_phi"]
