// The ticket list, live: every few seconds the same address (filters and page kept) is
// fetched again and its rows and pager replace the shown ones. Paused while the page is
// hidden, while focus is inside the filters, or by the button; works without it too.
(function () {
  "use strict";
  const EVERY_MS = 5000;
  const rows = document.getElementById("ticket-rows");
  const pager = document.getElementById("pager");
  const toggle = document.getElementById("live-toggle");
  const status = document.getElementById("live-status");
  if (!rows || !toggle || !status) return;
  let paused = false;
  toggle.hidden = false;
  toggle.addEventListener("click", function () {
    paused = !paused;
    toggle.textContent = paused ? "Resume live updates" : "Pause live updates";
    toggle.setAttribute("aria-pressed", String(paused));
  });
  toggle.setAttribute("aria-pressed", "false");

  async function refresh() {
    const filters = document.querySelector("form.filters");
    const editing = filters && filters.contains(document.activeElement);
    if (paused || document.hidden || editing) return;
    try {
      const answer = await fetch(window.location.href, { headers: { Accept: "text/html" } });
      if (!answer.ok) return;
      const page = new DOMParser().parseFromString(await answer.text(), "text/html");
      const newRows = page.getElementById("ticket-rows");
      const newPager = page.getElementById("pager");
      if (newRows) rows.replaceChildren(...newRows.childNodes);
      if (pager && newPager) pager.replaceChildren(...newPager.childNodes);
      rows.dataset.refreshed = new Date().toISOString();
    } catch (err) {
      // The next round tries again; the shown list stays.
    }
  }
  window.setInterval(refresh, EVERY_MS);
})();
