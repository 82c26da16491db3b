// Progressive enhancement only: every page works without this file.
document.addEventListener("click", async (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button) return;
  const source = document.getElementById(button.dataset.copy);
  if (!source) return;
  const value = source.value !== undefined ? source.value : source.textContent;
  try {
    await navigator.clipboard.writeText(value.trim());
    button.textContent = "Copied";
  } catch {
    source.select && source.select();
    button.textContent = "Press Ctrl+C to copy";
  }
});
document.addEventListener("submit", (event) => {
  const message = event.target.dataset.confirm;
  if (message && !window.confirm(message)) event.preventDefault();
});
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-copy]").forEach((b) => { b.hidden = false; });
});
