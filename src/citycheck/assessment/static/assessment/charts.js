// Charts of the assessment pages: the index map, the dimension radar and the trend.
// Data come from <script type="application/json"> blocks written by the templates.
(function () {
  function data(id) {
    const element = document.getElementById(id);
    return element ? JSON.parse(element.textContent) : null;
  }
  // A long (English) radar axis name on two lines, split at the last space before its middle,
  // so it stays inside a narrow chart.
  function twoLines(name) {
    const space = name.lastIndexOf(" ", Math.ceil(name.length / 2));
    return name.length > 14 && space > 0 ? `${name.slice(0, space)}\n${name.slice(space + 1)}` : name;
  }
  const map = data("map-data");
  if (map && document.getElementById("index-map")) {
    echarts.registerMap("release", map);
    const values = map.features.map(f => f.properties.value);
    echarts.init(document.getElementById("index-map")).setOption({
      tooltip: { formatter: p => `${p.name}: ${p.value ?? "—"}` },
      visualMap: { min: Math.min(...values), max: Math.max(...values), calculable: true,
                   inRange: { color: ["#d73027", "#fee08b", "#1a9850"] } },
      series: [{ type: "map", map: "release", nameProperty: "name",
                 data: map.features.map(f => ({ name: f.properties.name, value: f.properties.value })) }],
    });
  }
  const radar = data("radar-data");
  if (radar && document.getElementById("radar") && radar.indicators.length) {
    echarts.init(document.getElementById("radar")).setOption({
      // Legend above and the radar a little smaller and lower, so the bottom axis name
      // never meets the legend; axis names dark enough to read.
      legend: { top: 0 }, tooltip: {},
      radar: { indicator: radar.indicators, center: ["50%", "55%"], radius: "62%",
              axisName: { color: "#333", formatter: twoLines } },
      series: [{ type: "radar", data: [{ name: "本地区", value: radar.place },
                                        { name: "同类平均", value: radar.peers }] }],
    });
  }
  const trend = data("trend-data");
  if (trend && document.getElementById("trend")) {
    echarts.init(document.getElementById("trend")).setOption({
      tooltip: { trigger: "axis" }, legend: { bottom: 0, type: "scroll" },
      xAxis: { type: "category", data: trend.years }, yAxis: { type: "value" },
      series: trend.series.map(s => ({ type: "line", name: s.name, data: s.data })),
    });
  }
})();
