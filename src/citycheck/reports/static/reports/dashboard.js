// Dashboards and portal charts (ECharts, served from our static files).
// Data come from <script type="application/json"> blocks written by the templates;
// each chart element gets data-ready="true" once drawn (the browser tests wait for it).
(function () {
  function json(id) {
    const element = document.getElementById(id);
    return element ? JSON.parse(element.textContent) : null;
  }
  const data = json("dashboard-data") || {};
  const labels = json("dashboard-labels") || {};
  // A long (English) radar axis name on two lines, split at the last space before its middle,
  // so it stays inside a narrow chart.
  function twoLines(name) {
    const space = name.lastIndexOf(" ", Math.ceil(name.length / 2));
    return name.length > 14 && space > 0 ? `${name.slice(0, space)}\n${name.slice(space + 1)}` : name;
  }
  function chart(id, option) {
    const element = document.getElementById(id);
    if (!element) return null;
    const instance = echarts.init(element);
    instance.setOption(option);
    element.dataset.ready = "true";
    window.addEventListener("resize", () => instance.resize());
    return instance;
  }
  function mapOption(name, collection) {
    const values = collection.features.map(f => f.properties.value).filter(v => v !== null);
    return {
      tooltip: { formatter: p => `${p.name}: ${p.value ?? "—"}` },
      visualMap: { min: Math.min(...values, 0), max: Math.max(...values, 1), calculable: true,
                   inRange: { color: ["#d73027", "#fee08b", "#1a9850"] } },
      series: [{ type: "map", map: name, nameProperty: "name",
                 data: collection.features.map(f => ({ name: f.properties.name, value: f.properties.value,
                                                       code: f.properties.code,
                                                       hasChildren: f.properties.has_children })) }],
    };
  }
  if (data.map && document.getElementById("dashboard-map")) {
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
    show("top", data.map, title.textContent);
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
  }
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
  if (data.trend) {
    chart("dashboard-trend", {
      tooltip: { trigger: "axis" }, legend: { bottom: 0, type: "scroll" },
      xAxis: { type: "category", data: data.trend.years }, yAxis: { type: "value" },
      series: data.trend.series.map(s => ({ type: "line", name: s.name, data: s.data })),
    });
  }
  if (data.radar && data.radar.indicators.length) {
    chart("dashboard-radar", {
      // Legend above and the radar a little smaller and lower, so the bottom axis name
      // never meets the legend; axis names dark enough to read.
      legend: { top: 0 }, tooltip: {},
      radar: { indicator: data.radar.indicators, center: ["50%", "55%"], radius: "62%",
              axisName: { color: "#333", formatter: twoLines } },
      series: [{ type: "radar", data: [{ name: labels.place, value: data.radar.place },
                                        { name: labels.peers, value: data.radar.peers }] }],
    });
  }
})();
