// Project map of the library page: boundaries of the places in reach (places API) under
// the filtered project points (renewal API, same query string as the table).
(function () {
  const element = document.getElementById("project-map");
  if (!element || typeof echarts === "undefined") return;
  const get = url => url ? fetch(url, { credentials: "same-origin" }).then(r => r.ok ? r.json() : null) : Promise.resolve(null);
  Promise.all([get(element.dataset.boundaries), get(element.dataset.layer)]).then(([boundaries, layer]) => {
    const chart = echarts.init(element);
    const points = (layer ? layer.features : []).filter(f => f.geometry && f.geometry.type === "Point")
      .map(f => ({ name: f.properties.name, value: [...f.geometry.coordinates, f.properties.budget],
                   properties: f.properties }));
    element.dataset.points = String(points.length);
    const option = {
      tooltip: { formatter: p => p.data && p.data.properties
        ? `${p.data.properties.name}<br>${p.data.properties.place_name} · ${p.data.properties.project_type_name} · ${p.data.properties.status_name}`
        : p.name },
      series: [],
    };
    if (boundaries && boundaries.features.length) {
      echarts.registerMap("projects", boundaries);
      option.geo = { map: "projects", roam: true, nameProperty: "name",
                     itemStyle: { areaColor: "#eef3f7", borderColor: "#7a8a99" } };
      const note = document.getElementById("datum-note");
      if (note && boundaries.datums && !boundaries.datums.includes("GCJ-02")) {
        note.textContent = `底图边界坐标系：${boundaries.datums.join("、")}。项目经纬度须与之一致。`;
      }
    }
    option.series.push({ type: "scatter", coordinateSystem: option.geo ? "geo" : undefined,
                         symbolSize: 9, itemStyle: { color: "#c0392b" }, data: points });
    if (!option.geo) { option.xAxis = { scale: true }; option.yAxis = { scale: true }; }
    chart.setOption(option);
    chart.on("click", p => { if (p.data && p.data.properties) window.location = p.data.properties.url; });
  });
})();
