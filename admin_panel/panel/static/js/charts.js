/* The panel's chart helpers (Chart.js, vendored): one look for every page's charts, and a drawer for the charts a
   page describes in JSON (analytics). Money and percentages arrive as strings (never floats on the server). */
(function () {
  var palette = ['#0d6efd', '#20c997', '#f0ad4e', '#dc3545', '#6f42c1', '#17a2b8'];
  var num = function (xs) { return xs.map(function (x) { return x === null ? null : parseFloat(x); }); };
  var setup = function () {
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
  };
  /* spec: {canvas, type: 'bar'|'line', labels, datasets: [{label, data, color?}], unit?, stacked?, horizontal?} */
  var draw = function (spec) {
    var canvas = document.getElementById(spec.canvas);
    if (!canvas) { return null; }
    var value = spec.horizontal ? 'x' : 'y';
    var scales = { x: { stacked: !!spec.stacked }, y: { stacked: !!spec.stacked } };
    scales[value].beginAtZero = true;
    if (spec.unit) { scales[value].title = { display: true, text: spec.unit }; }
    if (spec.whole) { scales[value].ticks = { precision: 0 }; }
    if (spec.unit === '%') { scales[value].suggestedMax = 100; }
    return new Chart(canvas, {
      type: spec.type,
      data: { labels: spec.labels, datasets: spec.datasets.map(function (d, i) {
        var color = d.color || palette[i % palette.length];
        return { label: d.label, data: num(d.data), backgroundColor: color, borderColor: color, spanGaps: false, tension: 0.25 };
      }) },
      options: { indexAxis: spec.horizontal ? 'y' : 'x', scales: scales,
        plugins: { legend: { display: spec.datasets.length > 1, position: 'bottom' } } }
    });
  };
  window.CodeHubCharts = { palette: palette, num: num, setup: setup, draw: draw };
}());
