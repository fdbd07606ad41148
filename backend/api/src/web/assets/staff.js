// The staff back office's one script: the print button of receipts and the notice map
// (vendored Leaflet, GeoJSON layers only, no tiles). Every form works without it: the
// keyboard alternative of the map is the district list.
(function () {
  "use strict";

  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });

  // A report's place on the configured tiles (the report page).
  var spot = document.getElementById("report-map");
  if (spot && typeof L !== "undefined") {
    var lat = parseFloat(spot.getAttribute("data-lat"));
    var lon = parseFloat(spot.getAttribute("data-lon"));
    if (isFinite(lat) && isFinite(lon)) {
      var where = L.map(spot, { scrollWheelZoom: false, zoomControl: false }).setView([lat, lon], 16);
      L.control.zoom({
        zoomInTitle: spot.getAttribute("data-zoom-in") || "Zoom in",
        zoomOutTitle: spot.getAttribute("data-zoom-out") || "Zoom out"
      }).addTo(where);
      where.attributionControl.setPrefix(false);
      L.tileLayer(spot.getAttribute("data-tiles"), {
        maxZoom: 19,
        attribution: "&copy; <a href=\"https://www.openstreetmap.org/copyright\">OpenStreetMap</a>"
      }).addTo(where);
      L.circleMarker([lat, lon], {
        radius: 9, color: "#ffffff", weight: 3, fillColor: "#b42318", fillOpacity: 1, interactive: false
      }).addTo(where);
      spot.classList.add("drawn");
    }
  }

  var box = document.getElementById("notice-map");
  var dataNode = document.getElementById("page-data");
  if (!box || !dataNode || typeof L === "undefined") { return; }
  var data = JSON.parse(dataNode.textContent);
  var field = document.getElementById("area");
  var clear = document.getElementById("clear-area");
  var status = document.getElementById("area-status");

  var map = L.map(box, { attributionControl: false, zoomSnap: 0.25 });
  var boundary = data.boundary ? L.geoJSON(data.boundary, {
    style: { color: "#4d5761", weight: 2, fill: false }
  }).addTo(map) : null;
  (data.districts || []).forEach(function (d) {
    L.geoJSON(d.geometry, {
      style: { color: "#0b5cad", weight: 1, fillOpacity: 0.04 }
    }).bindTooltip(d.name).addTo(map);
  });
  (data.notices || []).forEach(function (n) {
    if (n.geometry && n.geometry.type === "Point") {
      var c = n.geometry.coordinates;
      L.circle([c[1], c[0]], { radius: n.radius_m || 100, color: "#b42318", weight: 2 }).addTo(map);
    } else if (n.geometry) {
      L.geoJSON(n.geometry, { style: { color: "#b42318", weight: 2, fillOpacity: 0.15 } }).addTo(map);
    }
  });
  if (boundary) { map.fitBounds(boundary.getBounds(), { padding: [10, 10] }); }
  else { map.setView([35.5785, -5.3684], 12); }

  var points = [];
  var shape = L.polygon([], { color: "#b42318", weight: 3, fillOpacity: 0.2 }).addTo(map);
  var markers = L.layerGroup().addTo(map);

  function update() {
    shape.setLatLngs(points);
    markers.clearLayers();
    points.forEach(function (p) {
      L.circleMarker(p, { radius: 5, color: "#b42318", fillOpacity: 1 }).addTo(markers);
    });
    if (points.length >= 3) {
      var ring = points.map(function (p) {
        return [Math.round(p.lng * 1e6) / 1e6, Math.round(p.lat * 1e6) / 1e6];
      });
      ring.push(ring[0]);
      field.value = JSON.stringify({ type: "Polygon", coordinates: [ring] });
    } else {
      field.value = "";
    }
    clear.hidden = points.length === 0;
    status.textContent = points.length ? data.labels.points + " " + points.length : "";
    box.setAttribute("data-points", String(points.length));
  }

  // A drawn area sent back after a refused form is drawn again.
  if (field.value) {
    try {
      var previous = JSON.parse(field.value);
      if (previous.type === "Polygon") {
        points = previous.coordinates[0].slice(0, -1).map(function (c) { return L.latLng(c[1], c[0]); });
      }
    } catch (e) { points = []; }
  }
  map.on("click", function (e) { points.push(e.latlng); update(); });
  clear.addEventListener("click", function () { points = []; update(); });
  update();
})();
