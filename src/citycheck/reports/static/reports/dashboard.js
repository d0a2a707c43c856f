// Dashboards and portal charts (building blocks in core/charts.js).
(function () {
  const { json, draw: chart, mapOption, radarOption, trendOption } = window.citycheckCharts;
  const data = json("dashboard-data") || {};
  const labels = json("dashboard-labels") || {};
  // The map's boundaries are fetched once per release (cached and compressed on the
  // server, revalidated by ETag), not inlined in the page.
  const mapTop = data.map_url && document.getElementById("dashboard-map")
    ? fetch(data.map_url.replace("CODE", data.map_top)).then(response => response.json())
    : null;
  if (mapTop) mapTop.then(topMap => {
    const stack = [];
    const title = document.getElementById("map-title");
    const back = document.getElementById("map-back");
    let map = null;
    let current = null;
    function show(name, collection, caption) {
      current = [caption, name, collection];
      echarts.registerMap(name, collection);
      if (map) map.setOption(mapOption(name, collection), true);
      else map = chart("dashboard-map", mapOption(name, collection));
      title.textContent = caption;
      back.hidden = stack.length === 0;
    }
    show("top", topMap, title.textContent);
    map.on("click", params => {
      if (!params.data) return;
      if (!params.data.hasChildren) {  // a county: nothing below it, open its dashboard
        window.location = data.place_url.replace("CODE", params.data.code);
        return;
      }
      fetch(data.map_url.replace("CODE", params.data.code))
        .then(response => response.json())
        .then(collection => {
          if (!collection.features.length) return;
          stack.push(current);
          show(`m${params.data.code}`, collection, params.name);
        });
    });
    back.addEventListener("click", () => {
      const [caption, name, collection] = stack.pop();
      show(name, collection, caption);
    });
  });
  if (data.ranking) {
    const ranking = chart("dashboard-ranking", {
      tooltip: {}, grid: { left: 90 },
      xAxis: { type: "value" },
      yAxis: { type: "category", inverse: true, data: data.ranking.map(r => r.name) },
      series: [{ type: "bar", name: labels.index, data: data.ranking.map(r => r.score) }],
    });
    ranking && ranking.on("click", p => {
      window.location = data.place_url.replace("CODE", data.ranking[p.dataIndex].code);
    });
  }
  if (data.matrix) {
    chart("dashboard-matrix", {
      tooltip: { formatter: p => `${data.matrix.places[p.value[1]]} · ${data.matrix.dimensions[p.value[0]]}: ${labels.warning[p.value[2] + 1]}` },
      grid: { left: 90, bottom: 90 },
      xAxis: { type: "category", data: data.matrix.dimensions, axisLabel: { rotate: 40 } },
      yAxis: { type: "category", data: data.matrix.places, inverse: true },
      visualMap: { type: "piecewise", show: false, dimension: 2,
                   pieces: [{ value: -1, color: "#e0e0e0" }, { value: 0, color: "#1a9850" },
                            { value: 1, color: "#fee08b" }, { value: 2, color: "#d73027" }] },
      series: [{ type: "heatmap", data: data.matrix.cells, itemStyle: { borderColor: "#fff", borderWidth: 2 } }],
    });
  }
  if (data.trend) chart("dashboard-trend", trendOption(data.trend));
  if (data.radar && data.radar.indicators.length) {
    chart("dashboard-radar", radarOption(data.radar, labels));
  }
})();
