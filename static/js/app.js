// Page behaviour without inline scripts (the Content-Security-Policy allows none).

// The words scripts write, in the page's language (templates/includes/js_text.html): the text
// of data-<key>, with each {name} replaced by values[name].
window.gvrText = (key, values = {}) => {
  const source = document.getElementById("js-text");
  const text = (source && source.dataset[key]) || "";
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
};
// Elements with data-confirm ask before their form is submitted.
document.addEventListener("submit", (event) => {
  const message = event.submitter?.dataset.confirm || event.target.dataset.confirm;
  if (message && !window.confirm(message)) {
    event.preventDefault();
  }
});

// Tables become cards on a phone (static/css/app.css): each cell gets its column's heading as
// data-label, read from the page itself, so the labels are in the page's language. A table
// with .table-keep, or without a heading row, stays as it is.
function headingsOf(table) {
  const rows = table.tHead ? table.tHead.rows : [];
  if (!rows.length) return null;
  const headings = [];
  for (const cell of rows[rows.length - 1].cells) {
    const text = cell.textContent.replace(/\s+/g, " ").trim();
    for (let span = 0; span < cell.colSpan; span += 1) headings.push(text);
  }
  return headings;
}

function labelTable(table) {
  if (table.classList.contains("table-keep") || table.closest(".table-keep")) return;
  const headings = headingsOf(table);
  if (!headings) return;
  for (const body of [...table.tBodies, ...(table.tFoot ? [table.tFoot] : [])]) {
    for (const row of body.rows) {
      let column = 0;
      for (const cell of row.cells) {
        const heading = headings[column];
        // A cell across the whole row (a "nothing yet" line) needs no label.
        if (heading && cell.colSpan < headings.length && !cell.dataset.label) {
          cell.dataset.label = heading;
        }
        column += cell.colSpan;
      }
    }
  }
  table.classList.add("table-cards");
}

function labelTables(root) {
  const scope = root && root.querySelectorAll ? root : document;
  if (scope.matches && scope.matches("table.table")) labelTable(scope);
  scope.querySelectorAll("table.table").forEach(labelTable);
}

labelTables(document);
// Content htmx brings in (a filtered list, the next page) is labelled too.
document.addEventListener("htmx:load", (event) => labelTables(event.target));
