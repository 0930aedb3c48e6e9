/* Charts of the admin dashboard, drawn with the vendored Chart.js from the JSON the page embeds. */
(function () {
  "use strict";

  function draw() {
    var source = document.getElementById("dashboard-data");
    if (!source || typeof window.Chart === "undefined") {
      return; // The tables carry the same figures.
    }
    var data = JSON.parse(source.textContent);
    var text = data.text;

    var coverage = document.getElementById("coverage-chart");
    if (coverage && data.coverage.labels.length) {
      new window.Chart(coverage, {
        type: "bar",
        data: {
          labels: data.coverage.labels,
          datasets: [
            { label: text.coverage, data: data.coverage.coverage, backgroundColor: "#c0392b", yAxisID: "y" },
            { label: text.share, data: data.coverage.share, backgroundColor: "#f39c12", yAxisID: "share" }
          ]
        },
        options: {
          maintainAspectRatio: false,
          scales: {
            // Coverage runs to 100 %, the party members' share to a few per cent: one axis each.
            y: { beginAtZero: true, max: 100, position: "left" },
            share: { beginAtZero: true, position: "right", grid: { drawOnChartArea: false } }
          }
        }
      });
    }

    var months = document.getElementById("months-chart");
    if (months && data.months.labels.length) {
      new window.Chart(months, {
        data: {
          labels: data.months.labels,
          datasets: [
            { type: "bar", label: text.events, data: data.months.events, backgroundColor: "#2c3e50", yAxisID: "y" },
            { type: "bar", label: text.bookings, data: data.months.bookings, backgroundColor: "#3498db", yAxisID: "y" },
            { type: "bar", label: text.attended, data: data.months.attended, backgroundColor: "#27ae60", yAxisID: "y" },
            { type: "bar", label: text.no_show, data: data.months.no_show, backgroundColor: "#e67e22", yAxisID: "y" },
            { type: "line", label: text.attendance_rate, data: data.months.attendance_rate, borderColor: "#c0392b",
              backgroundColor: "#c0392b", yAxisID: "rate", spanGaps: true }
          ]
        },
        options: {
          maintainAspectRatio: false,
          scales: {
            y: { beginAtZero: true, position: "left" },
            rate: { beginAtZero: true, max: 100, position: "right", grid: { drawOnChartArea: false } }
          }
        }
      });
    }

    var demands = document.getElementById("demands-chart");
    if (demands && data.demands && data.demands.labels.length) {
      new window.Chart(demands, {
        type: "bar",
        data: {
          labels: data.demands.labels,
          datasets: [
            { label: text.received, data: data.demands.received, backgroundColor: "#2c3e50" },
            { label: text.resolved, data: data.demands.resolved, backgroundColor: "#27ae60" },
            { label: text.overdue, data: data.demands.overdue, backgroundColor: "#c0392b" }
          ]
        },
        options: { maintainAspectRatio: false, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } }
      });
    }

    var hours = document.getElementById("hours-chart");
    if (hours && data.hours && data.hours.labels.length) {
      new window.Chart(hours, {
        type: "bar",
        data: {
          labels: data.hours.labels,
          datasets: [{ label: text.hours, data: data.hours.hours, backgroundColor: "#8e44ad" }]
        },
        options: { maintainAspectRatio: false, scales: { y: { beginAtZero: true } } }
      });
    }

    var kinds = document.getElementById("kinds-chart");
    if (kinds && data.kinds.labels.length) {
      new window.Chart(kinds, {
        type: "bar",
        data: {
          labels: data.kinds.labels,
          datasets: [
            { label: text.events, data: data.kinds.events, backgroundColor: "#2c3e50" },
            { label: text.bookings, data: data.kinds.bookings, backgroundColor: "#3498db" }
          ]
        },
        options: { maintainAspectRatio: false, indexAxis: "y" }
      });
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
