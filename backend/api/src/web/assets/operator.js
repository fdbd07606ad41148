// The operator console's only script: draws the ticket's map with vendored Leaflet, from
// the data-* attributes of #map (point, tile URL, contract zone). Everything else on the
// page works without it.
(function () {
  'use strict';
  function draw() {
    var el = document.getElementById('map');
    if (!el || !window.L) return;
    var lat = parseFloat(el.dataset.lat);
    var lon = parseFloat(el.dataset.lon);
    if (!isFinite(lat) || !isFinite(lon)) return;
    var map = L.map(el, { scrollWheelZoom: false, zoomControl: false }).setView([lat, lon], 16);
    // The zoom buttons speak the page's language.
    L.control.zoom({
      zoomInTitle: el.dataset.zoomIn || 'Zoom in',
      zoomOutTitle: el.dataset.zoomOut || 'Zoom out',
    }).addTo(map);
    map.attributionControl.setPrefix(false);
    L.tileLayer(el.dataset.tiles, {
      maxZoom: 19,
      attribution: '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a>',
    }).addTo(map);
    var rings = [];
    try {
      rings = JSON.parse(el.dataset.zone || '[]');
    } catch (e) {
      rings = [];
    }
    if (rings.length) {
      L.polygon(rings, { color: '#1a7f37', weight: 2, fillOpacity: 0.08, interactive: false }).addTo(map);
    }
    L.circleMarker([lat, lon], {
      radius: 9, color: '#ffffff', weight: 3, fillColor: '#b42318', fillOpacity: 1, interactive: false,
    }).addTo(map);
    el.classList.add('drawn');
  }
  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', draw);
  } else {
    draw();
  }
})();
