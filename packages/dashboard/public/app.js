// minimesh dashboard: renders the state the server streams at api/events (Server-Sent Events).
// Plain browser JavaScript and SVG, no build step. URLs are relative, so the page also works under
// a path prefix (a proxy in front of it).

const $ = (sel) => document.querySelector(sel)
const esc = (s) =>
  String(s).replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c],
  )
const fmtRate = (r) => (r >= 100 ? r.toFixed(0) : r >= 10 ? r.toFixed(1) : r.toFixed(2))
const fmtPct = (s) =>
  s === undefined || s === null ? '–' : `${(s * 100).toFixed(s < 1 && s > 0.99 ? 1 : 0)}%`
const fmtMs = (ms) =>
  ms === undefined || ms === null
    ? '–'
    : ms >= 1000
      ? `${(ms / 1000).toFixed(2)} s`
      : `${ms.toFixed(ms < 10 ? 1 : 0)} ms`
const LOCK = '\u{1F512}'

const NODE_W = 190
const NODE_H = 40
const COL_GAP = 340
const ROW_GAP = 70

/** Columns by longest path from a node without callers (cycles cut), rows by name. */
function layout(nodes, edges) {
  const depth = new Map(nodes.map((n) => [n.id, 0]))
  for (let i = 0; i < nodes.length; i++) {
    let changed = false
    for (const e of edges) {
      if (e.source === e.destination) continue
      const d = (depth.get(e.source) ?? 0) + 1
      if (d > (depth.get(e.destination) ?? 0)) {
        depth.set(e.destination, d)
        changed = true
      }
    }
    if (!changed) break
  }
  const cols = new Map()
  for (const n of nodes) {
    const d = depth.get(n.id) ?? 0
    if (!cols.has(d)) cols.set(d, [])
    cols.get(d).push(n)
  }
  const pos = new Map()
  let rows = 0
  for (const [d, list] of cols) {
    list.sort((a, b) => (a.id < b.id ? -1 : 1))
    for (const [i, n] of list.entries()) pos.set(n.id, { x: 20 + d * COL_GAP, y: 20 + i * ROW_GAP })
    rows = Math.max(rows, list.length)
  }
  return { pos, width: 40 + Math.max(...[...cols.keys(), 0]) * COL_GAP + NODE_W, height: 40 + rows * ROW_GAP }
}

function renderGraph(graph) {
  const svg = $('#graph')
  const { pos, width, height } = layout(graph.nodes, graph.edges)
  svg.setAttribute('viewBox', `0 0 ${Math.max(width, 600)} ${Math.max(height, 200)}`)
  svg.setAttribute('height', String(Math.max(height, 200)))
  const parts = [
    '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#7a8aa8"/></marker></defs>',
  ]
  for (const e of graph.edges) {
    const a = pos.get(e.source)
    const b = pos.get(e.destination)
    if (!a || !b) continue
    const x1 = a.x + NODE_W
    const y1 = a.y + NODE_H / 2
    const x2 = b.x
    const y2 = b.y + NODE_H / 2
    const mx = (x1 + x2) / 2
    const path =
      b.x > a.x
        ? `M ${x1} ${y1} C ${mx} ${y1}, ${mx} ${y2}, ${x2} ${y2}`
        : `M ${x1} ${y1} C ${x1 + 80} ${y1 - 60}, ${x2 - 80} ${y2 - 60}, ${x2} ${y2}`
    const lx = (x1 + x2) / 2
    const ly = (y1 + y2) / 2 - 4 + (b.x > a.x ? 0 : -45)
    const failing = e.successRate !== undefined && e.successRate < 0.95
    const cls = ['edge', e.rps === 0 ? 'idle' : '', failing ? 'failing' : ''].join(' ')
    const label = `${fmtRate(e.rps)} rps${e.mtls >= 0.5 ? ` ${LOCK}` : ''}`
    const label2 = `${fmtPct(e.successRate)} · p99 ${fmtMs(e.p99Ms)}`
    parts.push(
      `<g class="${cls}" data-edge data-source="${esc(e.source)}" data-destination="${esc(e.destination)}" data-rps="${e.rps}" data-success="${e.successRate ?? ''}" data-p99="${e.p99Ms ?? ''}" data-mtls="${e.mtls >= 0.5}">` +
        `<title>${esc(e.source)} → ${esc(e.destination)} (${esc(e.service)}), reported by the ${esc(e.reporter)}</title>` +
        `<path d="${path}" marker-end="url(#arrow)"/>` +
        `<text x="${lx}" y="${ly}" text-anchor="middle">${esc(label)}</text>` +
        `<text x="${lx}" y="${ly + 13}" text-anchor="middle">${esc(label2)}</text>` +
        '</g>',
    )
  }
  for (const n of graph.nodes) {
    const p = pos.get(n.id)
    const title =
      n.kind === 'unknown'
        ? 'outside the mesh'
        : n.kind === 'service'
          ? 'service (no workload answered)'
          : `${n.workload}${n.namespace ? `.${n.namespace}` : ''}`
    parts.push(
      `<g class="node ${n.kind}" data-node="${esc(n.id)}" transform="translate(${p.x},${p.y})">` +
        `<title>${esc(title)}</title>` +
        `<rect width="${NODE_W}" height="${NODE_H}" rx="6"/>` +
        `<text x="8" y="16">${esc(n.kind === 'service' ? n.workload : n.id)}</text>` +
        `<text class="version" x="8" y="31">${esc(n.kind === 'workload' ? `version ${n.version}` : n.kind)}</text>` +
        '</g>',
    )
  }
  svg.innerHTML = parts.join('')
}

function renderEdges(edges) {
  $('#edges tbody').innerHTML = edges
    .map(
      (e) =>
        `<tr data-edge-row data-source="${esc(e.source)}" data-destination="${esc(e.destination)}">` +
        `<td>${esc(e.source)}</td><td>${esc(e.destination)}</td>` +
        `<td class="num">${fmtRate(e.rps)}</td>` +
        `<td class="num ${e.successRate !== undefined && e.successRate < 0.95 ? 'bad' : ''}">${fmtPct(e.successRate)}</td>` +
        `<td class="num">${fmtMs(e.p99Ms)}</td>` +
        `<td>${e.mtls >= 0.5 ? `${LOCK} mutual TLS` : 'plaintext'}</td>` +
        `<td>${e.traceUrl ? `<a href="${esc(e.traceUrl)}" target="_blank" rel="noopener">traces</a>` : '<span class="muted">no Zipkin configured</span>'}</td>` +
        '</tr>',
    )
    .join('')
}

/** A sparkline of a series (nulls skipped), scaled to its own range. */
function spark(values, fixedMax) {
  const w = 120
  const h = 24
  const pts = values.map((v, i) => [i, v]).filter(([, v]) => v !== null && v !== undefined)
  if (pts.length < 2) return `<svg class="spark" width="${w}" height="${h}"></svg>`
  const max = fixedMax ?? Math.max(...pts.map(([, v]) => v), 1e-9)
  const n = Math.max(values.length - 1, 1)
  const line = pts
    .map(([i, v]) => `${((i / n) * w).toFixed(1)},${(h - 2 - (v / max) * (h - 4)).toFixed(1)}`)
    .join(' ')
  return `<svg class="spark" width="${w}" height="${h}"><polyline points="${line}"/></svg>`
}

function renderWorkloads(workloads, history) {
  const names = Object.keys(workloads).sort()
  $('#workloads tbody').innerHTML = names
    .map((w) => {
      const g = workloads[w]
      const h = history[w] ?? []
      return (
        `<tr data-workload="${esc(w)}"><td>${esc(w)}</td><td class="muted">${esc(g.direction)}</td>` +
        `<td class="num">${fmtRate(g.rps)}</td><td class="num">${fmtPct(g.successRate)}</td><td class="num">${fmtMs(g.p99Ms)}</td>` +
        `<td>${spark(h.map((p) => p.rps))}</td><td>${spark(
          h.map((p) => p.successRate),
          1,
        )}</td><td>${spark(h.map((p) => p.p99Ms))}</td></tr>`
      )
    })
    .join('')
}

function renderRejected(rejected) {
  $('#rejected').innerHTML = rejected.length
    ? rejected
        .map(
          (r) =>
            `<li data-rejected="${esc(r.key)}"><b>${esc(r.kind)} ${esc(r.namespace ? `${r.namespace}/` : '')}${esc(r.name)}</b>` +
            ` <span class="muted">${r.servingPrevious ? '(its previous version still serves)' : '(not served)'}</span>` +
            r.reasons.map((x) => `<div class="reason">${esc(x)}</div>`).join('') +
            '</li>',
        )
        .join('')
    : '<li class="muted">none: meshd accepted every object it read</li>'
}

function renderProxies(proxies) {
  $('#proxies tbody').innerHTML = proxies
    .map((p) => {
      const types = Object.entries(p.types)
      const versions = types
        .map(
          ([t, s]) =>
            `<span class="${s.synced ? 'ok' : 'bad'}" title="${esc(t)}">${esc(t)} ${esc(s.sent ?? '–')}/${esc(s.acked ?? '–')}${s.synced ? ' ✓' : ''}</span>`,
        )
        .join(' ')
      const nacks = types.filter(([, s]) => s.lastNack)
      const nack = nacks.length
        ? nacks
            .map(
              ([t, s]) =>
                `<div class="nack">${esc(t)} v${esc(s.lastNack.version)}: ${esc(s.lastNack.message)}</div>`,
            )
            .join('')
        : '<span class="muted">none</span>'
      return `<tr data-proxy="${esc(p.proxy)}"><td>${esc(p.pod)}.${esc(p.namespace)}</td><td>${esc(p.type)}</td><td>${esc(new Date(p.connectedAt).toLocaleTimeString())}</td><td>${versions}</td><td>${nack}</td></tr>`
    })
    .join('')
}

function render(s) {
  $('#status').textContent =
    `${s.connectedTo} · metrics from ${s.metricsSource === 'prometheus' ? 'Prometheus' : 'the proxies'} · updated ${new Date(s.at).toLocaleTimeString()}`
  $('#window').textContent = `(rates over the last ${s.windowSeconds} s)`
  const errors = $('#errors')
  errors.hidden = s.errors.length === 0
  errors.textContent = s.errors.join('\n')
  renderGraph(s.graph)
  renderEdges(s.graph.edges)
  renderWorkloads(s.graph.workloads, s.history)
  renderRejected(s.rejected)
  renderProxies(s.proxies)
  document.body.dataset.updated = s.at
}

const events = new EventSource('api/events')
events.addEventListener('state', (ev) => render(JSON.parse(ev.data)))
events.onerror = () => {
  $('#status').textContent = 'disconnected: reconnecting…'
}
