/* The CT pages' progressive enhancements: every page works without this script.
   - tables: each cell learns its column's heading (data-label), shown when the table reflows on a phone;
   - a refused form: the focus moves to its error summary, whose links focus the field in error;
   - a long list to choose several from (select[data-searchable]): a filter above one checkbox per
     option, usable with the keyboard alone; the select stays in the form and posts the same values. */
(function () {
  "use strict";

  function labelCells(table) {
    var heads = table.querySelectorAll("thead th");
    if (!heads.length) return;
    table.querySelectorAll("tbody tr").forEach(function (row) {
      Array.prototype.forEach.call(row.children, function (cell, n) {
        var head = heads[n];
        if (cell.tagName === "TD" && head && head.textContent.trim() && !cell.hasAttribute("data-label")) {
          cell.setAttribute("data-label", head.textContent.trim());
        }
      });
    });
  }

  function fieldOf(link) {
    var id = decodeURIComponent(link.getAttribute("href").slice(1));
    var field = document.getElementById(id);
    if (field && !field.hidden && field.tabIndex >= -1 && (field.matches("input, select, textarea, a[href], [tabindex]"))) return field;
    var form = link.closest("form");
    var block = form && form.querySelector('[data-field="' + link.getAttribute("data-for") + '"]');
    return block && block.querySelector("input:not([type=hidden]), select:not([hidden]), textarea");
  }

  function summarise(summary) {
    summary.querySelectorAll("a[data-for]").forEach(function (link) {
      var field = fieldOf(link);
      var block = field && field.closest("[data-field]");
      var label = block && block.querySelector("label, legend");
      var name = link.querySelector("[data-label]");
      var text = label ? label.firstChild.textContent.trim() : block && block.getAttribute("data-name");
      if (text && name) name.textContent = text;
      link.addEventListener("click", function (event) {
        if (!field) return;
        event.preventDefault();
        field.focus();
      });
    });
  }

  function searchable(select, n) {
    var id = select.id || "ctm-picker-" + n;
    var label = document.querySelector('label[for="' + id + '"]');
    var picker = document.createElement("div");
    picker.className = "ctm-picker";
    var filter = document.createElement("input");
    filter.type = "search";
    filter.id = id + "-filter";
    filter.autocomplete = "off";
    filter.setAttribute("aria-describedby", id + "-count");
    filter.setAttribute("aria-controls", id + "-options");
    var count = document.createElement("p");
    count.id = id + "-count";
    count.className = "ctm-sr";
    count.setAttribute("aria-live", "polite");
    var options = document.createElement("div");
    options.id = id + "-options";
    options.className = "ctm-picker-options";
    options.setAttribute("role", "group");
    if (label) {
      label.id = label.id || id + "-label";
      label.htmlFor = filter.id;
      options.setAttribute("aria-labelledby", label.id);
    }
    var boxes = Array.prototype.map.call(select.options, function (option) {
      var row = document.createElement("label");
      var box = document.createElement("input");
      box.type = "checkbox";
      box.value = option.value;
      box.checked = option.selected;
      box.addEventListener("change", function () { option.selected = box.checked; });
      row.appendChild(box);
      row.appendChild(document.createTextNode(" " + option.text));
      options.appendChild(row);
      return { row: row, box: box, text: option.text.toLowerCase() };
    });
    function show() {
      var words = filter.value.trim().toLowerCase();
      var shown = 0;
      boxes.forEach(function (b) {
        var visible = !words || b.box.checked || b.text.indexOf(words) !== -1;
        b.row.hidden = !visible;
        if (visible) shown += 1;
      });
      count.textContent = (select.getAttribute("data-count") || "{shown}/{total}")
        .replace("{shown}", shown).replace("{total}", boxes.length);
    }
    filter.addEventListener("input", show);
    filter.addEventListener("keydown", function (event) {
      if (event.key === "Enter") {  // Enter in the filter ticks the one option left, never submits
        event.preventDefault();
        var left = boxes.filter(function (b) { return !b.row.hidden && !b.box.checked; });
        if (left.length === 1) left[0].box.click();  // the focus stays here, for the next one
      }
    });
    picker.appendChild(filter);
    picker.appendChild(count);
    picker.appendChild(options);
    select.hidden = true;
    select.parentNode.insertBefore(picker, select);
    show();
  }

  /* A section with data-refresh="N" (seconds) is fetched again every N seconds from data-refresh-from (a
     fragment holding that section alone, not the whole page) while the page is in sight, and replaced when it
     changed; each card ([data-return]) whose status changed is announced in the live region data-announce-to
     names. It stops once the new section no longer asks for it, or the fragment cannot be had. */
  function refreshing(section) {
    var seconds = parseInt(section.getAttribute("data-refresh"), 10) || 10;
    var live = document.querySelector('[data-announce="' + section.getAttribute("data-announce-to") + '"]');
    var timer = setInterval(function () {
      if (document.hidden || section.contains(document.activeElement)) return;  // not under the user's hands
      fetch(section.getAttribute("data-refresh-from"), { credentials: "same-origin", headers: { Accept: "text/html" } })
        .then(function (response) {
          if (!response.ok || response.redirected) throw new Error("stop");
          return response.text();
        })
        .then(function (html) {
          var fresh = new DOMParser().parseFromString(html, "text/html").getElementById(section.id);
          if (!fresh) throw new Error("stop");
          var said = [];
          fresh.querySelectorAll("[data-return]").forEach(function (card) {
            var old = section.querySelector('[data-return="' + card.getAttribute("data-return") + '"] [data-value="status"]');
            var now = card.querySelector('[data-value="status"]');
            if (now && (!old || old.textContent.trim() !== now.textContent.trim())) {
              said.push(card.querySelector("h4").textContent.replace(/\s+/g, " ").trim());
            }
          });
          if (fresh.innerHTML !== section.innerHTML) {
            section.innerHTML = fresh.innerHTML;
            section.querySelectorAll("table").forEach(labelCells);
          }
          if (said.length && live) live.textContent = said.join(". ");
          if (!fresh.hasAttribute("data-refresh")) {
            section.removeAttribute("data-refresh");
            throw new Error("stop");
          }
        })
        .catch(function () { clearInterval(timer); });
    }, seconds * 1000);
  }

  function ready() {
    document.querySelectorAll("[data-refresh]").forEach(refreshing);
    document.querySelectorAll('[data-plugin="ctm"] table').forEach(labelCells);
    document.querySelectorAll("select[multiple][data-searchable]").forEach(searchable);
    var summary = document.querySelector("[data-error-summary]");
    if (summary) {
      summarise(summary);
      summary.focus();
    }
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", ready);
  else ready();
})();
