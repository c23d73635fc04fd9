// Status page of an Akka.WriteBehind node: polls /stats and draws its history on <canvas>. No dependencies.
// The numbers shown are also set as data attributes (data-latest, data-max, data-total, data-points on each chart;
// data-polls on <body>) so that tests and scripts can read them.
(function () {
  'use strict';

  var POLL_MS = 1000;
  var polls = 0;

  function $(id) { return document.getElementById(id); }

  function fmt(value, digits) {
    if (value === null || value === undefined) return '–';
    if (Math.abs(value) >= 1e6) return (value / 1e6).toFixed(2) + 'M';
    if (Math.abs(value) >= 1e4) return (value / 1e3).toFixed(1) + 'k';
    return Number(value).toFixed(digits === undefined ? (Number.isInteger(value) ? 0 : 1) : digits);
  }

  function duration(seconds) {
    var s = Math.floor(seconds), d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600), m = Math.floor(s % 3600 / 60);
    return (d ? d + 'd ' : '') + (d || h ? h + 'h ' : '') + (d || h || m ? m + 'm ' : '') + (s % 60) + 's';
  }

  function text(id, value) { var el = $(id); if (el) el.textContent = value; }

  function drawChart(figure, history) {
    var key = figure.getAttribute('data-series');
    var canvas = figure.querySelector('canvas');
    var points = history.map(function (h) { return { t: h.t, v: h[key] }; }).filter(function (p) { return p.v !== null && p.v !== undefined; });
    var max = points.reduce(function (m, p) { return Math.max(m, p.v); }, 0);
    var latest = points.length ? points[points.length - 1].v : null;
    figure.setAttribute('data-points', String(points.length));
    figure.setAttribute('data-max', String(max));
    figure.setAttribute('data-latest', latest === null ? '' : String(latest));

    var ratio = window.devicePixelRatio || 1;
    var width = canvas.clientWidth || canvas.width, height = canvas.clientHeight || canvas.height;
    if (canvas.width !== Math.round(width * ratio) || canvas.height !== Math.round(height * ratio)) {
      canvas.width = Math.round(width * ratio);
      canvas.height = Math.round(height * ratio);
    }
    var g = canvas.getContext('2d');
    g.setTransform(ratio, 0, 0, ratio, 0, 0);
    g.clearRect(0, 0, width, height);

    var left = 44, right = 8, top = 8, bottom = 18;
    var plotW = width - left - right, plotH = height - top - bottom;
    var scale = niceMax(max);
    var style = getComputedStyle(document.documentElement);

    // axes and grid: 0, half, top
    g.font = '11px system-ui, sans-serif';
    g.fillStyle = style.getPropertyValue('--muted') || '#6b7380';
    g.strokeStyle = '#eef0f2';
    g.lineWidth = 1;
    [0, 0.5, 1].forEach(function (f) {
      var y = top + plotH - f * plotH;
      g.beginPath(); g.moveTo(left, y + 0.5); g.lineTo(left + plotW, y + 0.5); g.stroke();
      g.textAlign = 'right'; g.textBaseline = 'middle';
      g.fillText(fmt(scale * f), left - 4, y);
    });
    var now = points.length ? points[points.length - 1].t : Date.now();
    var span = 120000; // the server keeps 120 samples, one a second
    g.textAlign = 'left'; g.textBaseline = 'top';
    g.fillText('-2 min', left, top + plotH + 3);
    g.textAlign = 'right';
    g.fillText('now', left + plotW, top + plotH + 3);
    if (points.length === 0) return;

    function x(t) { return left + plotW - Math.min(1, (now - t) / span) * plotW; }
    function y(v) { return top + plotH - (scale > 0 ? v / scale : 0) * plotH; }

    g.beginPath();
    points.forEach(function (p, i) { if (i === 0) g.moveTo(x(p.t), y(p.v)); else g.lineTo(x(p.t), y(p.v)); });
    g.strokeStyle = style.getPropertyValue('--line') || '#2f6fdb';
    g.lineWidth = 1.5;
    g.stroke();
    g.lineTo(x(points[points.length - 1].t), y(0));
    g.lineTo(x(points[0].t), y(0));
    g.closePath();
    g.fillStyle = style.getPropertyValue('--fill') || 'rgba(47,111,219,.12)';
    g.fill();
  }

  function niceMax(max) {
    if (!(max > 0)) return 1;
    var magnitude = Math.pow(10, Math.floor(Math.log10(max)));
    var steps = [1, 2, 2.5, 5, 10];
    for (var i = 0; i < steps.length; i++) if (steps[i] * magnitude >= max) return steps[i] * magnitude;
    return 10 * magnitude;
  }

  function cell(row, value, cls) {
    var td = document.createElement('td');
    td.textContent = value;
    if (cls) td.className = cls;
    row.appendChild(td);
  }

  function fillTable(id, rows, build) {
    var body = $(id).querySelector('tbody');
    body.textContent = '';
    rows.forEach(function (item) {
      var row = document.createElement('tr');
      build(row, item);
      body.appendChild(row);
    });
  }

  function render(stats) {
    var node = stats.node, s = stats.summary;
    text('node-address', node.address);
    text('node-status', node.status);
    $('node-status').className = 'badge ' + (node.status === 'up' ? 'up' : 'down');
    text('node-uptime', duration(node.uptimeSeconds));
    text('node-store', node.store);

    text('ingest-rate', fmt(s.ingestRate));
    text('ingest-total', fmt(s.ingestTotal));
    text('flush-rate', fmt(s.flushRate));
    text('flush-total', fmt(s.flushTotal));
    text('age', fmt(s.oldestUnflushedAgeSeconds, 2));
    text('pending-keys', fmt(s.pendingKeys));
    text('pending-increments', fmt(s.pendingIncrements));
    $('chart-ingest').setAttribute('data-total', s.ingestTotal === null ? '' : String(s.ingestTotal));
    $('chart-flush').setAttribute('data-total', s.flushTotal === null ? '' : String(s.flushTotal));
    text('rows-written', fmt(s.rowsWritten));
    text('flush-failures', fmt(s.flushFailures));
    text('refusals', fmt(s.refusals));
    text('persists', fmt(s.journalPersistsInFlight));
    text('batch-rate', fmt(s.batchRate));
    text('batch-ops-rate', fmt(s.batchOperationsRate));

    document.querySelectorAll('figure.chart').forEach(function (figure) { drawChart(figure, stats.history); });

    fillTable('members', stats.members, function (row, m) {
      row.setAttribute('data-status', m.status);
      cell(row, m.address + (m.self ? ' (this node)' : ''));
      cell(row, m.status);
      cell(row, m.reachable ? 'yes' : 'NO');
      cell(row, m.roles.join(', '));
    });
    $('members').setAttribute('data-count', String(stats.members.length));

    fillTable('errors', stats.recentErrors, function (row, e) {
      row.className = e.level;
      cell(row, new Date(e.time).toLocaleTimeString());
      cell(row, e.level);
      cell(row, e.source);
      cell(row, e.message);
      cell(row, String(e.count), 'num');
    });
    text('errors-total', stats.errorsTotal + ' since start');
    $('errors').setAttribute('data-count', String(stats.recentErrors.length));

    fillTable('instruments', stats.instruments, function (row, i) {
      cell(row, i.name);
      cell(row, i.kind);
      cell(row, i.unit || '');
      cell(row, i.kind === 'histogram' ? fmt(i.count) + ' values, mean ' + fmt(i.count ? i.value / i.count : 0, 4) : fmt(i.value), 'num');
      cell(row, i.rate === null || i.rate === undefined ? '' : fmt(i.rate), 'num');
    });
  }

  function poll() {
    fetch('/stats', { cache: 'no-store' })
      .then(function (response) {
        if (!response.ok) throw new Error('/stats answered HTTP ' + response.status);
        return response.json();
      })
      .then(function (stats) {
        render(stats);
        polls++;
        document.body.setAttribute('data-polls', String(polls));
        var state = $('poll-state');
        state.setAttribute('data-state', 'ok');
        state.textContent = 'live, updated ' + new Date().toLocaleTimeString();
      })
      .catch(function (error) {
        var state = $('poll-state');
        state.setAttribute('data-state', 'error');
        state.textContent = 'not updating: ' + error.message;
      })
      .then(function () { setTimeout(poll, POLL_MS); });
  }

  poll();
})();
