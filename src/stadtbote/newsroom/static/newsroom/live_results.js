// The results page keeps itself current while the poll is open: every few seconds it asks
// the newsroom for the results part of the page (HTML the server wrote and escaped) and puts
// it in place when its text changed, so a screen reader announces only real changes
// (aria-live="polite" on the region). Without JavaScript a reload shows the same.
"use strict";

(function () {
  const region = document.querySelector("[data-live-url]");
  if (!region) return;
  const url = region.dataset.liveUrl;
  const every = Math.max(Number(region.dataset.refresh) || 5, 2) * 1000;
  // Compared by their text: the chart's element ids differ from one answer to the next.
  const words = (node) => node.textContent.replace(/\s+/g, " ").trim();

  function stillOpen() {
    const results = region.querySelector("[data-open]");
    return !results || results.dataset.open === "true";
  }

  async function refresh() {
    if (!document.hidden) {
      try {
        const response = await fetch(url, {
          headers: { "X-Requested-With": "fetch" },
          credentials: "same-origin",
          cache: "no-store",
        });
        // Redirected: the session ended (to the login page); the page stays as it is.
        if (response.ok && !response.redirected) {
          const fresh = document.createElement("template");
          fresh.innerHTML = await response.text();
          if (words(fresh.content) !== words(region)) region.replaceChildren(fresh.content);
        }
      } catch (error) {
        // offline or the server is restarting: the last numbers stay, the next try follows
      }
    }
    if (stillOpen()) setTimeout(refresh, every);
  }

  setTimeout(refresh, every);
})();
