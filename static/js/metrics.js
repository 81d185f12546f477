// The metrics dashboard chart: outcomes (left axis) and program activity (right axis) on one
// monthly time axis. Data comes from the page's <script type="application/json" id="metrics-data">;
// the same numbers are in the table beside the chart. No inline script, so a strict CSP holds.
(function () {
  "use strict";

  function draw() {
    var source = document.getElementById("metrics-data");
    var canvas = document.getElementById("metrics-chart");
    if (!source || !canvas || typeof window.Chart === "undefined") {
      return;
    }
    var data = JSON.parse(source.textContent);
    // Words come translated from the canvas's data-text-* attributes (the page's language).
    var text = canvas.dataset;
    var outcomeColours = ["#b02a37", "#6f42c1", "#d63384", "#fd7e14", "#842029", "#6c757d"];
    var datasets = [];

    data.measures.forEach(function (measure, index) {
      var colour = outcomeColours[index % outcomeColours.length];
      if (measure.monthly.some(function (value) { return value !== null; })) {
        datasets.push({
          type: "bar",
          label: measure.label + " " + text.textMonth,
          data: measure.monthly,
          backgroundColor: colour,
          yAxisID: "outcomes",
          order: 2
        });
      }
      if (measure.annual.length) {
        // An annual total is one marked point at mid-year, never spread over the months.
        var points = data.labels.map(function () { return null; });
        measure.annual.forEach(function (point) {
          var at = data.labels.indexOf(point.month);
          if (at >= 0) {
            points[at] = point.count;
          }
        });
        datasets.push({
          type: "line",
          label: measure.label + " " + text.textAnnual,
          data: points,
          yAxisID: "outcomes",
          showLine: false,
          pointStyle: "rectRot",
          pointRadius: 8,
          pointHoverRadius: 10,
          borderColor: colour,
          backgroundColor: colour,
          order: 1
        });
      }
    });

    // Incidents recorded in GVR Case Manager: a second source, a dashed line in the colour of the
    // official measure it sits beside, labelled with its source; never added to the official bars.
    var codes = data.measures.map(function (measure) { return measure.code; });
    (data.incidents || []).forEach(function (series) {
      var colour = outcomeColours[Math.max(codes.indexOf(series.code), 0) % outcomeColours.length];
      datasets.push({
        type: "line",
        label: series.label,
        shortLabel: series.short_label,
        data: series.monthly,
        yAxisID: "outcomes",
        borderColor: colour,
        backgroundColor: "#ffffff",
        borderDash: [6, 4],
        borderWidth: 2,
        pointStyle: "circle",
        pointRadius: 2,
        tension: 0,
        order: 1
      });
    });

    var activity = [
      ["sessions", text.textSessions, "#0d6efd"],
      ["contact_hours", text.textContactHours, "#198754"],
      ["participants_served", text.textParticipantsServed, "#0dcaf0"]
    ];
    activity.forEach(function (series) {
      datasets.push({
        type: "line",
        label: series[1],
        data: data.activity[series[0]],
        borderColor: series[2],
        backgroundColor: series[2],
        yAxisID: "activity",
        tension: 0.2,
        pointRadius: 2,
        spanGaps: false,
        order: 0
      });
    });

    var narrow = window.innerWidth < 576;
    var legendLabels = {};
    if (narrow) {
      // A legend line cannot wrap: on a phone, smaller boxes and the short form of a long label
      // (it still names the source; the tooltip and the table give the full one).
      legendLabels = {
        boxWidth: 20,
        font: { size: 11 },
        generateLabels: function (chart) {
          var items = window.Chart.defaults.plugins.legend.labels.generateLabels(chart);
          items.forEach(function (item) {
            var dataset = chart.data.datasets[item.datasetIndex];
            if (dataset && dataset.shortLabel) {
              item.text = dataset.shortLabel;
            }
          });
          return items;
        }
      };
    }

    new window.Chart(canvas, {
      data: { labels: data.labels, datasets: datasets },
      options: {
        responsive: true,
        aspectRatio: narrow ? 1 : 1.8,
        interaction: { mode: "index", intersect: false },
        plugins: { legend: { position: "bottom", labels: legendLabels } },
        scales: {
          outcomes: {
            type: "linear",
            position: "left",
            beginAtZero: true,
            title: { display: true, text: text.textOutcomeAxis }
          },
          activity: {
            type: "linear",
            position: "right",
            beginAtZero: true,
            grid: { drawOnChartArea: false },
            title: { display: true, text: text.textActivityAxis }
          }
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
