// Project map of the library page: boundaries of the places in reach (places API), each
// region coloured by its number of projects (#projects-by-region, same filters as the
// table), under the filtered project points (renewal API, same query string as the table).
(function () {
  const element = document.getElementById("project-map");
  if (!element || typeof echarts === "undefined") return;
  const countsElement = document.getElementById("projects-by-region");
  const counts = countsElement ? JSON.parse(countsElement.textContent) : {};
  const get = url => url ? fetch(url, { credentials: "same-origin" }).then(r => r.ok ? r.json() : null) : Promise.resolve(null);
  Promise.all([get(element.dataset.boundaries), get(element.dataset.layer)]).then(([boundaries, layer]) => {
    const chart = echarts.init(element);
    const points = (layer ? layer.features : []).filter(f => f.geometry && f.geometry.type === "Point")
      .map(f => ({ name: f.properties.name, value: [...f.geometry.coordinates, f.properties.budget],
                   properties: f.properties }));
    element.dataset.points = String(points.length);
    const countLabel = element.dataset.countLabel;
    const option = {
      tooltip: { formatter: p => p.data && p.data.properties
        ? `${p.data.properties.name}<br>${p.data.properties.place_name} · ${p.data.properties.project_type_name} · ${p.data.properties.status_name}`
        : p.seriesType === "map" && p.data ? `${p.name}<br>${countLabel}: ${p.value}` : p.name },
      series: [],
    };
    if (boundaries && boundaries.features.length) {
      echarts.registerMap("projects", boundaries);
      option.geo = { map: "projects", roam: true, nameProperty: "name",
                     itemStyle: { areaColor: "#eef3f7", borderColor: "#7a8a99" } };
      // The root place is the background when its children are drawn; the children carry
      // the counts (a place without children carries its own).
      const regions = boundaries.features.length > 1
        ? boundaries.features.filter(f => f.properties.code !== element.dataset.root)
        : boundaries.features;
      const data = regions.map(f => ({ name: f.properties.name, value: counts[f.properties.code] || 0 }));
      const most = Math.max(1, ...data.map(d => d.value));
      option.series.push({ type: "map", geoIndex: 0, data: data });
      option.visualMap = { seriesIndex: 0, min: 0, max: most, calculable: true,
                           left: "left", bottom: 10, inRange: { color: ["#eef3f7", "#2c7fb8"] } };
      element.dataset.regions = String(data.filter(d => d.value > 0).length);
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
