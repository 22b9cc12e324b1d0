// Choosing a canned reply fills the answer at once. Without JavaScript the picker's button
// reloads the page with the answer filled in, so this only saves the round trip.
document.addEventListener("DOMContentLoaded", () => {
  for (const form of document.querySelectorAll("form[data-canned-for]")) {
    const select = form.querySelector("select");
    const target = document.getElementById(form.dataset.cannedFor);
    if (!select || !target) continue;
    const fill = () => {
      const option = select.selectedOptions[0];
      if (option && option.dataset.text !== undefined) {
        target.value = option.dataset.text;
        target.focus();
      }
    };
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      fill();
    });
    // On choosing, only an empty answer is filled: nothing typed is overwritten unasked.
    select.addEventListener("change", () => {
      if (!target.value.trim()) fill();
    });
  }
});
