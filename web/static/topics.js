// The topics page: while a run is going, poll its status, show the stage, and reload when it is done.
(() => {
  const box = document.getElementById("topic-job");
  if (!box) return;
  const form = document.getElementById("topic-run");
  form.addEventListener("submit", () => { form.querySelector("button").disabled = true; });
  if (box.dataset.running !== "1") return;

  async function poll() {
    let data;
    try {
      const response = await fetch(box.dataset.statusUrl, { credentials: "same-origin" });
      if (response.status === 401) { window.location.reload(); return; }
      data = await response.json();
    } catch (err) {
      setTimeout(poll, 3000);  // the server may be busy; try again
      return;
    }
    document.getElementById("topic-stage").textContent = data.label || "開始しています";
    document.getElementById("topic-progress").value = data.step;
    if (data.running) { setTimeout(poll, 1000); return; }
    if (data.error) {
      document.getElementById("topic-error").textContent = "計算に失敗しました：" + data.error;
      form.querySelector("button").disabled = false;
      return;
    }
    window.location.assign(box.dataset.doneUrl);
  }
  poll();
})();
