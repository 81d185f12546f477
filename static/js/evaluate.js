// The Evaluate page's chart: observed monthly counts (bars), the model's fitted counts (a line)
// and the counterfactual without the program (a dashed line), with the program's start marked in
// the labels. Data comes from <script type="application/json" id="evaluation-data">; no inline
// script, so the strict CSP holds.
(function () {
  "use strict";

  function draw() {
    var source = document.getElementById("evaluation-data");
    var canvas = document.getElementById("evaluation-chart");
    if (!source || !canvas || typeof window.Chart === "undefined") {
      return;
    }
    var data = JSON.parse(source.textContent);
    // Words come translated from the canvas's data-text-* attributes (the page's language).
    var text = canvas.dataset;
    var narrow = window.innerWidth < 576;
    // The legend in reading order (observed, fitted, counterfactual), whatever the drawing order.
    var legendLabels = {
      sort: function (a, b) { return a.datasetIndex - b.datasetIndex; }
    };
    if (narrow) {
      legendLabels.boxWidth = 20;
      legendLabels.font = { size: 11 };
    }
    var startIndex = data.labels.indexOf(data.start);
    var observedColours = data.labels.map(function (label, index) {
      // Months from the program's start on are a darker shade, so the "after" is visible.
      return startIndex >= 0 && index >= startIndex ? "#6c757d" : "#adb5bd";
    });

    new window.Chart(canvas, {
      data: {
        labels: data.labels,
        datasets: [
          {
            type: "bar",
            label: text.textObserved,
            data: data.observed,
            backgroundColor: observedColours,
            order: 2
          },
          {
            type: "line",
            label: text.textFitted,
            data: data.fitted,
            borderColor: "#0d6efd",
            backgroundColor: "#0d6efd",
            borderWidth: 2,
            pointRadius: 0,
            tension: 0,
            order: 1
          },
          {
            type: "line",
            label: narrow ? text.textCounterfactualShort : text.textCounterfactual,
            data: data.counterfactual,
            borderColor: "#b02a37",
            backgroundColor: "#ffffff",
            borderDash: [6, 4],
            borderWidth: 2,
            pointRadius: 0,
            tension: 0,
            order: 0
          }
        ]
      },
      options: {
        responsive: true,
        aspectRatio: narrow ? 1 : 1.8,
        interaction: { mode: "index", intersect: false },
        plugins: {
          legend: {
            position: "bottom",
            labels: legendLabels
          },
          title: {
            display: startIndex >= 0,
            text: text.textTitle.replace("{measure}", data.measure).replace("{start}", data.start)
          }
        },
        scales: {
          x: { ticks: { maxTicksLimit: narrow ? 6 : 12 } },
          y: { beginAtZero: true, title: { display: true, text: data.measure } }
        }
      }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
