// The clinician's page: sends the case to the /v1 API and draws the answer.
// Every piece of text from the note or the answer enters the page through textContent or a text node,
// never as markup, so a note that contains HTML stays text. The API key lives in sessionStorage and
// travels only as the X-API-Key header.
"use strict";

(() => {
  const KEY_STORAGE = "cdss.apiKey";
  const SVG = "http://www.w3.org/2000/svg";
  // cdss.types.Assertion: what the note says about each mention.
  const ASSERTIONS = [
    ["present", "present"],
    ["negated", "negated (denied)"],
    ["possible", "possible"],
    ["historical", "historical"],
    ["family", "family history"],
    ["hypothetical", "hypothetical"],
  ];
  const NEIGHBOURS = [
    ["parents", "parent disease"],
    ["findings", "finding"],
    ["excluded_findings", "excluded finding"],
    ["treatments", "treatment"],
    ["contraindicated", "contraindicated drug"],
  ];
  const GRAPH_LIMIT = 24;

  const state = { answered: new Map(), source: null, busy: false };
  const $ = (id) => document.getElementById(id);

  /** An element with properties set and children appended (strings become text nodes). */
  function el(tag, props = {}, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(props)) {
      if (name === "text") node.textContent = value;
      else if (name === "class") node.className = value;
      else if (name.startsWith("data-") || name.startsWith("aria-") || name === "role") node.setAttribute(name, value);
      else node[name] = value;
    }
    for (const child of children) if (child !== null && child !== undefined) node.append(child);
    return node;
  }

  function svg(tag, attributes = {}, text = null) {
    const node = document.createElementNS(SVG, tag);
    for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
    if (text !== null) node.textContent = text;
    return node;
  }

  const token = (value) => String(value ?? "unknown").replace(/[^A-Za-z0-9_-]/g, "");
  const percent = (p) => (p < 0.001 ? "<0.1%" : `${(p * 100).toFixed(1)}%`);
  const signed = (x) => (x > 0 ? `+${x.toFixed(2)}` : x.toFixed(2));

  // ---- the API -------------------------------------------------------------------------------------------

  class ApiError extends Error {
    constructor(status, code, message, details = [], requestId = "") {
      super(message);
      Object.assign(this, { status, code, details, requestId });
    }
  }

  const apiKey = () => sessionStorage.getItem(KEY_STORAGE) || "";

  async function call(method, path, body = undefined, contentType = "application/json") {
    const key = apiKey();
    if (!key) throw new ApiError(0, "no_key", "enter an API key first");
    const headers = { "X-API-Key": key, Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = contentType;
    let response;
    try {
      response = await fetch(path, { method, headers, body, cache: "no-store", credentials: "omit" });
    } catch (error) {
      throw new ApiError(0, "network", `the service did not answer (${error.message})`);
    }
    const data = await response.json().catch(() => null);
    if (!response.ok) throw errorOf(response.status, data);
    return data;
  }

  /** Our JSON error body, or the FHIR endpoints' OperationOutcome, as one kind of error. */
  function errorOf(status, data) {
    if (data && data.error) {
      const e = data.error;
      const details = (e.details || []).map((d) => `${d.location.join(".")}: ${d.message}`);
      return new ApiError(status, e.code, e.message, details, e.request_id || "");
    }
    if (data && data.resourceType === "OperationOutcome") {
      const issues = data.issue || [];
      const first = issues[0] || {};
      const code = (first.details && first.details.text) || first.code || "error";
      const located = issues.filter((i) => i.expression).map((i) => `${i.expression.join(", ")}: ${i.diagnostics}`);
      const message = issues.length === 1 ? first.diagnostics : `${issues.length} problems in the bundle`;
      return new ApiError(status, code, message || `HTTP ${status}`, located, data.id || "");
    }
    return new ApiError(status, "http_error", `HTTP ${status} without an error body`);
  }

  const diseasePath = (id, suffix = "") => `/v1/diseases/${encodeURIComponent(id)}${suffix}`;

  // ---- status, errors, busy ------------------------------------------------------------------------------

  function setStatus(text) {
    $("status").textContent = text;
  }

  function showError(action, error) {
    const where = error.status ? ` (HTTP ${error.status}, ${error.code})` : "";
    const item = el("div", { class: "error" }, el("strong", { text: `${action} failed${where}: ` }), error.message);
    if (error.details && error.details.length) {
      item.append(el("ul", {}, ...error.details.map((detail) => el("li", { text: detail }))));
    }
    if (error.requestId) item.append(el("p", { class: "hint", text: `Request id ${error.requestId}` }));
    $("errors").append(item);
  }

  async function run(action, progress, work) {
    if (state.busy) return;
    state.busy = true;
    $("errors").replaceChildren();
    setStatus(progress);
    $("results").setAttribute("aria-busy", "true");
    for (const button of document.querySelectorAll("button.while-idle")) button.disabled = true;
    try {
      await work();
    } catch (error) {
      setStatus("");
      showError(action, error instanceof ApiError ? error : new ApiError(0, "page", error.message));
    } finally {
      state.busy = false;
      $("results").setAttribute("aria-busy", "false");
      for (const button of document.querySelectorAll("button.while-idle")) button.disabled = false;
    }
  }

  // ---- the key -------------------------------------------------------------------------------------------

  function showKeyState() {
    $("key-state").textContent = apiKey() ? "A key is held for this tab only." : "No key held.";
  }

  function setUpKey() {
    const input = $("api-key");
    input.value = apiKey();
    input.addEventListener("input", () => {
      const key = input.value.trim();
      if (key) sessionStorage.setItem(KEY_STORAGE, key);
      else sessionStorage.removeItem(KEY_STORAGE);
      showKeyState();
    });
    $("key-form").addEventListener("submit", (event) => event.preventDefault());
    $("forget-key").addEventListener("click", () => {
      sessionStorage.removeItem(KEY_STORAGE);
      input.value = "";
      showKeyState();
    });
    showKeyState();
  }

  // ---- the case ------------------------------------------------------------------------------------------

  function addImageRow() {
    const row = $("image-row").content.firstElementChild.cloneNode(true);
    $("image-rows").append(row);
    row.querySelector(".image-label").focus();
  }

  function imageFindings() {
    return Array.from($("image-rows").children, (row) => ({
      label: row.querySelector(".image-label").value.trim(),
      // An empty or unreadable number becomes null, which the API rejects with the field's name.
      probability: Number.isNaN(row.querySelector(".image-probability").valueAsNumber)
        ? null
        : row.querySelector(".image-probability").valueAsNumber,
      model: row.querySelector(".image-model").value.trim(),
    }));
  }

  function caseBody() {
    const body = {
      findings: Array.from(state.answered.values(), ({ id, status }) => ({ id, status })),
      image_findings: imageFindings(),
      setting: $("setting").value,
      top_k: $("top-k").valueAsNumber || 10,
    };
    const text = $("note").value;
    if (text.trim()) body.text = text;
    if ($("age").value !== "") body.age = $("age").valueAsNumber;
    if ($("sex").value) body.sex = $("sex").value;
    return body;
  }

  function rankCase() {
    return run("Ranking the case", "Ranking…", async () => {
      const body = caseBody();
      const answer = await call("POST", "/v1/recommendations", JSON.stringify(body));
      state.source = "note";
      await show(answer, body.text ?? "");
    });
  }

  function sendBundle() {
    return run("Sending the bundle", "Sending the bundle…", async () => {
      const file = $("fhir-file").files[0];
      if (!file) throw new Error("choose a FHIR Bundle file first");
      // The file's bytes, unchanged: the server reads the bundle, the page does not.
      const answer = await call("POST", "/v1/fhir/recommendations", await file.arrayBuffer(), "application/fhir+json");
      state.source = "fhir";
      await show(answer, null);
    });
  }

  function answerQuestion(question, status) {
    state.answered.set(question.finding, { id: question.finding, name: question.name, status });
    renderAnswered();
    return rankCase();
  }

  function renderAnswered() {
    const list = $("answered");
    list.replaceChildren();
    for (const [id, finding] of state.answered) {
      const remove = el("button", {
        type: "button",
        class: "secondary while-idle",
        text: "Remove",
        "aria-label": `Remove ${finding.name}`,
      });
      remove.addEventListener("click", () => {
        state.answered.delete(id);
        renderAnswered();
        if (state.source === "note") rankCase();
      });
      list.append(
        el(
          "li",
          { "data-finding": id, "data-status": finding.status },
          el("span", { text: `${finding.name} (${id}): ` }),
          el("strong", { class: `observed-${finding.status}`, text: finding.status }),
          " ",
          remove,
        ),
      );
    }
    $("answered-empty").hidden = state.answered.size > 0;
  }

  // ---- the answer ----------------------------------------------------------------------------------------

  async function show(result, text) {
    $("results").hidden = false;
    renderNote(text, result.mentions || []);
    renderDifferential(result.diagnoses || []);
    renderQuestions(result.next_questions || [], new Map((result.diagnoses || []).map((d) => [d.id, d.name])));
    renderTreatments(result.treatments || [], result.treatments_left_out || []);
    renderFhir(result.fhir);
    renderAbout(result);
    const leading = (result.diagnoses || [])[0];
    setStatus(`Ranked ${(result.diagnoses || []).length} diagnoses.`);
    $("related").replaceChildren();
    $("graph").replaceChildren();
    if (!leading) return;
    try {
      await renderNeighbourhood(leading);
    } catch (error) {
      showError(`Loading what surrounds ${leading.name}`, error);
    }
  }

  function mentionTitle(m) {
    const parts = [`${m.concept_id ?? "no concept"} (${m.concept_type ?? "unknown type"})`, `assertion: ${m.assertion}`];
    if (m.section) parts.push(`section: ${m.section}`);
    if (m.measurement && m.measurement.outcome) parts.push(`reading: ${m.measurement.outcome}`);
    return parts.join("; ");
  }

  function renderNote(text, mentions) {
    const legend = $("legend");
    legend.replaceChildren(
      ...ASSERTIONS.map(([value, label]) => el("li", {}, el("mark", { class: `mention a-${value}`, text: label }))),
    );
    const out = $("highlighted");
    out.replaceChildren();
    if (text === null) {
      const said = mentions.length ? "The bundle's notes were read on the server; their mentions:" : "No note text.";
      out.append(el("span", { class: "hint", text: said }));
    } else if (!text) {
      out.append(el("span", { class: "hint", text: "No note in this case." }));
    } else {
      // The API counts code points (Python), JavaScript strings count UTF-16 units: slice by code point.
      const chars = Array.from(text);
      const ordered = [...mentions].sort((a, b) => a.start - b.start || b.end - a.end);
      let at = 0;
      for (const m of ordered) {
        if (m.start < at || m.end > chars.length || m.end <= m.start) continue;
        out.append(chars.slice(at, m.start).join(""));
        out.append(
          el("mark", {
            class: `mention a-${token(m.assertion)}`,
            title: mentionTitle(m),
            text: chars.slice(m.start, m.end).join(""),
            "data-assertion": m.assertion,
            "data-concept": m.concept_id ?? "",
          }),
        );
        at = m.end;
      }
      out.append(chars.slice(at).join(""));
    }
    $("mention-list").replaceChildren(
      ...mentions.map((m) =>
        el(
          "li",
          {},
          el("mark", { class: `mention a-${token(m.assertion)}`, text: m.text }),
          ` ${m.assertion}: ${m.concept_id ?? "no concept"} (${m.concept_type ?? "unknown type"}), ${m.method}`,
        ),
      ),
    );
  }

  function sources(evidence) {
    if (!evidence || !evidence.length) return el("span", { class: "hint", text: "no edge in the graph" });
    return el(
      "ul",
      { class: "sources" },
      ...evidence.map((e) => {
        const refs = e.references && e.references.length ? `; ${e.references.join(", ")}` : "";
        return el("li", { text: `${e.source} ${e.version} (${e.license})${refs}` });
      }),
    );
  }

  function evidenceTable(d) {
    const head = ["Finding", "Observed", "Log LR", "Direction", "Evidence sources"];
    const rows = (d.contributions || []).map((c) => {
      const observed = c.probability > 0 && c.probability < 1 ? `${c.observed} (p=${c.probability})` : c.observed;
      const matched = c.matched_finding && c.matched_finding.id !== c.finding ? `, via ${c.matched_finding.name}` : "";
      return el(
        "tr",
        { class: `dir-${token(c.direction)}` },
        el("td", {}, el("span", { text: c.name }), el("span", { class: "curie", text: ` ${c.finding}` }),
          el("div", { class: "hint", text: `from ${c.origin}; ${c.match}${matched}` })),
        el("td", { text: observed }),
        el("td", { class: "number", text: signed(c.log_lr) }),
        el("td", { class: "direction", text: c.direction === "for" ? "▲ for" : "▼ against" }),
        el("td", {}, sources(c.evidence)),
      );
    });
    return el(
      "table",
      { class: "table evidence" },
      el("caption", { text: `Evidence for and against ${d.name}` }),
      el("thead", {}, el("tr", {}, ...head.map((h) => el("th", { scope: "col", text: h })))),
      el("tbody", {}, ...rows),
    );
  }

  function renderDifferential(diagnoses) {
    const list = $("differential");
    list.replaceChildren();
    for (const d of diagnoses) {
      const fill = el("span", { class: "fill" });
      fill.style.width = `${Math.max(0, Math.min(1, d.probability)) * 100}%`;
      const summary = el(
        "summary",
        {},
        el("span", { class: "name", text: d.name }),
        el("span", { class: "curie", text: d.id }),
        d.urgent ? el("span", { class: "badge cant-miss", text: "can't miss", title: d.urgent.reason }) : el("span"),
        el("span", { class: "bar", "aria-hidden": "true" }, fill),
        el("span", { class: "probability", text: percent(d.probability) }),
      );
      const body = el("div", { class: "detail" });
      if (d.urgent) {
        body.append(el("p", { class: "cant-miss-why", text: `Can't miss: ${d.urgent.reason} (${d.urgent.citation})` }));
      }
      if (d.prior) body.append(el("p", { class: "hint", text: `Prior (${d.prior_tier}): ${d.prior.detail}` }));
      body.append(evidenceTable(d));
      list.append(el("li", { class: "diagnosis", "data-id": d.id }, el("details", {}, summary, body)));
    }
    if (!diagnoses.length) list.append(el("li", { class: "hint", text: "No diagnosis fits what was given." }));
  }

  function renderQuestions(questions, names) {
    const list = $("questions");
    list.replaceChildren();
    const canAnswer = state.source === "note";
    $("ask-hint").textContent = canAnswer
      ? "Each answer adds the finding to the case and ranks again."
      : "To use an answer, add the finding to the bundle and send it again.";
    for (const q of questions) {
      const expected = (q.expected_in || [])
        .map((e) => `${names.get(e.disease) ?? e.disease} ${percent(e.frequency)}`)
        .join(", ");
      const item = el(
        "li",
        { "data-finding": q.finding },
        el("span", { class: "name", text: q.name }),
        el("span", { class: "curie", text: q.finding }),
        el("span", { class: "hint", text: `information gain ${q.information_gain.toFixed(2)}; expected in ${expected}` }),
      );
      if (canAnswer) {
        for (const [status, label] of [["present", "Yes"], ["absent", "No"]]) {
          const button = el("button", {
            type: "button",
            class: `answer answer-${status} while-idle`,
            text: label,
            "aria-label": `${label}: ${q.name} is ${status}`,
          });
          button.addEventListener("click", () => answerQuestion(q, status));
          item.append(button);
        }
      }
      list.append(item);
    }
    if (!questions.length) list.append(el("li", { class: "hint", text: "Nothing left worth asking." }));
  }

  function renderTreatments(treatments, leftOut) {
    const body = $("treatments").tBodies[0];
    body.replaceChildren(
      ...treatments.map((t) => {
        const flags = [t.already_taking ? "already taking" : null, t.via_parent ? "via a parent disease" : null];
        if (t.learned_score !== null && t.learned_score !== undefined) flags.push(`learned ${t.learned_score}`);
        return el(
          "tr",
          { "data-drug": t.drug },
          el("td", {}, el("span", { text: t.name }), el("span", { class: "curie", text: ` ${t.drug}` }),
            el("div", { class: "hint", text: flags.filter(Boolean).join("; ") })),
          el("td", { text: `${t.for.name} (#${t.for.rank})` }),
          el("td", { text: `${t.evidence_grade} [${t.relation}]` }),
          el("td", { class: "number", text: t.score.toFixed(3) }),
          el("td", {}, sources(t.evidence)),
        );
      }),
    );
    if (!treatments.length) body.append(el("tr", {}, el("td", { colSpan: 5, text: "No treatment to offer." })));
    $("left-out").replaceChildren(
      ...leftOut.map((t) =>
        el("li", {}, el("strong", { text: `${t.name} for ${t.for.name}: ` }), t.reason, sources(t.evidence)),
      ),
    );
    if (!leftOut.length) $("left-out").append(el("li", { class: "hint", text: "None." }));
  }

  function renderFhir(fhir) {
    $("fhir-section").hidden = !fhir;
    if (!fhir) return;
    const used = fhir.used || [];
    const notUsed = fhir.not_used || [];
    $("fhir-used").replaceChildren(
      ...used.map((u) => {
        const what = u.concept ? ` ${u.name ?? ""} (${u.concept})` : "";
        return el("li", { "data-resource": u.resource }, el("strong", { text: `${u.resource}: ` }), `${u.as}${what}`);
      }),
    );
    $("fhir-not-used").replaceChildren(
      ...notUsed.map((n) => el("li", { "data-resource": n.resource }, el("strong", { text: `${n.resource}: ` }), n.reason)),
    );
    if (!notUsed.length) $("fhir-not-used").append(el("li", { text: "Every resource in the bundle was used." }));
  }

  function renderAbout(result) {
    $("notice").textContent = result.notice || "";
    const versions = $("versions");
    versions.replaceChildren();
    for (const [name, value] of Object.entries(result.versions || {})) {
      versions.append(el("dt", { text: name }), el("dd", { text: value ?? "none" }));
    }
    const unknown = result.unknown_image_labels || [];
    if (unknown.length) versions.append(el("dt", { text: "image labels not known" }), el("dd", { text: unknown.join(", ") }));
  }

  // ---- the leading diagnosis: related diseases and its neighbourhood -------------------------------------

  async function renderNeighbourhood(leading) {
    const related = await call("GET", diseasePath(leading.id, "/related"));
    $("related").replaceChildren(
      ...related.related.map((r) =>
        el(
          "li",
          { "data-id": r.id },
          el("span", { class: "name", text: r.name }),
          el("span", { class: "curie", text: r.id }),
          el("span", { class: "number", text: ` score ${r.score.toFixed(2)}` }),
          el("div", { class: "hint", text: r.why }),
        ),
      ),
    );
    if (!related.related.length) $("related").append(el("li", { class: "hint", text: "None in the graph." }));
    drawGraph(await call("GET", diseasePath(leading.id)));
  }

  function drawGraph(page) {
    $("graph-legend").replaceChildren(
      ...NEIGHBOURS.map(([kind, label]) => el("li", {}, el("span", { class: `swatch k-${kind}` }), label)),
    );
    const all = NEIGHBOURS.flatMap(([kind, label]) => (page[kind] || []).map((edge) => ({ kind, label, edge })));
    const shown = all.slice(0, GRAPH_LIMIT);
    const [width, height] = [720, 440];
    const figure = svg("svg", {
      viewBox: `${-width / 2} ${-height / 2} ${width} ${height}`,
      role: "img",
      "aria-labelledby": "graph-title",
      class: "graph-svg",
    });
    figure.append(svg("title", { id: "graph-title" }, `${page.disease.name} and ${all.length} neighbours in the graph`));
    shown.forEach(({ kind, label, edge }, i) => {
      const angle = (2 * Math.PI * i) / shown.length - Math.PI / 2;
      // An ellipse, wider than tall, leaves room for the labels at the sides.
      const x = 0.32 * width * Math.cos(angle);
      const y = 0.38 * height * Math.sin(angle);
      const right = Math.cos(angle) >= 0;
      const name = edge.name.length > 22 ? `${edge.name.slice(0, 21)}…` : edge.name;
      const node = svg("g", { class: `node k-${kind}`, "data-id": edge.id });
      node.append(
        svg("title", {}, `${edge.name} (${edge.id}): ${label}, ${edge.type}; ${edge.source} ${edge.source_version}, ${edge.license}`),
        svg("line", { x1: 0, y1: 0, x2: x, y2: y, class: "edge" }),
        svg("circle", { cx: x, cy: y, r: 9 }),
        svg("text", { x: x + (right ? 13 : -13), y: y + 4, "text-anchor": right ? "start" : "end" }, name),
      );
      figure.append(node);
    });
    const centre = svg("g", { class: "node centre", "data-id": page.disease.id });
    centre.append(
      svg("title", {}, `${page.disease.name} (${page.disease.id})`),
      svg("circle", { cx: 0, cy: 0, r: 16 }),
      svg("text", { x: 0, y: 36, "text-anchor": "middle" }, page.disease.name),
    );
    figure.append(centre);
    const note = all.length > shown.length ? `Showing ${shown.length} of ${all.length} neighbours.` : "";
    const asList = el(
      "details",
      {},
      el("summary", { text: "The neighbours as a list" }),
      el("ul", {}, ...all.map(({ label, edge }) => el("li", { text: `${label}: ${edge.name} (${edge.id}), ${edge.source}` }))),
    );
    $("graph").replaceChildren(figure, el("p", { class: "hint", text: note }), asList);
  }

  // ---- wiring --------------------------------------------------------------------------------------------

  document.addEventListener("DOMContentLoaded", () => {
    setUpKey();
    renderAnswered();
    $("add-image").addEventListener("click", addImageRow);
    $("image-rows").addEventListener("click", (event) => {
      const button = event.target.closest(".remove-image");
      if (button) button.closest("li").remove();
    });
    $("case-form").addEventListener("submit", (event) => {
      event.preventDefault();
      rankCase();
    });
    $("fhir-form").addEventListener("submit", (event) => {
      event.preventDefault();
      sendBundle();
    });
  });
})();
