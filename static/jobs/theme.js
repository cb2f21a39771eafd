// Dark mode: follows prefers-color-scheme until the person picks a theme with the toggle (kept in localStorage).
(function () {
  "use strict";
  const root = document.documentElement;
  const stored = localStorage.getItem("theme");
  if (stored === "dark" || stored === "light") root.dataset.theme = stored;
  function current() {
    return root.dataset.theme || (matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light");
  }
  function label(button) {
    const dark = current() === "dark";
    button.textContent = dark ? "☀ Light" : "☾ Dark";
    button.setAttribute("aria-pressed", String(dark));
  }
  function init() {
    const button = document.getElementById("theme-toggle");
    if (!button) return;
    label(button);
    button.addEventListener("click", () => {
      root.dataset.theme = current() === "dark" ? "light" : "dark";
      localStorage.setItem("theme", root.dataset.theme);
      label(button);
    });
  }
  // Loaded at the end of the body by some pages and in the head by others.
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init); else init();
})();
