// The monitoring dashboard: open warnings on a map of the place's children, open and
// overdue warnings per department, and one indicator's series with its rule limits and
// a forecast with its interval. Data from the page's json_script blocks.
(function () {
  const charts = window.citycheckCharts;
  const data = charts.json("monitoring-data");
  const labels = charts.json("monitoring-labels");
  if (!data) return;

  if (data.map) {
    echarts.registerMap("monitoring", data.map);
    const option = charts.mapOption("monitoring", data.map);
    option.visualMap.inRange.color = ["#fff7bc", "#fd8d3c", "#bd0026"];
    option.series[0].name = labels.warnings;
    const chart = charts.draw("monitoring-map", option);
    if (chart) {
      chart.on("click", p => { if (p.data && p.data.code) window.location = data.place_url.replace("CODE", p.data.code); });
    }
  }

  if (data.departments && data.departments.names.length) {
    charts.draw("monitoring-departments", {
      tooltip: { trigger: "axis" }, legend: { bottom: 0 },
      grid: { left: 120, right: 20, top: 10, bottom: 40 },
      xAxis: { type: "value", minInterval: 1 },
      yAxis: { type: "category", data: data.departments.names, inverse: true },
      series: [
        { type: "bar", name: labels.open, data: data.departments.open, itemStyle: { color: "#f4a259" } },
        { type: "bar", name: labels.overdue, data: data.departments.overdue, itemStyle: { color: "#c0392b" } },
      ],
    });
  }

  const s = data.series;
  if (s) {
    const periods = s.periods.concat(s.forecast ? s.forecast.periods : []);
    const pad = s.forecast ? s.forecast.periods.map(() => null) : [];
    const before = s.periods.slice(0, -1).map(() => null);
    const last = s.values[s.values.length - 1];
    const series = [{ type: "line", name: labels.observed, data: s.values.concat(pad), symbolSize: 4 }];
    const markLines = [];
    const markAreas = [];
    s.limits.forEach(l => {
      const color = l.level === "red" ? "#c0392b" : "#e1a500";
      if (l.value !== undefined) markLines.push({ yAxis: l.value, name: l.name, lineStyle: { color } });
      else markAreas.push([{ yAxis: l.low, name: l.name, itemStyle: { color: "rgba(46,139,87,0.08)" } }, { yAxis: l.high }]);
    });
    series[0].markLine = { symbol: "none", data: markLines, label: { formatter: p => p.name } };
    series[0].markArea = { data: markAreas };
    if (s.forecast) {
      series.push({ type: "line", name: labels.forecast, lineStyle: { type: "dashed" },
                    data: before.concat([last], s.forecast.value) });
      // The interval as a band: the lower bound, then the width stacked on it.
      series.push({ type: "line", name: labels.interval, stack: "interval", symbol: "none",
                    lineStyle: { opacity: 0 }, data: before.concat([last], s.forecast.lower) });
      series.push({ type: "line", name: labels.interval, stack: "interval", symbol: "none",
                    lineStyle: { opacity: 0 }, areaStyle: { color: "rgba(52,101,164,0.2)" },
                    data: before.concat([0], s.forecast.upper.map((u, i) => u - s.forecast.lower[i])) });
    }
    charts.draw("monitoring-series", {
      tooltip: { trigger: "axis" }, legend: { bottom: 0 },
      xAxis: { type: "category", data: periods },
      yAxis: { type: "value", name: s.unit, scale: true },
      series,
    });
  }
})();
