"""`cdss nlp train`: a statistical NER for chemicals and diseases, trained from scratch on
the BC5CDR train split and the NCBI-disease train split, selected on the BC5CDR devel split.

No pretrained vectors can be downloaded here, so the model learns its own
hashed word, prefix, suffix and shape embeddings. NCBI-disease annotates only
diseases, so in its documents any token that BC5CDR's training data calls a
chemical is left unlabelled rather than taught as "not an entity".

The usual recipe is two runs: one selects the number of epochs on devel, the
second (`include_devel`) trains on train + devel for that many epochs and
keeps the last, since devel can no longer judge it.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import spacy
from spacy.language import Language
from spacy.training import Example, offsets_to_biluo_tags
from spacy.util import compounding, filter_spans, minibatch

from cdss.errors import ConfigError
from cdss.progress import progress
from nlp.corpora import Document, read_pubtator
from nlp.tokenizer import TOKENIZER

BC5CDR_TRAIN = "CDR_TrainingSet.PubTator.txt"
BC5CDR_DEV = "CDR_DevelopmentSet.PubTator.txt"
NCBI_TRAIN = "NCBItrainset_corpus.txt"
METRICS_FILE = "training_metrics.json"
CURVES_FILE = "training_curves.png"

CONFIG = """
[nlp]
lang = "en"
pipeline = ["ner"]

[nlp.tokenizer]
@tokenizers = "{tokenizer}"

[components]

[components.ner]
factory = "ner"

[components.ner.model]
@architectures = "spacy.TransitionBasedParser.v2"
state_type = "ner"
extra_state_tokens = false
hidden_width = 96
maxout_pieces = 2
use_upper = true
nO = null

[components.ner.model.tok2vec]
@architectures = "spacy.Tok2Vec.v2"

[components.ner.model.tok2vec.embed]
@architectures = "spacy.MultiHashEmbed.v2"
width = {width}
attrs = ["NORM", "PREFIX", "SUFFIX", "SHAPE"]
rows = [20000, 5000, 5000, 2500]
include_static_vectors = false

[components.ner.model.tok2vec.encode]
@architectures = "spacy.MaxoutWindowEncoder.v2"
width = {width}
depth = {depth}
window_size = 1
maxout_pieces = 3
"""


@dataclass(slots=True)
class TrainReport:
    out: Path
    epochs: list[dict] = field(default_factory=list)
    best_epoch: int = 0
    best_f1: float = 0.0
    seconds: float = 0.0
    train_documents: int = 0
    devel_in_training: bool = False

    def to_dict(self) -> dict:
        return {
            "out": str(self.out),
            "best_epoch": self.best_epoch,
            "best_dev_ents_f": None if self.devel_in_training else round(self.best_f1, 4),
            "devel_in_training": self.devel_in_training,
            "seconds": round(self.seconds, 1),
            "train_documents": self.train_documents,
            "epochs": self.epochs,
        }


def find_corpora(corpus: Path) -> tuple[Path, Path | None]:
    """The BC5CDR folder and, if present, the NCBI-disease folder, given either one of them or their parent."""
    bc5cdr = corpus if (corpus / BC5CDR_TRAIN).is_file() else corpus / "bc5cdr"
    if not (bc5cdr / BC5CDR_TRAIN).is_file():
        raise ConfigError(f"no BC5CDR training split under {corpus}: expected {BC5CDR_TRAIN} there or in bc5cdr/")
    for candidate in (corpus / "ncbi-disease", corpus.parent / "ncbi-disease"):
        if (candidate / NCBI_TRAIN).is_file():
            return bc5cdr, candidate
    return bc5cdr, None


def new_model(*, width: int = 128, depth: int = 4) -> Language:
    config = spacy.util.load_config_from_str(CONFIG.format(tokenizer=TOKENIZER, width=width, depth=depth))
    return spacy.util.load_model_from_config(config, auto_fill=True, validate=True)


def _example(nlp: Language, document: Document, *, unlabelled: Callable[[str], bool] | None = None) -> Example:
    doc = nlp.make_doc(document.text)
    spans = []
    for mention in document.mentions:
        span = doc.char_span(mention.start, mention.end, label=mention.type, alignment_mode="expand")
        if span is not None:
            spans.append(span)
    entities = [(s.start_char, s.end_char, s.label_) for s in filter_spans(spans)]
    tags = offsets_to_biluo_tags(doc, entities)
    if unlabelled is not None:
        tags = ["-" if tag == "O" and unlabelled(token.lower_) else tag for tag, token in zip(tags, doc, strict=True)]
    return Example.from_dict(doc, {"entities": tags})


def _dev_scores(nlp: Language, dev: list[Example]) -> dict:
    scores = nlp.evaluate(dev)
    per_type = scores.get("ents_per_type") or {}
    return {
        "dev_p": round(scores["ents_p"], 4),
        "dev_r": round(scores["ents_r"], 4),
        "dev_f": round(scores["ents_f"], 4),
        "dev_f_chemical": round(per_type.get("Chemical", {}).get("f", 0.0), 4),
        "dev_f_disease": round(per_type.get("Disease", {}).get("f", 0.0), 4),
    }


def _plot(report: TrainReport, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    epochs = [e["epoch"] for e in report.epochs]
    fig, left = plt.subplots(figsize=(7, 4))
    left.plot(epochs, [e["loss"] for e in report.epochs], color="tab:red", label="training loss")
    left.set_xlabel("epoch")
    left.set_ylabel("NER loss", color="tab:red")
    if not report.devel_in_training:
        right = left.twinx()
        for key, style in (("dev_f", "-"), ("dev_f_chemical", "--"), ("dev_f_disease", ":")):
            right.plot(epochs, [e[key] for e in report.epochs], style, color="tab:blue", label=key)
        right.set_ylabel("BC5CDR devel F1", color="tab:blue")
        right.legend(loc="lower right")
    fig.suptitle("cdss NER training")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _training_documents(corpus: Path, *, limit: int | None):
    """BC5CDR train and devel, NCBI-disease train, and BC5CDR's chemical words (NCBI annotates diseases only,
    so its chemical words are left unlabelled rather than taught as negatives)."""
    bc5cdr, ncbi = find_corpora(corpus)
    train_docs = read_pubtator(bc5cdr / BC5CDR_TRAIN)
    dev_docs = read_pubtator(bc5cdr / BC5CDR_DEV)
    chemicals = {d.text[m.start : m.end].casefold() for d in train_docs for m in d.mentions if m.type == "Chemical"}
    chemical_words = {w for c in chemicals for w in c.split() if len(w) > 2}
    ncbi_docs = read_pubtator(ncbi / NCBI_TRAIN) if ncbi else []
    if limit is not None:
        train_docs, dev_docs, ncbi_docs = train_docs[:limit], dev_docs[: max(1, limit // 2)], ncbi_docs[:limit]
    return train_docs, dev_docs, ncbi_docs, chemical_words


def _examples(nlp: Language, train_docs, dev_docs, ncbi_docs, chemical_words, *, include_devel: bool):
    """Training examples (devel too when asked) and devel examples."""
    train = [_example(nlp, d) for d in train_docs] + [
        _example(nlp, d, unlabelled=chemical_words.__contains__) for d in ncbi_docs
    ]
    dev = [_example(nlp, d) for d in dev_docs]
    if include_devel:
        train += dev
    return train, dev


def train_ner(
    corpus: Path,
    out: Path,
    *,
    max_epochs: int = 30,
    patience: int = 4,
    seed: int = 0,
    width: int = 128,
    depth: int = 4,
    dropout: float = 0.2,
    limit: int | None = None,
    include_devel: bool = False,
    show_progress: bool | None = None,
    log: Callable[[str], None] = lambda _: None,
) -> TrainReport:
    """Train, keep the epoch with the best devel F1, save it to `out` with its metrics.

    With `include_devel`, train on devel too for exactly `max_epochs` epochs and keep the last.
    """
    started = time.perf_counter()
    random.seed(seed)
    spacy.util.fix_random_seed(seed)
    documents = _training_documents(corpus, limit=limit)
    nlp = new_model(width=width, depth=depth)
    train, dev = _examples(nlp, *documents, include_devel=include_devel)
    optimizer = nlp.initialize(lambda: train)
    report = TrainReport(out=out, train_documents=len(train), devel_in_training=include_devel)
    best_bytes: bytes | None = None
    stale = 0
    for epoch in progress(
        range(1, max_epochs + 1), desc="training NER", total=max_epochs, enabled=show_progress, unit="epoch"
    ):
        random.shuffle(train)
        losses: dict[str, float] = {}
        for batch in minibatch(train, size=compounding(4.0, 32.0, 1.001)):
            nlp.update(batch, drop=dropout, sgd=optimizer, losses=losses)
        row = {"epoch": epoch, "loss": round(losses.get("ner", 0.0), 2)}
        if not include_devel:
            row.update(_dev_scores(nlp, dev))
        row["seconds"] = round(time.perf_counter() - started, 1)
        report.epochs.append(row)
        log(json.dumps(row))
        if include_devel:
            report.best_epoch = epoch
        elif row["dev_f"] > report.best_f1:
            report.best_f1, report.best_epoch, stale = row["dev_f"], epoch, 0
            best_bytes = nlp.to_bytes()
        else:
            stale += 1
            if stale >= patience:
                break
    if best_bytes is not None and not include_devel:
        nlp.from_bytes(best_bytes)
    report.seconds = time.perf_counter() - started
    nlp.meta.update(
        name="cdss_ner",
        version="1",
        description="Chemical and disease NER trained from scratch on BC5CDR train"
        + (" and devel" if include_devel else "")
        + " (+ NCBI-disease train)",
        cdss={
            "best_epoch": report.best_epoch,
            "best_dev_ents_f": None if include_devel else report.best_f1,
            "devel_in_training": include_devel,
            "seed": seed,
        },
    )
    out.mkdir(parents=True, exist_ok=True)
    nlp.to_disk(out)
    (out / METRICS_FILE).write_text(json.dumps(report.to_dict(), indent=2))
    _plot(report, out / CURVES_FILE)
    return report


DEFAULT_EPOCHS = 5
"""Epochs on train + devel when the NER is trained at first build: the best devel epoch of a run without devel
(README, Measured)."""


def ensure_ner(
    corpus: Path, out: Path, *, show_progress: bool | None = None, log: Callable[[str], None] = lambda _: None
) -> TrainReport | None:
    """Train the NER into `out` unless a model is already there; None when it is, or when the corpora are not.

    This is what `cdss nlp build` (and so `make run`) does on a fresh machine, so the default pipeline is the
    one the README measures: the corpora come with `cdss data fetch`, the model is trained once (about 10
    minutes on two cores) and kept under the data directory.
    """
    if (out / "meta.json").is_file():
        return None
    try:
        find_corpora(corpus)
    except ConfigError as exc:
        log(f"NER not trained: {exc}; the pipeline runs on dictionary and fuzzy matching")
        return None
    log(f"training the NER once: BC5CDR train + devel and NCBI-disease train, {DEFAULT_EPOCHS} epochs -> {out}")
    return train_ner(corpus, out, max_epochs=DEFAULT_EPOCHS, include_devel=True, show_progress=show_progress, log=log)
