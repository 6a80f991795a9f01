/* Draws the dashboard charts from the JSON embedded in the page (no network). */
(function () {
  var data = JSON.parse(document.getElementById('chart-data').textContent);
  var num = function (xs) { return xs.map(function (x) { return parseFloat(x); }); };
  var palette = ['#0d6efd', '#20c997', '#f0ad4e', '#dc3545', '#6f42c1', '#17a2b8'];
  var texts = data.texts;  // the chart words in the admin's language
  var rtl = document.documentElement.dir === 'rtl';
  Chart.defaults.locale = document.documentElement.lang === 'ar' ? 'ar-EG' : 'en';  // Arabic-Indic digits on axes
  Chart.defaults.plugins.legend.rtl = rtl;
  Chart.defaults.plugins.tooltip.rtl = rtl;
  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  Chart.defaults.maintainAspectRatio = false;
  Chart.defaults.animation = false;
  // charts follow their box's width (chart-box sets the height): a long category name is shortened to what the
  // axis can hold (the tooltip says it whole) and crowded labels skip or tilt instead of clipping on a phone
  Chart.defaults.responsive = true;
  Chart.defaults.scale.ticks.autoSkip = true;
  Chart.defaults.scale.ticks.maxRotation = 45;
  Chart.defaults.scales.category.ticks.callback = function (value) {
    var label = String(this.getLabelForValue(value)), room = Math.max(10, Math.floor(this.chart.width / 16));
    return label.length > room ? label.slice(0, room - 1) + '…' : label;
  };
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
