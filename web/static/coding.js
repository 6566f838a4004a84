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
    state.set(key, s);
    const article = byIndex.get(key);
    if (!article) return;
    article.dataset.id = s.id;
    article.classList.toggle("reviewed", s.reviewed);
    const chips = article.querySelector(".chips");
    chips.replaceChildren();
    CODES.forEach((code, i) => {
      const mine = s.mine[code];
      const button = el("button", "chip c-" + (i + 1), (i + 1) + " " + NAMES[i]);
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
    const why = article.querySelector(".why");
    why.replaceChildren();
    const explained = CODES.filter((c) => s.suggested.includes(c) && s.reasons[c] && s.reasons[c].length);
    if (explained.length) {
      const details = el("details");
      details.append(el("summary", null, "提案の理由"));
      const list = el("ul");
      explained.forEach((c) => list.append(el("li", null, NAMES[CODES.indexOf(c)] + "：" + s.reasons[c].join("／"))));
      details.append(list);
      why.append(details);
    }
    const others = Object.entries(s.others || {});
    if (others.length) {
      why.append(el("p", "others", "他の分析者：" + others.map(([who, codes]) =>
        who + "（" + codes.map((c) => NAMES[CODES.indexOf(c)] || c).join("、") + "）").join("　")));
    }
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
    else if (/^[1-9]$/.test(e.key) && Number(e.key) <= CODES.length) run = () => act(article, "toggle", CODES[Number(e.key) - 1]);
    else if (e.key === "a") run = () => act(article, "accept");
    else if (e.key === "u") run = () => act(article, "reopen");
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
