"""The pieces of a CDS Hooks card: summaries that fit, markdown that cannot inject, stable ids, drafted orders."""

from __future__ import annotations

import re

from interop.cds_hooks import SUMMARY_CHARS, card_id, discovery, drafted_drugs, markdown_text, short
from tests import fhir_examples as fx


def test_a_summary_fits_and_is_cut_at_a_word():
    text = "Differential: " + ", ".join(f"disease number {i} 12%" for i in range(20))
    cut = short(text)
    assert len(cut) < SUMMARY_CHARS and cut.endswith("…") and text.startswith(cut[:-1])
    assert short("short") == "short"


def test_markdown_from_the_record_cannot_inject_markup():
    hostile = "**bold** [link](javascript:alert(1)) <img src=x onerror=alert(1)>\n# heading | cell"
    shown = markdown_text(hostile)
    assert "\n" not in shown
    assert re.search(r"(?<!\\)[<>\[\]()*#|]", shown) is None, "every markup character is escaped"
    assert shown.replace("\\", "") == " ".join(hostile.split())


def test_card_ids_are_stable_per_hook_instance():
    assert card_id("h1", "differential") == card_id("h1", "differential") != card_id("h2", "differential")


def test_discovery_names_each_service_once_with_a_patient_prefetch():
    services = discovery()["services"]
    assert len({s["id"] for s in services}) == len(services) == 2
    assert all(s["prefetch"]["patient"] == "Patient/{{context.patientId}}" for s in services)


def test_the_selected_draft_orders_are_the_ones_checked():
    call = fx.order_select({}, fx.coded(fx.RXNORM, "723", "Amoxicillin"))
    context = call["context"]
    assert drafted_drugs(context["draftOrders"], context["selections"]) == [("MedicationRequest/draft-1", "RXNORM:723")]
    assert drafted_drugs(context["draftOrders"], ["MedicationRequest/other"]) == []
    assert drafted_drugs(None, []) == []
