"""The clinician's page in a real browser over the real app: a note in, the differential, its evidence and the
note's mentions out; re-ranking from "Ask next"; markup in a note stays text; the key stays out of URLs."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from tests.browser import Site, why_no_browser

if (reason := why_no_browser()) is not None:
    pytest.skip(reason, allow_module_level=True)

from playwright.sync_api import ConsoleMessage, Page, Response, expect

NOTE = "Three days of fever and productive cough. No skin rash. Mother had seizures."
# Markup before, between and after the two mentions: every stretch of the note between marks must stay text.
XSS = '<img src=x onerror="window.__xss=1"> fever <script>window.__xss=2</script> cough <svg onload="window.__xss=3">'
RECOMMEND = "/v1/recommendations"
CSP_PROBE = """() => new Promise((resolve) => {
  document.addEventListener("securitypolicyviolation", (e) => resolve(e.effectiveDirective), { once: true });
  document.body.insertAdjacentHTML("beforeend", '<img src="/no-such-image.png" onerror="window.__csp = 1">');
})"""


def percent(p: float) -> str:
    """The page's rendering of a probability."""
    return "<0.1%" if p < 0.001 else f"{p * 100:.1f}%"


def api_get(site: Site, path: str) -> dict:
    request = urllib.request.Request(site.url + path, headers={"X-API-Key": site.key})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


def is_recommend(response: Response) -> bool:
    return urlsplit(response.url).path == RECOMMEND


def open_with_key(page: Page, site: Site, key: str | None = None) -> Response:
    response = page.goto(site.url + "/")
    page.get_by_role("textbox", name="API key").fill(key or site.key)
    return response


def settled(page: Page) -> None:
    """Wait until the page has drawn the whole answer, the leading diagnosis's neighbourhood included."""
    page.wait_for_selector('#results[aria-busy="false"]', state="attached")


def rank(page: Page, note: str) -> dict:
    page.get_by_label("Clinical note").fill(note)
    with page.expect_response(is_recommend) as sent:
        page.get_by_role("button", name="Rank the differential").click()
    assert sent.value.status == 200, sent.value.text()
    settled(page)
    return sent.value.json()


def test_a_note_gives_the_differential_its_evidence_and_the_mentions_by_assertion(page: Page, site: Site):
    refused: list[str] = []

    def keep_refusals(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            refused.append(message.text)

    page.on("console", keep_refusals)
    open_with_key(page, site)
    answer = rank(page, NOTE)
    top = answer["diagnoses"][0]
    first = page.locator("#differential > li").first
    expect(first).to_have_attribute("data-id", "DOID:552")
    expect(first.locator(".name")).to_have_text("pneumonia")
    expect(first.locator(".probability")).to_have_text(percent(top["probability"]))
    bar, fill = first.locator(".bar").bounding_box(), first.locator(".fill").bounding_box()
    assert fill["width"] / (bar["width"] - 2) == pytest.approx(top["probability"], abs=0.005)
    urgent = [d["id"] for d in answer["diagnoses"] if "urgent" in d]
    assert urgent, "the test graph has a can't-miss disease among the leaders"
    marked = page.locator("#differential > li:has(.cant-miss)")
    expect(marked).to_have_count(len(urgent))
    assert [marked.nth(i).get_attribute("data-id") for i in range(len(urgent))] == urgent

    first.locator("summary").click()
    rows = first.locator("table.evidence tbody tr")
    expect(rows).to_have_count(len(top["contributions"]))
    cough = first.locator("table.evidence tbody tr", has_text="Cough")
    expect(cough).to_have_class("dir-for")
    expect(cough).to_contain_text("ddxplus test (CC BY 4.0)")
    fever = next(c for c in top["contributions"] if c["name"] == "Fever")
    expect(first.locator("table.evidence tbody tr", has_text="Fever")).to_have_class(f"dir-{fever['direction']}")

    highlighted = page.locator("#highlighted")
    expect(highlighted).to_have_text(NOTE)
    negated = highlighted.locator("mark.a-negated")
    expect(negated).to_have_text("skin rash")
    assert {"HP:0000988", "negated"} <= set(negated.get_attribute("title").replace(";", " ").split())
    expect(highlighted.locator("mark.a-family")).to_have_text("seizures")
    expect(highlighted.locator("mark.a-present")).to_have_text(["fever", "cough"])
    expect(page.locator("#legend li")).to_have_count(6)

    expect(page.locator("#treatments tr[data-drug='DRUGBANK:DB00254']")).to_contain_text("cdss_curated")
    expect(page.locator("#left-out")).to_contain_text("Oxygen for pneumonia: a medical gas")
    expect(page.locator("#related li").first).to_have_attribute("data-id", "ORPHA:300")
    neighbourhood = api_get(site, "/v1/diseases/DOID:552")
    for kind in ("findings", "treatments"):
        ids = [e["id"] for e in neighbourhood[kind]]
        assert page.locator(f"#graph svg g.k-{kind}").evaluate_all("gs => gs.map(g => g.dataset.id)") == ids
    expect(page.locator("#graph svg g.centre")).to_have_attribute("data-id", "DOID:552")

    expect(page.locator("#notice")).to_have_text(answer["notice"])
    expect(page.locator("#versions")).to_contain_text(answer["versions"]["graph"])
    page.locator("#versions").scroll_into_view_if_needed()
    disclaimer = page.locator("#disclaimer")
    expect(disclaimer).to_contain_text("Decision support for a clinician, not a diagnosis")
    expect(disclaimer).to_be_in_viewport()
    assert not refused, "the page itself keeps to its policy"


def test_answering_a_question_adds_the_finding_and_ranks_again(page: Page, site: Site):
    open_with_key(page, site)
    before = rank(page, NOTE)
    asked = before["next_questions"][0]
    shown = page.locator("#differential li[data-id='DOID:552'] .probability")
    expect(shown).to_have_text(percent(before["diagnoses"][0]["probability"]))

    with page.expect_response(is_recommend) as sent:
        page.locator(f"#questions li[data-finding='{asked['finding']}']").get_by_role("button", name="Yes").click()
    sent_case = sent.value.request.post_data_json
    assert sent_case["findings"] == [{"id": asked["finding"], "status": "present"}]
    assert sent_case["text"] == NOTE
    after = sent.value.json()
    settled(page)
    expect(page.locator(f"#answered li[data-finding='{asked['finding']}']")).to_have_attribute("data-status", "present")
    p_before = next(d["probability"] for d in before["diagnoses"] if d["id"] == "DOID:552")
    p_after = next(d["probability"] for d in after["diagnoses"] if d["id"] == "DOID:552")
    assert p_after > p_before, "a finding pneumonia expects, answered yes, raises it"
    expect(shown).to_have_text(percent(p_after))

    denied = after["next_questions"][0]
    with page.expect_response(is_recommend) as sent:
        page.locator(f"#questions li[data-finding='{denied['finding']}']").get_by_role("button", name="No").click()
    assert sent.value.request.post_data_json["findings"] == [
        {"id": asked["finding"], "status": "present"},
        {"id": denied["finding"], "status": "absent"},
    ]
    settled(page)
    with page.expect_response(is_recommend) as sent:
        page.get_by_role("button", name=f"Remove {asked['name']}").click()
    assert sent.value.request.post_data_json["findings"] == [{"id": denied["finding"], "status": "absent"}]
    settled(page)
    expect(page.locator("#answered li")).to_have_count(1)
    expect(page.locator("#answered li")).to_have_attribute("data-status", "absent")


def test_markup_in_a_note_is_shown_as_text_and_never_runs(page: Page, site: Site):
    policy = open_with_key(page, site).headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    rank(page, XSS)
    assert page.evaluate("window.__xss") is None
    expect(page.locator("#highlighted")).to_have_text(XSS)
    expect(page.locator("#highlighted mark")).to_have_text(["fever", "cough"])
    expect(page.locator("#highlighted *:not(mark)")).to_have_count(0)
    # The policy is a second wall: even markup injected by other means cannot run an inline handler.
    assert page.evaluate(CSP_PROBE).startswith("script-src")
    assert page.evaluate("window.__csp") is None


def test_the_key_travels_only_as_a_header_and_stays_in_session_storage(page: Page, site: Site):
    requests = []
    page.on("request", lambda request: requests.append(request))
    open_with_key(page, site)
    rank(page, NOTE)
    urls = [unquote(r.url) for r in requests]
    assert not [u for u in urls if site.key in u]
    assert not [u for u in urls if "productive cough" in u], "no note text in a URL"
    calls = [r for r in requests if urlsplit(r.url).path.startswith("/v1/")]
    assert {unquote(urlsplit(r.url).path) for r in calls} == {
        RECOMMEND,
        "/v1/diseases/DOID:552",
        "/v1/diseases/DOID:552/related",
    }
    assert all(r.all_headers().get("x-api-key") == site.key for r in calls)
    assert page.evaluate("sessionStorage.getItem('cdss.apiKey')") == site.key
    assert page.evaluate("[localStorage.length, document.cookie]") == [0, ""]
    page.get_by_role("button", name="Forget key").click()
    assert page.evaluate("sessionStorage.getItem('cdss.apiKey')") is None


def test_the_case_is_sent_from_the_keyboard_with_a_visible_focus(page: Page, site: Site):
    open_with_key(page, site)
    page.get_by_label("Clinical note").fill(NOTE)
    visited = []
    for _ in range(15):
        page.keyboard.press("Tab")
        visited.append(page.evaluate("document.activeElement.id"))
        if visited[-1] == "submit-case":
            break
    assert visited[-1] == "submit-case", f"Tab went through {visited}"
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"
    with page.expect_response(is_recommend) as sent:
        page.keyboard.press("Enter")
    assert sent.value.status == 200
    settled(page)
    expect(page.locator("#differential > li").first).to_have_attribute("data-id", "DOID:552")


def test_an_api_error_is_announced_and_no_request_goes_without_a_key(page: Page, site: Site):
    requests = []
    page.on("request", lambda request: requests.append(request))
    page.goto(site.url + "/")
    page.get_by_label("Clinical note").fill(NOTE)
    page.get_by_role("button", name="Rank the differential").click()
    errors = page.locator("#errors")
    expect(errors).to_have_attribute("role", "alert")
    expect(errors).to_contain_text("Ranking the case failed: enter an API key first")
    assert not [r for r in requests if "/v1/" in r.url]

    page.get_by_role("textbox", name="API key").fill("cdss_000000000000_forged")
    with page.expect_response(is_recommend) as sent:
        page.get_by_role("button", name="Rank the differential").click()
    assert sent.value.status == 401
    expect(errors).to_contain_text("Ranking the case failed (HTTP 401, ")
    expect(errors).to_contain_text(sent.value.json()["error"]["message"])
    expect(page.locator("#results")).to_be_hidden()


def observation(id: str, system: str, code: str, display: str) -> dict:
    coding = {"system": system, "code": code, "display": display}
    return {
        "resource": {
            "resourceType": "Observation",
            "id": id,
            "status": "final",
            "code": {"coding": [coding]},
            "subject": {"reference": "Patient/p1"},
        }
    }


HPO = "http://purl.obolibrary.org/obo/hp.owl"
PATIENT = {"resource": {"resourceType": "Patient", "id": "p1", "gender": "female", "birthDate": "1980-01-01"}}
UNKNOWN_CODE = observation("o3", "http://snomed.info/sct", "900000000000001", "Not in the test graph")


def send_bundle(page: Page, site: Site, file: Path) -> Response:
    open_with_key(page, site)
    page.get_by_label("FHIR Bundle").set_input_files(file)
    with page.expect_response(lambda r: urlsplit(r.url).path == "/v1/fhir/recommendations") as sent:
        page.get_by_role("button", name="Send the bundle").click()
    settled(page)
    return sent.value


def test_a_fhir_bundle_is_sent_as_is_and_what_became_of_each_resource_is_listed(page: Page, site: Site, tmp_path: Path):
    entries = [
        PATIENT,
        observation("o1", HPO, "HP:0001945", "Fever"),
        observation("o2", HPO, "HP:0012735", "Cough"),
        UNKNOWN_CODE,
    ]
    file = tmp_path / "bundle.json"
    file.write_text(json.dumps({"resourceType": "Bundle", "type": "collection", "entry": entries}, indent=1))
    sent = send_bundle(page, site, file)
    assert sent.request.headers["content-type"] == "application/fhir+json"
    assert sent.request.post_data == file.read_text(), "the file's bytes, unchanged"
    assert sent.status == 200, sent.text()
    answer = sent.json()
    expect(page.locator("#differential > li")).to_have_count(len(answer["diagnoses"]))
    expect(page.locator("#fhir-used li")).to_have_count(len(answer["fhir"]["used"]))
    expect(page.locator("#fhir-used li[data-resource='Observation/o1']")).to_contain_text("Fever (HP:0001945)")
    (skipped,) = answer["fhir"]["not_used"]
    expect(page.locator("#fhir-not-used li[data-resource='Observation/o3']")).to_contain_text(skipped["reason"])
    expect(page.locator("#questions button"), "a bundle's answer cannot be re-ranked in place").to_have_count(0)


def test_a_bundle_the_server_refuses_shows_its_operation_outcome(page: Page, site: Site, tmp_path: Path):
    file = tmp_path / "bundle.json"
    file.write_text(json.dumps({"resourceType": "Bundle", "type": "collection", "entry": [PATIENT, UNKNOWN_CODE]}))
    sent = send_bundle(page, site, file)
    outcome = sent.json()
    assert sent.status == 422 and outcome["resourceType"] == "OperationOutcome"
    errors = page.locator("#errors")
    expect(errors).to_contain_text("Sending the bundle failed (HTTP 422, ")
    expect(errors).to_contain_text(outcome["issue"][0]["diagnostics"])
    expect(errors).to_contain_text(f"Request id {outcome['id']}")
