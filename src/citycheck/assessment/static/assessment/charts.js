// Charts of the assessment pages: the index map, the dimension radar and the trend
// (building blocks in core/charts.js).
(function () {
  const { json, draw, mapOption, radarOption, trendOption } = window.citycheckCharts;
  // The map's boundaries are fetched (cached and compressed on the server, revalidated by
  // ETag), not inlined in the page.
  const mapElement = document.getElementById("index-map");
  if (mapElement && mapElement.dataset.url) {
    fetch(mapElement.dataset.url).then(response => response.json()).then(map => {
      echarts.registerMap("release", map);
      draw("index-map", mapOption("release", map));
    });
  }
  const radar = json("radar-data");
  if (radar && radar.indicators.length) draw("radar", radarOption(radar, json("chart-labels")));
  const trend = json("trend-data");
  if (trend) draw("trend", trendOption(trend));
})();
