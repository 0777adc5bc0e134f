// Progressive enhancement of /search/: the plain form already works without
// JavaScript (it reloads the page with ?q=). Here Pagefind's UI takes over and
// searches the index built with the site, in the browser, with no server.
(function () {
  "use strict";
  var mount = document.querySelector("[data-search-ui]");
  var form = document.querySelector("[data-search-form]");
  if (!mount || !form) return;
  var query = new URLSearchParams(window.location.search).get("q") || "";
  if (typeof window.PagefindUI !== "function") {
    var note = document.createElement("p");
    note.className = "search-note";
    note.textContent = "Search is not available on this copy of the site: it was built without its search index.";
    mount.appendChild(note);
    return;
  }
  // This page is /search/ under the site's root, wherever the site is served.
  var root = new URL("../", window.location.href).pathname;
  // A big site's index comes in parts (pagefind/parts.json lists them besides the
  // one next to this script): Pagefind's UI searches them all as one.
  fetch(root + "pagefind/parts.json")
    .then(function (response) { return response.ok ? response.json() : { parts: [] }; })
    .catch(function () { return { parts: [] }; })
    .then(function (listing) { start(listing.parts || []); });

  function start(parts) {
    var ui = new window.PagefindUI({
      element: mount,
      baseUrl: root,
      bundlePath: root + "pagefind/",
      mergeIndex: parts.map(function (part) { return { bundlePath: root + "pagefind/" + part }; }),
      showSubResults: true,
      showImages: false,
      autofocus: !query,
      translations: { placeholder: "Search" }
    });
    // Pagefind's own field has only a placeholder: give it the form's visible label.
    var input = mount.querySelector("input[type=text], input[type=search]");
    var label = form.querySelector("label");
    if (input && label) {
      mount.insertBefore(label, mount.firstChild);
      label.classList.add("search-label");
      form.parentNode.removeChild(form);
      input.id = label.htmlFor;
    }
    var fallback = document.querySelector("[data-search-fallback]");
    if (fallback) fallback.hidden = true;
    if (query) ui.triggerSearch(query);
    keepFiltersWhole(ui, mount);
  }
})();

// Pagefind's UI takes the filters of its first results as the whole list when they
// arrive before every filter's index has loaded (seen on a busy machine: the Kind
// group missing for good). While the reader has chosen no filter, search again with
// none chosen, a few times, until every filter the site has is shown.
function keepFiltersWhole(ui, mount) {
  "use strict";
  var expected = (mount.getAttribute("data-search-filters") || "").split(" ").filter(Boolean);
  if (!expected.length || typeof MutationObserver !== "function") return;
  var tries = 0;
  var pending = false;
  var observer = new MutationObserver(check);
  observer.observe(mount, { childList: true, subtree: true });
  function check() {
    if (pending || !mount.querySelector(".pagefind-ui__result-link")) return;
    var shown = Array.prototype.map.call(
      mount.querySelectorAll(".pagefind-ui__filter-group-label"),
      function (legend) { return legend.textContent.trim(); }
    );
    var whole = expected.every(function (name) { return shown.indexOf(name) >= 0; });
    if (whole || tries >= 5 || mount.querySelector(".pagefind-ui__filter-checkbox:checked")) {
      observer.disconnect();
      return;
    }
    tries += 1;
    pending = true;
    setTimeout(function () {
      pending = false;
      ui.triggerFilters({});
      check();
    }, 200 * tries);
  }
}
