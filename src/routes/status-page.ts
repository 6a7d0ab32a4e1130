/**
 * The status page's own files, served by the service (no CDN: it must draw with no internet). The page holds no
 * data: its script reads GET /status.json every 10 s and writes every figure as text (colour only beside words),
 * and draws the plots with uPlot, served from the package the service depends on. The script sets text, never HTML,
 * so nothing a feed or an alert carried can run in the page. The helmet policy (script-src 'self') allows it as is.
 */

/** How often the page reads /status.json again. */
const REFRESH_MS = 10_000

/** Where the token the page was given lives: this tab only (sessionStorage), never a cookie. */
const TOKEN_KEY = 'tc-enrich-status-token'

export const STATUS_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Status: ThreatConnect enrichment service</title>
<link rel="stylesheet" href="/status/assets/uPlot.min.css">
<link rel="stylesheet" href="/status/assets/status.css">
<script src="/status/assets/uPlot.iife.min.js" defer></script>
<script src="/status/assets/status.js" defer></script>
</head>
<body>
<header>
  <h1>Service status</h1>
  <p id="instance">Loading…</p>
  <p class="muted">Updated <time id="updated">never</time>; the page reads the status again every ${REFRESH_MS / 1000} s.
    <span id="load-error" role="alert"></span></p>
</header>
<main>
  <section aria-labelledby="h-warnings" id="warnings-section" hidden>
    <h2 id="h-warnings">Warnings</h2>
    <ul id="warnings"></ul>
  </section>
  <section aria-labelledby="h-sources">
    <h2 id="h-sources">Sources</h2>
    <div class="scroll"><table id="sources">
      <caption>Each source: its state, its quota now (per API key fingerprint), and its lookups in the last hour.</caption>
      <thead><tr><th scope="col">Source</th><th scope="col">State</th><th scope="col">Quota used / left</th>
        <th scope="col">Lookups (ok / failed / skipped)</th><th scope="col">p50</th><th scope="col">p95</th></tr></thead>
      <tbody></tbody>
    </table></div>
  </section>
  <section aria-labelledby="h-runs">
    <h2 id="h-runs">Runs in the last hour</h2>
    <dl class="figures" id="runs-figures"></dl>
    <div class="plots">
      <figure><div class="plot" id="plot-runs"></div>
        <figcaption>Runs and failed runs per minute</figcaption></figure>
      <figure><div class="plot" id="plot-latency"></div>
        <figcaption>Run latency per minute, p50 and p95 (ms)</figcaption></figure>
    </div>
  </section>
  <section aria-labelledby="h-feeds">
    <h2 id="h-feeds">Feeds</h2>
    <p id="feeds-schedule"></p>
    <div id="feeds"></div>
  </section>
  <section aria-labelledby="h-alerts">
    <h2 id="h-alerts">Alert outbox</h2>
    <p id="alerts-state"></p>
    <dl class="figures" id="alerts-figures"></dl>
    <h3>Last errors</h3>
    <div class="scroll"><table id="alert-errors">
      <thead><tr><th scope="col">Destination</th><th scope="col">Rule</th><th scope="col">State</th>
        <th scope="col">Attempts</th><th scope="col">Error</th></tr></thead>
      <tbody></tbody>
    </table></div>
    <h3>Silences</h3>
    <div class="scroll"><table id="silences">
      <thead><tr><th scope="col">Rule</th><th scope="col">Indicator</th><th scope="col">Ends</th>
        <th scope="col">Why</th></tr></thead>
      <tbody></tbody>
    </table></div>
  </section>
  <section aria-labelledby="h-store">
    <h2 id="h-store">Shared store</h2>
    <p id="store"></p>
  </section>
</main>
<dialog id="token-dialog" aria-labelledby="token-title">
  <form id="token-form" method="dialog">
    <h2 id="token-title">Status token</h2>
    <p>This service shows its status off this machine only with its STATUS_TOKEN. It is kept for this tab only.</p>
    <label for="token-input">Token</label>
    <input id="token-input" type="password" autocomplete="off" required minlength="8">
    <button type="submit">Show the status</button>
  </form>
</dialog>
</body>
</html>
`

export const STATUS_CSS = `
:root { --ok: #1a7f37; --warn: #9a6700; --bad: #cf222e; --off: #57606a; --ink: #1f2328; --line: #d0d7de;
  font: 15px/1.45 system-ui, sans-serif; color: var(--ink); }
body { margin: 0 auto; padding: 1rem; max-width: 1240px; }
h1 { margin: 0 0 .25rem; font-size: 1.5rem; } h2 { margin: 1.5rem 0 .5rem; font-size: 1.2rem; }
h3 { margin: 1rem 0 .4rem; font-size: 1rem; }
.muted { color: var(--off); margin: 0; }
#load-error { color: var(--bad); font-weight: 600; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: .92rem; }
caption { text-align: left; color: var(--off); padding-bottom: .3rem; }
th, td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
td.num { font-variant-numeric: tabular-nums; white-space: nowrap; }
.state { font-weight: 600; white-space: nowrap; }
.state::before { content: ''; display: inline-block; width: .7em; height: .7em; border-radius: 50%;
  margin-right: .35em; background: currentColor; }
.state-ok, .state-ready, .state-sent { color: var(--ok); }
.state-degraded, .state-paused, .state-partial, .state-failed-retry { color: var(--warn); }
.state-circuit_open, .state-failed, .state-dead { color: var(--bad); }
.state-not_configured, .state-off, .state-none { color: var(--off); }
.figures { display: flex; flex-wrap: wrap; gap: .5rem 1.5rem; margin: 0; }
.figures div { min-width: 7rem; } .figures dt { color: var(--off); font-size: .85rem; }
.figures dd { margin: 0; font-size: 1.25rem; font-variant-numeric: tabular-nums; }
.plots { display: grid; grid-template-columns: repeat(auto-fit, minmax(320px, 1fr)); gap: 1rem; }
figure { margin: 0; min-width: 0; } figcaption { color: var(--off); font-size: .85rem; }
.plot { min-height: 180px; }
#warnings li { color: var(--warn); font-weight: 600; }
.feed { border-top: 1px solid var(--line); margin-top: 1rem; }
dialog { max-width: 26rem; } dialog input { width: 100%; margin: .3rem 0 .8rem; padding: .4rem; }
@media (max-width: 600px) { body { padding: .6rem; } :root { font-size: 14px; } th, td { padding: .3rem; } }
`

/** Plain ES2019, no build step: it runs as served. */
export const STATUS_JS = `'use strict';
(function () {
  var TOKEN_KEY = ${JSON.stringify(TOKEN_KEY)};
  var REFRESH_MS = ${REFRESH_MS};
  var plots = {};
  var timer;

  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  }
  function state(text) { return el('span', String(text).replace(/_/g, ' '), 'state state-' + text); }
  function ms(v) { return v === null || v === undefined ? '–' : v + ' ms'; }
  function when(iso) { return iso ? new Date(iso).toLocaleString() : '–'; }
  function row(tbody, cells, field) {
    var tr = el('tr');
    if (field) tr.dataset.row = field;
    cells.forEach(function (c) {
      var td = el('td');
      if (c && c.nodeType) td.appendChild(c); else td.textContent = c === undefined ? '' : String(c);
      if (typeof c === 'number' || /^[0-9]/.test(String(c))) td.className = 'num';
      tr.appendChild(td);
    });
    tbody.appendChild(tr);
  }
  function fill(id, rows, empty, columns) {
    var tbody = document.querySelector('#' + id + ' tbody');
    tbody.replaceChildren();
    if (rows.length === 0) {
      var td = el('td', empty); td.colSpan = columns;
      var tr = el('tr'); tr.appendChild(td); tbody.appendChild(tr);
    }
    return tbody;
  }
  function figures(id, pairs) {
    var dl = document.getElementById(id);
    dl.replaceChildren();
    pairs.forEach(function (p) {
      var d = el('div'); d.appendChild(el('dt', p[0]));
      var dd = el('dd', p[1]); dd.dataset.field = p[2]; d.appendChild(dd); dl.appendChild(d);
    });
  }

  function plot(id, title, series, data) {
    var box = document.getElementById(id);
    var width = Math.max(260, box.clientWidth);
    var existing = plots[id];
    if (existing && existing.series.length === series.length + 1) {
      existing.setSize({ width: width, height: 180 });
      existing.setData(data);
      return;
    }
    if (existing) existing.destroy();
    box.replaceChildren();
    plots[id] = new uPlot({
      title: title, width: width, height: 180,
      scales: { x: { time: true } },
      series: [{}].concat(series.map(function (s) {
        return { label: s[0], stroke: s[1], width: 2, spanGaps: false, points: { show: true, size: 7, fill: s[1] } };
      })),
      axes: [{}, { size: 50 }]
    }, data, box);
  }

  function sourcesTable(sources) {
    var tbody = fill('sources', sources, 'No sources.', 6);
    sources.forEach(function (s) {
      var st = el('div'); st.appendChild(state(s.state));
      st.appendChild(el('div', s.detail, 'muted'));
      var quota = el('div');
      if (s.quota.length === 0) quota.textContent = s.quotaError || 'no quota';
      s.quota.forEach(function (q) {
        var line = el('div');
        line.dataset.quota = s.id + ':' + q.key;
        line.textContent = q.key + ': ' + q.windows.map(function (w) {
          return w.used + ' used / ' + w.left + ' left of ' + w.limit;
        }).join('; ') + (q.pausedUntil ? ' (paused by a 429 until ' + when(q.pausedUntil) + ')' : '');
        quota.appendChild(line);
      });
      row(tbody, [el('span', s.title + ' (' + s.id + ')'), st, quota,
        s.lookups + ' (' + s.ok + ' / ' + s.failed + ' / ' + s.skipped + ')', ms(s.p50Ms), ms(s.p95Ms)], s.id);
    });
  }

  function runsSection(runs) {
    var verdicts = Object.keys(runs.byVerdict).sort();
    figures('runs-figures', [['Runs', runs.runs, 'runs.runs'], ['Failed runs', runs.failedRuns, 'runs.failedRuns'],
      ['Indicators', runs.indicators, 'runs.indicators'], ['p50', ms(runs.p50Ms), 'runs.p50Ms'],
      ['p95', ms(runs.p95Ms), 'runs.p95Ms']].concat(verdicts.map(function (v) {
      return [v.charAt(0).toUpperCase() + v.slice(1), runs.byVerdict[v], 'runs.byVerdict.' + v];
    })));
    var xs = runs.perMinute.map(function (m) { return Date.parse(m.at) / 1000; });
    plot('plot-runs', 'Runs per minute', [['runs', '#0969da'], ['failed', '#cf222e']],
      [xs, runs.perMinute.map(function (m) { return m.runs; }),
        runs.perMinute.map(function (m) { return m.failedRuns; })]);
    plot('plot-latency', 'Latency (ms)', [['p50', '#1a7f37'], ['p95', '#9a6700']],
      [xs, runs.perMinute.map(function (m) { return m.p50Ms; }),
        runs.perMinute.map(function (m) { return m.p95Ms; })]);
  }

  function feedsSection(feeds) {
    var box = document.getElementById('feeds');
    document.getElementById('feeds-schedule').textContent = feeds.enabled
      ? 'Schedule ' + feeds.schedule + '; next run ' + when(feeds.nextRun) + '.'
      : 'The feed schedule is off on this instance (FEED_SCHEDULE unset).';
    var seen = {};
    feeds.feeds.forEach(function (f, i) {
      var id = 'feed-' + i;
      seen[id] = true;
      var part = document.getElementById(id);
      if (!part) {
        part = el('section', null, 'feed'); part.id = id;
        part.setAttribute('aria-labelledby', id + '-h');
        var h = el('h3', f.feed); h.id = id + '-h'; part.appendChild(h);
        part.appendChild(el('p')); part.appendChild(el('dl', null, 'figures'));
        part.querySelector('dl').id = id + '-figures';
        var fig = el('figure'); var p = el('div', null, 'plot'); p.id = id + '-plot';
        fig.appendChild(p); fig.appendChild(el('figcaption', 'Added, updated, removed and invalid per run'));
        part.appendChild(fig); box.appendChild(part);
      }
      var last = f.runs[f.runs.length - 1] || {};
      var p0 = part.querySelector('p'); p0.replaceChildren(el('span', 'Last run: '), state(f.lastStatus),
        el('span', ' at ' + when(last.at) + (f.held > 0 ? '; ' + f.held + ' removals held back: ' +
          f.heldWhy.join(' ') : '; no removals held back.')));
      p0.dataset.feed = f.feed;
      figures(id + '-figures', [['Added', last.added, 'feed.' + f.feed + '.added'],
        ['Updated', last.updated, 'feed.' + f.feed + '.updated'],
        ['Removed', last.removed, 'feed.' + f.feed + '.removed'],
        ['Invalid', last.invalid, 'feed.' + f.feed + '.invalid'],
        ['Held', f.held, 'feed.' + f.feed + '.held']]);
      var xs = f.runs.map(function (r) { return Date.parse(r.at) / 1000; });
      plot(id + '-plot', f.feed, [['added', '#1a7f37'], ['updated', '#0969da'], ['removed', '#cf222e'],
        ['invalid', '#9a6700']], [xs].concat(['added', 'updated', 'removed', 'invalid'].map(function (k) {
        return f.runs.map(function (r) { return r[k]; });
      })));
    });
    Array.prototype.slice.call(box.children).forEach(function (c) { if (!seen[c.id]) c.remove(); });
  }

  function alertsSection(a) {
    document.getElementById('alerts-state').textContent = a.enabled
      ? (a.error || a.warning || 'The outbox is readable.')
      : 'The alert service is off on this instance (ALERTS_CONFIG unset).';
    var c = a.counts;
    figures('alerts-figures', ['pending', 'sending', 'failed', 'dead', 'sent', 'silenced'].map(function (k) {
      return [k.charAt(0).toUpperCase() + k.slice(1), c[k] === undefined ? '–' : c[k], 'alerts.counts.' + k];
    }));
    var errors = fill('alert-errors', a.lastErrors, 'No failed or dead message among the newest.', 5);
    a.lastErrors.forEach(function (e) {
      row(errors, [e.destination, e.rule || '–', state(e.state), e.attempts, e.lastError]);
    });
    var silences = fill('silences', a.silences, 'No silence in force.', 4);
    a.silences.forEach(function (s) {
      row(silences, [s.rule || 'any rule', s.indicator || 'any indicator', when(s.endsAt), s.comment]);
    });
  }

  function render(s) {
    document.getElementById('instance').textContent = s.instance.app + ' ' + s.instance.version +
      ', up ' + Math.round(s.instance.uptimeSeconds / 60) + ' min';
    var updated = document.getElementById('updated');
    updated.textContent = when(s.generatedAt); updated.dateTime = s.generatedAt;
    var ws = document.getElementById('warnings');
    ws.replaceChildren();
    s.warnings.forEach(function (w) { ws.appendChild(el('li', w)); });
    document.getElementById('warnings-section').hidden = s.warnings.length === 0;
    sourcesTable(s.sources);
    runsSection(s.runs);
    feedsSection(s.feeds);
    alertsSection(s.alerts);
    var store = document.getElementById('store');
    store.replaceChildren(state(s.sharedStore.status), el('span', ' ' + ({
      off: 'no REDIS_URL: quotas, circuits and locks are kept in this process',
      ready: 'shared through Redis with the other replicas',
      degraded: 'Redis is unreachable; in-process fallbacks in use'
    })[s.sharedStore.status] + (s.sharedStore.reason ? ' (' + s.sharedStore.reason + ')' : '')));
    document.body.dataset.generatedAt = s.generatedAt;
  }

  function askToken(why) {
    var dialog = document.getElementById('token-dialog');
    document.getElementById('load-error').textContent = why;
    if (!dialog.open) dialog.showModal();
  }

  function load() {
    clearTimeout(timer);
    var token = sessionStorage.getItem(TOKEN_KEY);
    var headers = token ? { authorization: 'Bearer ' + token } : {};
    fetch('/status.json', { headers: headers, cache: 'no-store' }).then(function (res) {
      if (res.status === 401 || res.status === 403) {
        sessionStorage.removeItem(TOKEN_KEY);
        askToken(token ? 'That token was refused.' : 'A token is needed to see the status from here.');
        return undefined;
      }
      if (!res.ok) throw new Error('GET /status.json answered ' + res.status);
      return res.json().then(function (s) {
        document.getElementById('load-error').textContent = '';
        render(s);
      });
    }).catch(function (err) {
      document.getElementById('load-error').textContent = 'The status could not be read: ' + err.message;
    }).then(function () { timer = setTimeout(load, REFRESH_MS); });
  }

  document.getElementById('token-form').addEventListener('submit', function () {
    sessionStorage.setItem(TOKEN_KEY, document.getElementById('token-input').value);
    document.getElementById('token-input').value = '';
    load();
  });
  var resizing;
  window.addEventListener('resize', function () { clearTimeout(resizing); resizing = setTimeout(load, 200); });
  load();
})();
`
