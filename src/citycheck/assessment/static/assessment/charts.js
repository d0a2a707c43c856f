// Charts of the assessment pages: the index map, the dimension radar and the trend
// (building blocks in core/charts.js).
(function () {
  const { json, draw, mapOption, radarOption, trendOption } = window.citycheckCharts;
  const map = json("map-data");
  if (map && document.getElementById("index-map")) {
    echarts.registerMap("release", map);
    draw("index-map", mapOption("release", map));
  }
  const radar = json("radar-data");
  if (radar && radar.indicators.length) draw("radar", radarOption(radar, json("chart-labels")));
  const trend = json("trend-data");
  if (trend) draw("trend", trendOption(trend));
})();
