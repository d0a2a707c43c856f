// Chart building blocks shared by the assessment pages, the dashboards and the portal
// (ECharts, served from our static files). Data come from <script type="application/json">
// blocks written by the templates; each drawn chart element gets data-ready="true" (the
// browser tests wait for it).
window.citycheckCharts = (function () {
  function json(id) {
    const element = document.getElementById(id);
    return element ? JSON.parse(element.textContent) : null;
  }
  function draw(id, option) {
    const element = document.getElementById(id);
    if (!element) return null;
    const instance = echarts.init(element);
    instance.setOption(option);
    element.dataset.ready = "true";
    window.addEventListener("resize", () => instance.resize());
    return instance;
  }
  // A long (English) radar axis name on two lines, split at the last space before its middle,
  // so it stays inside a narrow chart.
  function twoLines(name) {
    const space = name.lastIndexOf(" ", Math.ceil(name.length / 2));
    return name.length > 14 && space > 0 ? `${name.slice(0, space)}\n${name.slice(space + 1)}` : name;
  }
  // Places coloured by value, red (low) to green (high); the registered map ``name``.
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
  // The place's dimension scores against its peers' mean; ``labels`` names the two series.
  function radarOption(radar, labels) {
    return {
      // Legend above and the radar a little smaller and lower, so the bottom axis name
      // never meets the legend; axis names dark enough to read.
      legend: { top: 0 }, tooltip: {},
      radar: { indicator: radar.indicators, center: ["50%", "55%"], radius: "62%",
              axisName: { color: "#333", formatter: twoLines } },
      series: [{ type: "radar", data: [{ name: labels.place, value: radar.place },
                                        { name: labels.peers, value: radar.peers }] }],
    };
  }
  function trendOption(trend) {
    return {
      tooltip: { trigger: "axis" }, legend: { bottom: 0, type: "scroll" },
      xAxis: { type: "category", data: trend.years }, yAxis: { type: "value" },
      series: trend.series.map(s => ({ type: "line", name: s.name, data: s.data })),
    };
  }
  return { json, draw, mapOption, radarOption, trendOption };
})();
