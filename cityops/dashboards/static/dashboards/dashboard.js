/* Operations dashboard: ECharts charts and a Leaflet map (no tiles: the closed network has none).
   Every mark links to the drill-down list of the cases behind it. */
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("dashboard-data").textContent);
  var go = function (url) { if (url) { window.location.href = url; } };

  function chart(id, option, onClick) {
    var el = document.getElementById(id);
    if (!el || !window.echarts) { return null; }
    var c = window.echarts.init(el, null, { renderer: "canvas" });
    c.setOption(option);
    if (onClick) { c.on("click", onClick); }
    window.addEventListener("resize", function () { c.resize(); });
    return c;
  }

  var keys = Object.keys(data.trend_labels);
  chart("chart-trend", {
    animation: false,
    tooltip: { trigger: "axis" },
    legend: { data: keys.map(function (k) { return data.trend_labels[k]; }) },
    grid: { left: 36, right: 12, top: 36, bottom: 24 },
    xAxis: { type: "category", data: data.trend.days.map(function (d) { return d.slice(5); }) },
    yAxis: { type: "value", minInterval: 1 },
    series: keys.map(function (k) {
      return { name: data.trend_labels[k], type: "line", data: data.trend[k], key: k };
    })
  }, function (p) {
    var k = keys[p.seriesIndex], d = data.trend.days[p.dataIndex];
    go(data.trend_url + encodeURIComponent(k) + "&from=" + d + "&to=" + d);
  });

  var types = data.types.slice().reverse();
  chart("chart-types", {
    animation: false,
    tooltip: {},
    grid: { left: 150, right: 16, top: 8, bottom: 20 },
    xAxis: { type: "value", minInterval: 1 },
    yAxis: { type: "category", data: types.map(function (t) { return t.name; }), axisLabel: { width: 140, overflow: "truncate" } },
    series: [{ type: "bar", data: types.map(function (t) { return t.value; }), itemStyle: { color: "#0b5cad" } }]
  }, function (p) { go(types[p.dataIndex].url); });

  var ranking = data.ranking.filter(function (r) { return r.score !== null; }).reverse();
  if (ranking.length) {
    document.getElementById("chart-ranking").style.height = Math.max(120, ranking.length * 22 + 30) + "px";
    chart("chart-ranking", {
      animation: false,
      tooltip: {},
      grid: { left: 150, right: 16, top: 8, bottom: 20 },
      xAxis: { type: "value", min: 0, max: 100 },
      yAxis: { type: "category", data: ranking.map(function (r) { return r.name; }), axisLabel: { width: 140, overflow: "truncate" } },
      series: [{ type: "bar", data: ranking.map(function (r) { return r.score; }), itemStyle: { color: "#1d7a3e" } }]
    }, function (p) { go(ranking[p.dataIndex].url); });
  }

  // the map: county outlines shaded by the number of cases, hotspot cells as circles
  var mapEl = document.getElementById("map");
  if (mapEl && window.L) {
    var map = window.L.map(mapEl, { zoomControl: true, attributionControl: false }).setView([36.2, 113.1], 9);
    var max = 1;
    Object.keys(data.areas).forEach(function (c) { max = Math.max(max, data.areas[c].n); });
    fetch(data.geojson, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (geo) {
      var layer = window.L.geoJSON(geo, {
        style: function (f) {
          var a = data.areas[f.properties.code];
          var t = a ? a.n / max : 0;
          return { color: "#0b5cad", weight: 1, fillColor: "#b42318", fillOpacity: 0.08 + 0.6 * t };
        },
        onEachFeature: function (f, l) {
          var a = data.areas[f.properties.code];
          l.bindTooltip(f.properties.name + (a ? ": " + a.n : ""));
          if (a) { l.on("click", function () { go(a.url); }); }
        }
      }).addTo(map);
      if (data.hotspots.length) {
        var pts = data.hotspots.map(function (h) { return [h.lat, h.lon]; });
        map.fitBounds(window.L.latLngBounds(pts).pad(0.5));
      } else if (layer.getBounds().isValid()) {
        map.fitBounds(layer.getBounds());
      }
    }).catch(function () { /* the outlines are optional: hotspots still show */ });
    var top = data.hotspots.length ? data.hotspots[0].n : 1;
    data.hotspots.forEach(function (h) {
      window.L.circleMarker([h.lat, h.lon], {
        radius: 5 + 12 * h.n / top, color: "#b42318", weight: 1, fillOpacity: 0.55
      }).bindTooltip(h.grid + ": " + h.n).on("click", function () { go(h.url); }).addTo(map);
    });
  }
})();
