// The compose page's live preview: while the editor types, the form (unsaved) is sent to
// the newsroom, which answers with the post as the phone will show it, its recipients and
// its cost. Without JavaScript the page works the same, the preview appears once saved.
"use strict";

(function () {
  const form = document.getElementById("compose");
  if (!form) return;
  const url = form.dataset.previewUrl;
  const part = (name) => document.querySelector(`[data-preview="${name}"]`);
  let timer = null;
  let asked = 0;

  async function refresh() {
    if (!form.elements.text.value.trim()) return; // nothing to show yet
    const ticket = ++asked;
    let answer;
    try {
      const response = await fetch(url, {
        method: "POST",
        body: new FormData(form),
        headers: { "X-Requested-With": "fetch" },
        credentials: "same-origin",
      });
      if (!response.ok) return;
      answer = await response.json();
    } catch (error) {
      return; // offline or the server is restarting: the last preview stays
    }
    if (ticket !== asked) return; // an answer to an older question
    const problem = part("problem");
    problem.hidden = !answer.problem;
    problem.textContent = answer.problem || "";
    if (answer.problem) return;
    // The server escaped the text before adding WhatsApp's formatting (rendering.py).
    part("html").innerHTML = answer.html;
    part("outside").hidden = !answer.template_html;
    part("template_html").innerHTML = answer.template_html || "";
    // The shown forms are written by the server in the page's language ("1.234").
    part("recipients").textContent = answer.shown.recipients;
    part("split").textContent = `${answer.shown.free} / ${answer.shown.charged}`;
    part("cost").textContent = answer.cost;
  }

  form.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(refresh, 400);
  });
  refresh();
})();
