// The gap map of the life-circle analysis: homes coloured by walking distance to the
// nearest facility of one type (green near, red far), homes with none within the largest
// band as red crosses (the gaps), facilities as black diamonds. ECharts from our static
// files; data from a <script type="application/json"> block written by the template.
(function () {
  function draw(element) {
    const data = JSON.parse(document.getElementById(element.dataset.map).textContent);
    const limit = data.bands[data.bands.length - 1];
    const reached = data.homes.filter(h => h[2] !== null && h[2] <= limit);
    const gaps = data.homes.filter(h => h[2] === null || h[2] > limit);
    const metres = element.dataset.metres;
    const chart = echarts.init(element);
    chart.setOption({
      animation: false,
      tooltip: { formatter: p => p.seriesIndex === 0 ? `${Math.round(p.value[2])} ${metres}` : p.seriesName },
      legend: { top: 0 },
      grid: { left: 60, right: 110, top: 30, bottom: 40 },
      xAxis: { type: "value", scale: true, name: "lon", axisLabel: { formatter: v => v.toFixed(3) } },
      yAxis: { type: "value", scale: true, name: "lat", axisLabel: { formatter: v => v.toFixed(3) } },
      visualMap: { seriesIndex: 0, dimension: 2, min: 0, max: limit, calculable: true, right: 0, top: 40,
                   text: [`${limit} ${metres}`, `0`], inRange: { color: ["#1a9850", "#fee08b", "#f46d43"] } },
      series: [
        { name: data.label, type: "scatter", symbolSize: 5, data: reached, large: reached.length > 5000 },
        { name: element.dataset.gap, type: "scatter", symbol: "path://M0,0 L10,10 M10,0 L0,10", symbolSize: 7,
          itemStyle: { color: "#b2182b", borderColor: "#b2182b", borderWidth: 2 }, data: gaps },
        { name: element.dataset.facilities, type: "scatter", symbol: "diamond", symbolSize: 10,
          itemStyle: { color: "#222" }, data: data.facilities },
      ],
    });
    element.dataset.ready = "true";
    window.addEventListener("resize", () => chart.resize());
  }
  document.querySelectorAll("[data-map]").forEach(draw);
})();
