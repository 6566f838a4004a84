// The coding view: draws each segment's code buttons from /api/ and codes with the keyboard.
// Interview text is only ever set with textContent, never as HTML.
(function () {
  "use strict";
  const root = document.getElementById("segments");
  if (!root) return;
  const transcript = root.dataset.transcript;
  const loadUrl = root.dataset.load || "/api/transcripts/" + transcript + "/segments";
  const layer = root.dataset.layer || null;  // "recode": a blind re-coding sample
  const CODES = JSON.parse(document.getElementById("codes-data").textContent);
  const NAMES = JSON.parse(document.getElementById("names-data").textContent);
  // every code a coding may carry: {id: {name, color, retired}} (retired codes show, are not offered)
  const ALL = JSON.parse(document.getElementById("all-codes-data").textContent);
  const KEYED = 8;  // codes with a number key and an always-shown button; the others: "/" and their name
  const nameOf = (c) => (ALL[c] ? ALL[c].name : c);
  const token = document.querySelector('meta[name="csrf-token"]').content;
  const articles = Array.from(root.querySelectorAll("article.seg"));
  const byIndex = new Map(articles.map((a) => [a.dataset.index, a]));
  const state = new Map();  // segment index -> state from the API
  const message = document.getElementById("message");
  let current = 0;
  let generation = null;

  function say(text, info) {
    message.textContent = text || "";
    message.classList.toggle("info", Boolean(info));
  }

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function draw(s) {
    const key = s.transcript_id + ":" + s.idx;  // data-index of the segment's <article>
    if (!s.memos) s.memos = (state.get(key) || {}).memos || [];  // action answers carry no memos
    state.set(key, s);
    const article = byIndex.get(key);
    if (!article) return;
    article.dataset.id = s.id;
    article.classList.toggle("reviewed", s.reviewed);
    const chips = article.querySelector(".chips");
    chips.replaceChildren();
    shownCodes(s).forEach((code) => {
      const mine = s.mine[code];
      const i = CODES.indexOf(code);
      const retired = i < 0;
      const label = i >= 0 && i < KEYED ? (i + 1) + " " + NAMES[i] : nameOf(code) + (retired ? "（廃止）" : "");
      const button = el("button", "chip " + (i >= 0 && i < KEYED ? "c-" + (i + 1) : retired ? "retired" : "extra"), label);
      if (ALL[code] && ALL[code].color) button.style.setProperty("--code-color", ALL[code].color);
      button.type = "button";
      button.dataset.code = code;
      if (s.suggested.includes(code)) {
        button.classList.add("suggested");
        button.append(el("span", "score", " " + Math.round(s.scores[code] * 100)));
      }
      if (mine === "confirmed") button.classList.add("confirmed");
      if (mine === "rejected") button.classList.add("rejected");
      button.setAttribute("aria-pressed", mine === "confirmed" ? "true" : "false");
      if (s.reasons[code] && s.reasons[code].length) button.title = s.reasons[code].join("\n");
      button.addEventListener("click", (e) => { e.stopPropagation(); focus(articles.indexOf(article)); act(article, "toggle", code); });
      chips.append(button);
    });
    if (s.reviewed) chips.append(el("span", "done", "✓ 確定済み"));
    if (s.memos.length) chips.append(el("span", "memo-mark", "メモ " + s.memos.length));
    article.classList.toggle("has-memo", s.memos.length > 0);
    const why = article.querySelector(".why");
    why.replaceChildren();
    const explained = CODES.filter((c) => s.suggested.includes(c) && s.reasons[c] && s.reasons[c].length);
    if (explained.length) {
      const details = el("details");
      details.append(el("summary", null, "提案の理由"));
      const list = el("ul");
      explained.forEach((c) => list.append(el("li", null, nameOf(c) + "：" + s.reasons[c].join("／"))));
      details.append(list);
      why.append(details);
    }
    const others = Object.entries(s.others || {});
    if (others.length) {
      why.append(el("p", "others", "他の分析者：" + others.map(([who, codes]) =>
        who + "（" + codes.map(nameOf).join("、") + "）").join("　")));
    }
    s.memos.forEach((m) => why.append(el("p", "memo", "メモ（" + m.author + "）：" + m.text)));
  }

  // "m": a small editor under the selected segment for my memo on it (a new one, or my first one);
  // Ctrl+Enter saves, Escape closes; saving an empty text deletes my memo.
  function memoEditor(article) {
    const s = state.get(article.dataset.index);
    if (!s || article.querySelector("form.memo-edit")) return;
    const mine = s.memos.find((m) => m.mine);
    const form = el("form", "memo-edit");
    const area = el("textarea");
    area.rows = 3;
    area.value = mine ? mine.text : "";
    area.setAttribute("aria-label", "このセグメントへのメモ（Ctrl+Enter で保存、Esc で閉じる）");
    const save = el("button", null, "メモを保存");
    save.type = "submit";
    const cancel = el("button", null, "閉じる");
    cancel.type = "button";
    form.append(area, save, cancel);
    const close = () => { form.remove(); article.focus({ preventScroll: true }); };
    cancel.addEventListener("click", close);
    form.addEventListener("click", (e) => e.stopPropagation());
    area.addEventListener("keydown", (e) => {
      e.stopPropagation();  // typing a memo never codes the segment
      if (e.key === "Escape") close();
      if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); form.requestSubmit(); }
    });
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      if (!mine && !area.value.trim()) { close(); return; }  // nothing written, nothing to delete
      try {
        const data = mine ? await call("/api/memos/" + mine.id, { text: area.value })
          : await call("/api/segments/" + article.dataset.id + "/memos", { text: area.value });
        draw(Object.assign({}, state.get(article.dataset.index), { memos: data.memos }));
        say("メモを保存しました。", true);
        close();
      } catch (err) { say(err.message); }
    });
    article.append(form);
    area.focus();
  }

  // The codes drawn as buttons on a segment: the first KEYED offered codes always; any other code
  // only when it is suggested or I decided on it (a retired code only on a coding that carries it).
  function shownCodes(s) {
    const extra = Object.keys(s.mine).concat(s.suggested)
      .filter((c) => CODES.indexOf(c) >= KEYED || (CODES.indexOf(c) < 0 && s.mine[c] === "confirmed"));
    return CODES.slice(0, KEYED).concat(Array.from(new Set(extra)));
  }

  // "/": a filter box listing the offered codes whose name (or id) contains what is typed;
  // arrows choose, Enter toggles the chosen code on the selected segment, Escape closes.
  function codeFilter(article) {
    if (!article || document.getElementById("code-filter")) return;
    const box = el("div", "code-filter");
    box.id = "code-filter";
    const input = el("input");
    input.type = "search";
    input.placeholder = "コード名の一部を入力（Enter で付け外し、Esc で閉じる）";
    input.setAttribute("aria-label", "コードを名前で探す");
    const list = el("ul");
    list.setAttribute("role", "listbox");
    box.append(input, list);
    article.querySelector(".chips").after(box);
    let matches = [];
    let chosen = 0;
    const close = () => { box.remove(); article.focus({ preventScroll: true }); };
    const render = () => {
      const q = input.value.trim().toLowerCase();
      matches = CODES.filter((c, i) => !q || NAMES[i].toLowerCase().includes(q) || c.includes(q));
      chosen = Math.min(chosen, Math.max(matches.length - 1, 0));
      list.replaceChildren(...matches.map((c, j) => {
        const item = el("li", j === chosen ? "chosen" : null, nameOf(c));
        item.setAttribute("role", "option");
        item.setAttribute("aria-selected", j === chosen ? "true" : "false");
        item.addEventListener("mousedown", (e) => { e.preventDefault(); close(); act(article, "toggle", c); });
        return item;
      }));
      if (!matches.length) list.append(el("li", "none", "該当するコードはありません"));
      box.scrollIntoView({ block: "nearest" });  // the list opens below the segment: keep it in view
    };
    input.addEventListener("input", () => { chosen = 0; render(); });
    input.addEventListener("keydown", (e) => {
      e.stopPropagation();  // keys typed here are not the coding view's (Enter would also confirm and move on)
      if (e.isComposing) return;  // Enter that confirms an IME conversion is not a choice
      if (e.key === "Escape") { e.preventDefault(); close(); }
      else if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        e.preventDefault();
        chosen = Math.max(0, Math.min(matches.length - 1, chosen + (e.key === "ArrowDown" ? 1 : -1)));
        render();
      } else if (e.key === "Enter") {
        e.preventDefault();
        const code = matches[chosen];
        close();
        if (code) act(article, "toggle", code);
      }
    });
    input.addEventListener("blur", () => setTimeout(() => { if (box.isConnected) box.remove(); }, 150));
    input.focus({ preventScroll: true });
    render();
  }

  function updateProgress() {
    const done = Array.from(state.values()).filter((s) => s.reviewed).length;
    document.getElementById("progress").value = done;
    document.getElementById("progress").max = state.size || 1;
    document.getElementById("progress-text").textContent = done + " / " + state.size;
  }

  async function call(url, body) {
    const response = await fetch(url, {
      method: body ? "POST" : "GET", credentials: "same-origin",
      headers: body ? { "Content-Type": "application/json", "X-CSRFToken": token } : {},
      body: body ? JSON.stringify(body) : undefined,
    });
    const data = await response.json().catch(() => ({}));
    if (response.status === 401) { window.location.reload(); throw new Error(data.error); }
    if (!response.ok) throw new Error(data.error || "エラーが発生しました（" + response.status + "）");
    return data;
  }

  async function load() {
    try {
      const data = await call(loadUrl);
      data.segments.forEach(draw);
      updateProgress();
      if (!layer && !data.segments.some((s) => Object.keys(s.scores).length)) say("このトランスクリプトにはまだ提案がありません。計算が終わると表示されます。", true);
    } catch (err) { say(err.message); }
  }

  // Actions are sent one after another, in the order the keys were pressed: a fast "a" then
  // Enter must accept before it confirms, whatever order the server threads would take them in.
  let queue = Promise.resolve();
  function act(article, action, code) {
    queue = queue.then(() => send(article, action, code));
    return queue;
  }

  async function send(article, action, code) {
    if (!article || !article.dataset.id) return;
    try {
      const data = await call("/api/segments/" + article.dataset.id + "/actions", { action: action, code: code, layer: layer });
      draw(data.segment);
      updateProgress();
      say("");
    } catch (err) { say(err.message); }
  }

  // "z": take back my last action (wherever it was), redraw that segment and go to it.
  function undo() {
    queue = queue.then(async () => {
      try {
        const data = await call("/api/undo", { layer: layer });
        if (!data.segment) { say(data.message, true); return; }
        draw(data.segment);
        updateProgress();
        const i = articles.indexOf(byIndex.get(data.segment.transcript_id + ":" + data.segment.idx));
        if (i >= 0) focus(i);
        say("");
      } catch (err) { say(err.message); }
    });
    return queue;
  }

  // "d": the codes I confirmed on the previous segment, and only those, then confirm and next
  // (an answer's sentences often carry the same codes).
  function sameAsPrevious(article, previous) {
    const before = state.get(previous.dataset.index);
    const now = state.get(article.dataset.index);
    if (!before || !now) return;
    const wanted = CODES.filter((c) => before.mine[c] === "confirmed");
    wanted.forEach((c) => { if (now.mine[c] !== "confirmed") act(article, "confirm", c); });
    CODES.forEach((c) => {
      if (now.mine[c] === "confirmed" && !wanted.includes(c)) act(article, now.suggested.includes(c) ? "reject" : "remove", c);
    });
    act(article, "review");
  }

  function focus(i) {
    if (!articles.length) return;
    // keep the selected segment clear of the sticky header when scrolling to it
    const head = document.querySelector(".coding-head");
    document.documentElement.style.setProperty("--head", (head ? head.offsetHeight : 0) + "px");
    current = Math.max(0, Math.min(articles.length - 1, i));
    articles.forEach((a, j) => a.classList.toggle("current", j === current));
    articles[current].focus({ preventScroll: true });
    articles[current].scrollIntoView({ block: "nearest" });
  }

  document.addEventListener("keydown", (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey || e.isComposing) return;
    const active = document.activeElement;
    if (["INPUT", "TEXTAREA", "SELECT"].includes(active.tagName)) return;
    // Enter or Space on a focused button, link or summary belongs to that control, not to the coding view.
    if ((e.key === "Enter" || e.key === " ") && ["BUTTON", "A", "SUMMARY"].includes(active.tagName)) return;
    const article = articles[current];
    let run = null;
    if (e.key === "j" || e.key === "ArrowDown") run = () => focus(current + 1);
    else if (e.key === "k" || e.key === "ArrowUp") run = () => focus(current - 1);
    else if (/^[1-9]$/.test(e.key) && Number(e.key) <= Math.min(KEYED, CODES.length)) run = () => act(article, "toggle", CODES[Number(e.key) - 1]);
    else if (e.key === "/") run = () => codeFilter(article);
    else if (e.key === "a") run = () => act(article, "accept");
    else if (e.key === "u") run = () => act(article, "reopen");
    else if (e.key === "m" && !layer) run = () => queue.then(() => memoEditor(article));
    else if (e.key === "z") run = undo;
    else if (e.key === "Enter") run = () => { act(article, "review"); focus(current + 1); };
    else if (e.key === " ") run = () => { act(article, "accept"); act(article, "review"); focus(current + 1); };
    else if (e.key === "d" && current > 0) run = () => {
      const previous = articles[current - 1];  // read its codes once its own queued actions are done
      queue = queue.then(() => sameAsPrevious(article, previous));
      focus(current + 1);
    };
    if (!run) return;
    e.preventDefault();  // before any await, or the browser acts on the key too
    run();
  });
  articles.forEach((a, i) => a.addEventListener("click", () => focus(i)));
  document.getElementById("accept-all").addEventListener("click", () => act(articles[current], "accept"));
  const undoButton = document.getElementById("undo");
  if (undoButton) undoButton.addEventListener("click", undo);
  document.getElementById("review-next").addEventListener("click", () => {
    act(articles[current], "review");
    focus(current + 1);
  });

  async function poll() {
    try {
      const data = await call("/api/status");
      const r = data.retraining;
      const failed = transcript ? (r.failed || {})[transcript] : undefined;
      const box = document.getElementById("training-failed");
      document.getElementById("training").hidden = !r.running || failed !== undefined;
      if (box) {
        box.hidden = failed === undefined;
        box.querySelector("span").textContent = failed || "";
      }
      if (generation !== null && r.generation !== generation) await (queue = queue.then(load));
      generation = r.generation;
    } catch (err) { /* the next poll tries again */ }
  }

  const retry = document.getElementById("training-retry");
  if (retry) retry.addEventListener("click", async () => {
    try {
      await call("/api/transcripts/" + transcript + "/suggestions", {});
      poll();
    } catch (err) { say(err.message); }
  });

  // a link to one segment (#seg-TRANSCRIPT-INDEX, e.g. from the matrix) opens with it selected
  const linked = location.hash ? articles.findIndex((a) => "#" + a.id === location.hash) : -1;
  load().then(() => focus(Math.max(linked, 0)));
  poll();
  setInterval(poll, 4000);
})();
