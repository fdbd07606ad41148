// Charts (uPlot) and maps (Leaflet, GeoJSON layers only: no tiles) of Balagh's public and
// staff pages. The figures come from the page itself (<script type="application/json"
// id="page-data">), the same ones its tables show; this file is served from /assets so a
// strict Content-Security-Policy (script-src 'self', no inline script, no eval) holds.
(function () {
  'use strict';

  var COLOURS = ['#0b5cad', '#b42318', '#1a7f37', '#8250df', '#9a6700', '#57606a', '#bf3989', '#0a7480'];
  var SHADES = ['#fde0c5', '#f9a66c', '#e4572e', '#a4161a'];

  function readData() {
    var el = document.getElementById('page-data');
    if (!el) return null;
    try {
      return JSON.parse(el.textContent);
    } catch (e) {
      return null;
    }
  }

  function widthOf(box) {
    return Math.max(280, Math.floor(box.clientWidth || box.getBoundingClientRect().width || 600));
  }

  // One chart: categories on x (months, weeks, services, ages), one series per line or bar set.
  function drawChart(box, spec) {
    if (!window.uPlot || !spec || !spec.labels || !spec.labels.length) return null;
    var labels = spec.labels;
    // Time runs left to right in every language: in a right-to-left page the canvas would
    // otherwise reorder "2026-W37" into "W37-2026" and mirror the axis.
    box.setAttribute('dir', 'ltr');
    // Room for the longest label (about 7 px a character at the axis font), so that
    // neighbouring labels never overlap: uPlot skips ticks to keep this space.
    var longest = labels.reduce(function (m, l) { return Math.max(m, String(l).length); }, 0);
    var xs = labels.map(function (_, i) { return i; });
    var bars = spec.kind === 'bars';
    var space = bars ? 1 : Math.max(40, longest * 7 + 16);
    var n = spec.series.length;
    var series = [{
      label: spec.x_label || '',
      value: function (u, v) { return v == null || labels[v] === undefined ? '–' : labels[v]; },
    }];
    spec.series.forEach(function (s, i) {
      var colour = COLOURS[i % COLOURS.length];
      var one = {
        label: s.label,
        stroke: colour,
        width: 2,
        spanGaps: false,
        value: function (u, v) { return v == null ? '–' : (Math.round(v * 10) / 10) + (spec.unit || ''); },
      };
      if (bars) {
        one.fill = colour;
        var align = n === 1 ? 0 : (i === 0 ? -1 : 1);
        one.paths = window.uPlot.paths.bars({ size: [n === 1 ? 0.6 : 0.35, 80], align: align });
        one.points = { show: false };
      } else {
        one.points = { show: true, size: 6, fill: colour };
      }
      series.push(one);
    });
    var data = [xs].concat(spec.series.map(function (s) { return s.values; }));
    var opts = {
      width: widthOf(box),
      height: spec.height || 260,
      series: series,
      scales: {
        x: { time: false, range: function () { return [-0.6, labels.length - 0.4]; } },
        y: spec.unit === ' %' ? { range: [0, 100] } : { range: function (u, min, max) { return [0, Math.max(1, max) * 1.1]; } },
      },
      axes: [
        {
          space: space,
          incrs: [1, 2, 3, 4, 6, 12, 24, 52],
          values: function (u, splits) {
            // Categories (bars) keep every label, shortened to the width of their slot (the
            // legend shows the whole name); points in time skip labels instead (space).
            var slot = u.bbox.width / (window.devicePixelRatio || 1) / labels.length;
            var fits = Math.max(3, Math.floor((slot - 8) / 7));
            return splits.map(function (i) {
              if (!Number.isInteger(i) || labels[i] === undefined) return '';
              var l = String(labels[i]);
              return bars && l.length > fits ? l.slice(0, fits - 1) + '…' : l;
            });
          },
        },
        { size: 50 },
      ],
      cursor: { points: { show: !bars } },
      legend: { show: true },
    };
    var plot = new window.uPlot(opts, data, box);
    return plot;
  }

  function shade(count, max) {
    if (max <= 0) return SHADES[0];
    var r = count / max;
    return SHADES[r > 0.75 ? 3 : r > 0.5 ? 2 : r > 0.25 ? 1 : 0];
  }

  function legend(list, max, words) {
    if (!list) return;
    list.textContent = '';
    if (max <= 0) return;
    var edges = [0, 0.25, 0.5, 0.75, 1].map(function (r) { return Math.round(r * max); });
    for (var i = 0; i < 4; i++) {
      var lo = i === 0 ? 1 : edges[i] + 1;
      var hi = edges[i + 1];
      if (hi < lo) continue;
      var li = document.createElement('li');
      var sw = document.createElement('span');
      sw.className = 'swatch s' + i;
      sw.setAttribute('aria-hidden', 'true');
      li.appendChild(sw);
      li.appendChild(document.createTextNode(lo === hi ? String(lo) : lo + '–' + hi));
      list.appendChild(li);
    }
    if (words && words.points) {
      var p = document.createElement('li');
      var dot = document.createElement('span');
      dot.className = 'swatch dot';
      dot.setAttribute('aria-hidden', 'true');
      p.appendChild(dot);
      p.appendChild(document.createTextNode(words.points));
      list.appendChild(p);
    }
  }

  function drawMap(box, spec) {
    if (!window.L || !spec) return null;
    var L = window.L;
    var map = L.map(box, {
      attributionControl: false,
      scrollWheelZoom: false,
      zoomSnap: 0.25,
      keyboard: true,
    });
    var boundary = L.geoJSON(spec.boundary, {
      interactive: false,
      style: { color: '#1b1f24', weight: 2, fill: true, fillColor: '#ffffff', fillOpacity: 0.6 },
    }).addTo(map);
    var bounds = boundary.getBounds();
    if (bounds.isValid()) map.fitBounds(bounds, { padding: [8, 8] });
    else map.setView([35.5785, -5.3684], 12);

    var cells = L.layerGroup().addTo(map);
    var counter = spec.counter ? document.getElementById(spec.counter) : null;
    var legendList = spec.legend ? document.getElementById(spec.legend) : null;

    function render(service) {
      cells.clearLayers();
      var byCell = {};
      (spec.cells || []).forEach(function (c) {
        if (service && c.service !== service) return;
        var cell = byCell[c.id] || (byCell[c.id] = { geometry: c.geometry, count: 0 });
        cell.count += c.count;
      });
      var ids = Object.keys(byCell);
      var max = 0;
      ids.forEach(function (id) { max = Math.max(max, byCell[id].count); });
      ids.forEach(function (id) {
        var c = byCell[id];
        L.geoJSON(c.geometry, {
          style: { color: '#6b2b06', weight: 1, fillColor: shade(c.count, max), fillOpacity: 0.8 },
        }).bindTooltip(String(c.count)).addTo(cells);
      });
      if (counter) counter.textContent = String(ids.length);
      legend(legendList, max, spec.words);
    }
    render('');

    (spec.points || []).forEach(function (p) {
      L.circleMarker([p[0], p[1]], {
        radius: 4, color: '#ffffff', weight: 1, fillColor: '#0b5cad', fillOpacity: 0.9,
      }).addTo(map);
    });

    if (spec.filter) {
      var select = document.getElementById(spec.filter);
      if (select) select.addEventListener('change', function () { render(select.value); });
    }
    return map;
  }

  function start() {
    var data = readData();
    if (!data) return;
    var plots = [];
    var boxes = document.querySelectorAll('[data-chart]');
    Array.prototype.forEach.call(boxes, function (box) {
      var spec = data.charts && data.charts[box.getAttribute('data-chart')];
      var plot = drawChart(box, spec);
      if (plot) plots.push({ plot: plot, box: box });
    });
    var maps = document.querySelectorAll('[data-map]');
    Array.prototype.forEach.call(maps, function (box) {
      drawMap(box, data.maps && data.maps[box.getAttribute('data-map')]);
    });
    var pending = null;
    window.addEventListener('resize', function () {
      if (pending) window.clearTimeout(pending);
      pending = window.setTimeout(function () {
        plots.forEach(function (p) { p.plot.setSize({ width: widthOf(p.box), height: p.plot.height }); });
      }, 150);
    });
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
