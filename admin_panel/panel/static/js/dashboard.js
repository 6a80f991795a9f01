/* Draws the dashboard charts from the JSON embedded in the page (no network). */
(function () {
  var data = JSON.parse(document.getElementById('chart-data').textContent);
  var num = CodeHubCharts.num, palette = CodeHubCharts.palette;  /* js/charts.js: shared with the analytics page */
  var texts = data.texts;  // the chart words in the admin's language
  CodeHubCharts.setup();
  new Chart(document.getElementById('chart-revenue'), {
    type: 'bar',
    data: { labels: data.revenue.labels, datasets: data.revenue.datasets.map(function (d, i) {
      return { label: d.label, data: num(d.data), backgroundColor: palette[i] };
    }) },
    options: { scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, title: { display: true, text: texts.currency } } } }
  });
  new Chart(document.getElementById('chart-topups'), {
    type: 'doughnut',
    data: { labels: data.topups.labels, datasets: [{ data: data.topups.counts, backgroundColor: ['#28a745', '#dc3545', '#f0ad4e'] }] },
    options: { plugins: { legend: { position: 'bottom' }, tooltip: { callbacks: {
      label: function (c) { return c.label + ': ' + c.raw + ' (' + data.topups.amounts[c.dataIndex] + ' ' + texts.currency + ')'; } } } } }
  });
  new Chart(document.getElementById('chart-enrollments'), {
    type: 'bar',
    data: { labels: data.enrollments.labels, datasets: [{ label: texts.enrollments, data: data.enrollments.data, backgroundColor: '#6f42c1' }] },
    options: { indexAxis: 'y', plugins: { legend: { display: false } }, scales: { x: { beginAtZero: true, ticks: { precision: 0 } } } }
  });
  new Chart(document.getElementById('chart-bookings'), {
    type: 'line',
    data: { labels: data.bookings.labels, datasets: [{ label: texts.bookings, data: data.bookings.data, borderColor: '#17a2b8', backgroundColor: 'rgba(23,162,184,.15)', fill: true, tension: .25 }] },
    options: { plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } }
  });
}());
