// Draws a place and its children from the boundaries GeoJSON endpoint with ECharts.
(function () {
  "use strict";
  const element = document.getElementById("place-map");
  if (!element || typeof echarts === "undefined") {
    return;
  }
  fetch(element.dataset.geojson, { headers: { Accept: "application/json" }, credentials: "same-origin" })
    .then(function (response) {
      if (!response.ok) {
        throw new Error("boundaries: HTTP " + response.status);
      }
      return response.json();
    })
    .then(function (collection) {
      // ECharts names regions by properties.name.
      const mapName = "place-" + element.dataset.name;
      echarts.registerMap(mapName, collection);
      const chart = echarts.init(element);
      // The place itself is the unlabelled background; its children carry the labels.
      const data = collection.features.map(function (feature) {
        const isPlace = feature.properties.code === element.dataset.name;
        const item = { name: feature.properties.name, value: feature.properties.area_km2 };
        if (isPlace && collection.features.length > 1) {
          item.label = { show: false };
          item.itemStyle = { areaColor: "#eef2f8" };
        }
        return item;
      });
      chart.setOption({
        tooltip: { trigger: "item", formatter: "{b}" },
        series: [{
          type: "map", map: mapName, roam: true, data: data,
          label: { show: collection.features.length <= 20, fontSize: 11 },
          itemStyle: { areaColor: "#dfe8f6", borderColor: "#0b3d91" },
          emphasis: { itemStyle: { areaColor: "#f6d365" } },
        }],
      });
      element.dataset.ready = "true";
      window.addEventListener("resize", function () { chart.resize(); });
    })
    .catch(function (error) {
      element.textContent = error.message;
    });
})();
