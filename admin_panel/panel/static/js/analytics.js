/* Draws the analytics page's charts from the JSON embedded in the page (no network). */
(function () {
  CodeHubCharts.setup();
  JSON.parse(document.getElementById('chart-data').textContent).forEach(CodeHubCharts.draw);
}());
