// fencepost space-time diagram. Time runs left to right, one lane per endpoint (node, object
// store). The layout is computed once into time-sorted typed arrays; each redraw binary-searches
// the visible window and draws only that, so 100,000 events stay interactive.
'use strict';
(function () {
  const NO_ENDPOINT = 4294967294;
  const STORE = 4294967295;
  const startedAt = performance.now();
  const data = JSON.parse(document.getElementById('trace-data').textContent);
  const TIME = data.time_ns, KIND = data.kind, NODE = data.node, PEER = data.peer;
  const AUX = data.aux, STEP = data.step, DETAIL = data.detail, HASH = data.payload_hash;
  const N = TIME.length;

  // ---------------------------------------------------------------- palette and glyph kinds
  const C = {
    deliver: '#2563eb', dup: '#9333ea', reorder: '#ea580c', drop: '#dc2626', store: '#0d9488',
    timer: '#94a3b8', boot: '#16a34a', crash: '#b91c1c', disk: '#475569', action: '#d97706',
    jump: '#c026d3', violation: '#dc2626', heal: '#16a34a', lane: '#cbd5e1', grid: '#f1f5f9',
    text: '#1f2937', dim: '#64748b',
  };
  // Arrow styles.
  const A_DELIVER = 0, A_DUP = 1, A_REORDER = 2, A_DROP_FLIGHT = 3, A_DROP_SEND = 4;
  const A_STORE_REQ = 5, A_STORE_REPLY = 6, A_STORE_DROP = 7;
  const ARROW_STYLE = [
    { color: C.deliver, dash: [], group: 'deliver' },
    { color: C.dup, dash: [5, 3], group: 'deliver' },
    { color: C.reorder, dash: [], group: 'deliver' },
    { color: C.drop, dash: [4, 3], group: 'drop', cross: true },
    { color: C.drop, dash: [], group: 'drop', cross: true },
    { color: C.store, dash: [2, 3], group: 'storage' },
    { color: C.store, dash: [], group: 'storage' },
    { color: C.drop, dash: [2, 3], group: 'drop', cross: true },
  ];
  // Point markers on a lane.
  const M_TIMER = 0, M_BOOT = 1, M_CRASH = 2, M_DISK = 3, M_ACTION = 4, M_REPLY = 5, M_JUMP = 6;
  const MARKER_GROUP = ['timer', 'life', 'life', 'disk', 'action', 'storage', 'fault'];
  const GROUPS = [
    { id: 'deliver', name: 'messages', kinds: ['deliver'], color: C.deliver },
    { id: 'drop', name: 'drops', kinds: ['drop'], color: C.drop },
    { id: 'storage', name: 'storage', kinds: ['store_apply', 'store_reply'], color: C.store },
    { id: 'timer', name: 'timers', kinds: ['timer'], color: C.timer },
    { id: 'disk', name: 'disk syncs', kinds: ['disk_sync'], color: C.disk },
    { id: 'fault', name: 'faults', kinds: ['fault_begin', 'fault_end', 'heal_all'], color: '#f87171' },
    { id: 'life', name: 'boot/crash', kinds: ['boot', 'crash'], color: C.boot },
    { id: 'state', name: 'labels', kinds: ['state'], color: '#a5b4fc' },
    { id: 'action', name: 'spec actions', kinds: ['action'], color: C.action },
  ];
  const groupOfKind = {};
  GROUPS.forEach((g) => g.kinds.forEach((k) => { groupOfKind[k] = g.id; }));
  const groupOn = {};
  GROUPS.forEach((g) => { groupOn[g.id] = true; });
  const KIND_COLOR = {
    deliver: C.deliver, drop: C.drop, timer: '#64748b', store_apply: C.store, store_reply: C.store,
    disk_sync: C.disk, fault_begin: '#dc2626', fault_end: '#dc2626', heal_all: C.heal, boot: C.boot,
    state: '#6366f1', crash: C.crash, violation: C.violation, action: C.action,
  };

  // ---------------------------------------------------------------- helpers
  const laneNameOf = (id) => (id === STORE ? 'store' : 'n' + id);
  function lowerBound(arr, x, lo, hi) { // first index with arr[i] >= x
    lo = lo || 0; hi = hi === undefined ? arr.length : hi;
    while (lo < hi) { const mid = (lo + hi) >>> 1; if (arr[mid] < x) lo = mid + 1; else hi = mid; }
    return lo;
  }
  function upperBound(arr, x, lo, hi) { // first index with arr[i] > x
    lo = lo || 0; hi = hi === undefined ? arr.length : hi;
    while (lo < hi) { const mid = (lo + hi) >>> 1; if (arr[mid] <= x) lo = mid + 1; else hi = mid; }
    return lo;
  }
  function fmtSeconds(ns, decimals) { return (ns / 1e9).toFixed(decimals === undefined ? 6 : decimals) + ' s'; }
  function fmtDur(ns) {
    const a = Math.abs(ns), sign = ns < 0 ? '-' : '';
    const f = (v, u) => sign + (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)) + ' ' + u;
    if (a < 1e3) return sign + a + ' ns';
    if (a < 1e6) return f(a / 1e3, 'µs');
    if (a < 1e9) return f(a / 1e6, 'ms');
    return f(a / 1e9, 's');
  }
  function hashString(s) { // FNV-1a, for stable label colours
    let h = 0x811c9dc5;
    for (let i = 0; i < s.length; i++) { h ^= s.charCodeAt(i); h = Math.imul(h, 0x01000193); }
    return h >>> 0;
  }
  function el(tag, attrs, children) {
    const e = document.createElement(tag);
    if (attrs) for (const k in attrs) { if (k === 'text') e.textContent = attrs[k]; else if (k === 'class') e.className = attrs[k]; else e.setAttribute(k, attrs[k]); }
    (children || []).forEach((c) => e.appendChild(typeof c === 'string' ? document.createTextNode(c) : c));
    return e;
  }
  const numberList = (s) => (s ? s.split(',').map((x) => Number(x.trim())).filter((x) => !Number.isNaN(x)) : []);
  function listField(text, key) { const m = text.match(new RegExp('\\b' + key + ': \\[([^\\]]*)\\]')); return m ? numberList(m[1]) : null; }
  function numField(text, key) { const m = text.match(new RegExp('\\b' + key + ': (-?\\d+)')); return m ? Number(m[1]) : null; }
  const names = (ids) => ids.map(laneNameOf).join(' ');

  // ---------------------------------------------------------------- lanes
  const endpointSet = new Set();
  for (let i = 0; i < N; i++) {
    if (NODE[i] !== NO_ENDPOINT) endpointSet.add(NODE[i]);
    if (PEER[i] !== NO_ENDPOINT) endpointSet.add(PEER[i]);
  }
  const laneIds = Array.from(endpointSet).sort((a, b) => a - b); // the store (u32::MAX) sorts last
  const L = laneIds.length;
  const laneOf = new Map(laneIds.map((id, i) => [id, i]));
  const laneVisible = laneIds.map(() => true);

  // ---------------------------------------------------------------- the time range
  let tMin = Infinity, tMax = -Infinity;
  for (let i = 0; i < N; i++) { if (TIME[i] < tMin) tMin = TIME[i]; if (TIME[i] > tMax) tMax = TIME[i]; }
  if (!(tMin <= tMax)) { tMin = 0; tMax = 1e6; }
  if (tMax - tMin < 1e3) tMax = tMin + 1e3;
  const tEnd = tMax;

  // ---------------------------------------------------------------- violation
  let violation = -1;
  for (let i = N - 1; i >= 0; i--) if (KIND[i] === 'violation') { violation = i; break; }
  const violationLanes = new Set();
  if (violation >= 0) {
    const re = /\bn(\d+)\b/g; let m;
    while ((m = re.exec(DETAIL[violation])) !== null) { const l = laneOf.get(Number(m[1])); if (l !== undefined) violationLanes.add(l); }
  }

  // ---------------------------------------------------------------- messages: duplicates, reorders
  // A duplicate is a later delivery of the same (from, to, sent at, payload); a reordered message
  // arrived after one sent later on the same link, so their arrows cross.
  const firstCopy = new Map();
  const linkMaxSent = new Map();
  const dupOf = new Int32Array(N).fill(-1);
  const reordered = new Uint8Array(N);
  const storeApplyOf = new Map(); // requester:request -> index of store_apply
  const storeReplyOf = new Map(); // requester:request -> index of store_reply
  for (let i = 0; i < N; i++) {
    const k = KIND[i];
    if (k === 'deliver') {
      const key = PEER[i] + ',' + NODE[i] + ',' + AUX[i] + ',' + HASH[i];
      const first = firstCopy.get(key);
      if (first !== undefined) dupOf[i] = first; else firstCopy.set(key, i);
      const link = PEER[i] + '>' + NODE[i];
      const maxSent = linkMaxSent.get(link);
      if (maxSent !== undefined && AUX[i] < maxSent) reordered[i] = 1;
      if (maxSent === undefined || AUX[i] > maxSent) linkMaxSent.set(link, AUX[i]);
    } else if (k === 'store_apply') {
      const key = NODE[i] + ':' + AUX[i];
      if (!storeApplyOf.has(key)) storeApplyOf.set(key, i);
    } else if (k === 'store_reply') {
      storeReplyOf.set(NODE[i] + ':' + AUX[i], i);
    }
  }
  const isTimeoutReply = (i) => /Timeout/.test(DETAIL[i]);

  // ---------------------------------------------------------------- faults
  function describeFault(text) {
    const kind = (text.match(/^(\w+)/) || [, 'fault'])[1];
    const f = { kind, label: kind, lanes: [], sideA: [], sideB: [], node: null };
    if (kind === 'Partition') {
      const one = text.match(/IsolateOne \{ node: (\d+) \}/);
      const group = listField(text, 'group'), a = listField(text, 'side_a'), b = listField(text, 'side_b');
      const from = listField(text, 'from'), to = listField(text, 'to');
      if (one) { f.sideA = [Number(one[1])]; f.label = 'partition: isolate ' + names(f.sideA); }
      else if (group) { f.sideA = group; f.label = 'partition: ' + names(group) + ' | rest'; }
      else if (a && b) { f.sideA = a; f.sideB = b; f.label = 'partition: ' + names(a) + ' ✕ ' + names(b); }
      else if (from && to) { f.sideA = from; f.sideB = to; f.label = 'partition one-way: ' + names(from) + ' ↛ ' + names(to); }
      else f.label = 'partition';
    } else if (kind === 'Pause' || kind === 'Crash' || kind === 'ClockJump') {
      f.node = numField(text, 'node');
      if (kind === 'ClockJump') f.label = 'clock ' + laneNameOf(f.node) + ' ' + (numField(text, 'delta_ns') >= 0 ? '+' : '') + fmtDur(numField(text, 'delta_ns'));
      else f.label = kind.toLowerCase() + ' ' + laneNameOf(f.node);
    } else if (kind === 'StoreOutage') {
      f.node = STORE; f.label = 'store outage';
    } else if (kind === 'Clog') {
      const from = numField(text, 'from'), to = numField(text, 'to');
      f.sideA = [from]; f.sideB = [to];
      f.label = 'clog ' + laneNameOf(from) + '→' + laneNameOf(to) + ' +' + fmtDur(numField(text, 'extra_latency_ns') || 0);
    }
    return f;
  }
  const FAULT_STYLE = {
    Partition: { fill: '#fee2e2', stroke: '#ef4444', text: '#991b1b' },
    Pause: { fill: '#e2e8f0', stroke: '#64748b', text: '#334155' },
    Crash: { fill: '#374151', stroke: '#111827', text: '#f9fafb' },
    ClockJump: { fill: '#fae8ff', stroke: '#c026d3', text: '#86198f' },
    StoreOutage: { fill: '#fef3c7', stroke: '#d97706', text: '#92400e' },
    Clog: { fill: '#e0f2fe', stroke: '#0284c7', text: '#075985' },
    other: { fill: '#f1f5f9', stroke: '#94a3b8', text: '#334155' },
  };
  const faults = []; // {t0, t1, rec, endRec, info, row}
  {
    const open = new Map();
    for (let i = 0; i < N; i++) {
      if (KIND[i] === 'fault_begin') {
        const f = { t0: TIME[i], t1: tEnd, rec: i, endRec: -1, info: describeFault(DETAIL[i]), row: 0 };
        open.set(AUX[i], f); faults.push(f);
      } else if (KIND[i] === 'fault_end') {
        const f = open.get(AUX[i]);
        if (f) { f.t1 = TIME[i]; f.endRec = i; open.delete(AUX[i]); }
      }
    }
  }
  // Greedy rows for the fault strip; instantaneous faults (clock jumps) get a minimum width later.
  let faultRows = 0;
  {
    const rowEnd = [];
    const minDur = (tEnd - tMin) * 0.004;
    faults.forEach((f) => {
      const end = Math.max(f.t1, f.t0 + minDur);
      let r = rowEnd.findIndex((e) => e < f.t0);
      if (r < 0) { r = rowEnd.length; rowEnd.push(0); }
      if (r >= 4) r = 3; // cap the strip's height; later overlaps share the last row
      rowEnd[r] = Math.max(rowEnd[r] || 0, end);
      f.row = r;
    });
    faultRows = Math.min(rowEnd.length, 4);
  }
  const healLines = [];
  for (let i = 0; i < N; i++) if (KIND[i] === 'heal_all') healLines.push(i);

  // Lane spans: pauses, partitioned sides, outages, clogs; and down time (crash to boot).
  const SPAN_PAUSE = 0, SPAN_DOWN = 1, SPAN_CUT = 2, SPAN_CUT_B = 3, SPAN_OUTAGE = 4, SPAN_CLOG = 5;
  const laneSpans = []; // {t0, t1, lane, type, rec}
  faults.forEach((f) => {
    const info = f.info;
    const add = (id, type) => { const l = laneOf.get(id); if (l !== undefined) laneSpans.push({ t0: f.t0, t1: f.t1, lane: l, type, rec: f.rec }); };
    if (info.kind === 'Pause') add(info.node, SPAN_PAUSE);
    else if (info.kind === 'Partition') { info.sideA.forEach((id) => add(id, SPAN_CUT)); info.sideB.forEach((id) => add(id, SPAN_CUT_B)); }
    else if (info.kind === 'StoreOutage') add(STORE, SPAN_OUTAGE);
    else if (info.kind === 'Clog') { info.sideA.concat(info.sideB).forEach((id) => add(id, SPAN_CLOG)); }
  });
  {
    const downSince = new Map();
    for (let i = 0; i < N; i++) {
      if (KIND[i] === 'crash') downSince.set(NODE[i], i);
      else if (KIND[i] === 'boot' && downSince.has(NODE[i])) {
        const c = downSince.get(NODE[i]); downSince.delete(NODE[i]);
        const l = laneOf.get(NODE[i]);
        if (l !== undefined) laneSpans.push({ t0: TIME[c], t1: TIME[i], lane: l, type: SPAN_DOWN, rec: c });
      }
    }
    downSince.forEach((c, node) => { const l = laneOf.get(node); if (l !== undefined) laneSpans.push({ t0: TIME[c], t1: tEnd, lane: l, type: SPAN_DOWN, rec: c }); });
  }

  // ---------------------------------------------------------------- arrows and markers
  const arrowList = [];
  const markerList = [];
  const pushArrow = (t0, t1, from, to, style, rec) => {
    if (from === undefined || to === undefined) return;
    arrowList.push([t0, t1, from, to, style, rec]);
  };
  for (let i = 0; i < N; i++) {
    const k = KIND[i];
    const lane = laneOf.get(NODE[i]);
    if (k === 'deliver') {
      pushArrow(AUX[i], TIME[i], laneOf.get(PEER[i]), lane, dupOf[i] >= 0 ? A_DUP : reordered[i] ? A_REORDER : A_DELIVER, i);
    } else if (k === 'drop') {
      if (NODE[i] === STORE) pushArrow(TIME[i], TIME[i], laneOf.get(PEER[i]), lane, A_STORE_DROP, i); // aux is the request id
      else if (DETAIL[i].endsWith('(in flight)')) pushArrow(AUX[i], TIME[i], laneOf.get(PEER[i]), lane, A_DROP_FLIGHT, i);
      else pushArrow(TIME[i], TIME[i], laneOf.get(PEER[i]), lane, A_DROP_SEND, i);
    } else if (k === 'store_apply') {
      pushArrow(TIME[i], TIME[i], lane, laneOf.get(STORE), A_STORE_REQ, i);
    } else if (k === 'store_reply') {
      const apply = storeApplyOf.get(NODE[i] + ':' + AUX[i]);
      if (apply !== undefined && !isTimeoutReply(i)) pushArrow(TIME[apply], TIME[i], laneOf.get(STORE), lane, A_STORE_REPLY, i);
      else if (lane !== undefined) markerList.push([TIME[i], lane, M_REPLY, i]);
    } else if (lane !== undefined) {
      const type = { timer: M_TIMER, boot: M_BOOT, crash: M_CRASH, disk_sync: M_DISK, action: M_ACTION }[k];
      if (type !== undefined) markerList.push([TIME[i], lane, type, i]);
    } else if (k === 'fault_begin') {
      const info = describeFault(DETAIL[i]);
      const jl = laneOf.get(info.node);
      if (info.kind === 'ClockJump' && jl !== undefined) markerList.push([TIME[i], jl, M_JUMP, i]);
    }
  }
  arrowList.sort((a, b) => a[1] - b[1]);
  markerList.sort((a, b) => a[0] - b[0]);
  const AN = arrowList.length, MN = markerList.length;
  const AT0 = new Float64Array(AN), AT1 = new Float64Array(AN);
  const AFROM = new Int32Array(AN), ATO = new Int32Array(AN), ASTYLE = new Uint8Array(AN), AREC = new Int32Array(AN);
  const arrowOfRec = new Int32Array(N).fill(-1);
  let maxSpan = 0;
  arrowList.forEach((a, j) => {
    AT0[j] = a[0]; AT1[j] = a[1]; AFROM[j] = a[2]; ATO[j] = a[3]; ASTYLE[j] = a[4]; AREC[j] = a[5];
    arrowOfRec[a[5]] = j; maxSpan = Math.max(maxSpan, a[1] - a[0]);
  });
  const MT = new Float64Array(MN), MLANE = new Int32Array(MN), MTYPE = new Uint8Array(MN), MREC = new Int32Array(MN);
  const markerOfRec = new Int32Array(N).fill(-1);
  markerList.forEach((m, j) => { MT[j] = m[0]; MLANE[j] = m[1]; MTYPE[j] = m[2]; MREC[j] = m[3]; markerOfRec[m[3]] = j; });
  arrowList.length = 0; markerList.length = 0;

  // ---------------------------------------------------------------- labels (state bands)
  // Colour by the label's text with long numbers (timestamps, deadlines) blanked, so a lease
  // renewed every few milliseconds keeps one colour while "leader t3" and "leader t4", or
  // "until 0" and "until <time>", differ; each change still draws a separator. The text's hash
  // picks a palette slot; a taken slot moves on, so the first labels seen never share one.
  const bandT = laneIds.map(() => []), bandRec = laneIds.map(() => []);
  for (let i = 0; i < N; i++) {
    if (KIND[i] !== 'state') continue;
    const l = laneOf.get(NODE[i]);
    if (l === undefined) continue;
    const ts = bandT[l], rs = bandRec[l];
    if (ts.length && ts[ts.length - 1] === TIME[i]) rs[rs.length - 1] = i; // same instant: the last label wins
    else { ts.push(TIME[i]); rs.push(i); }
  }
  const BT = bandT.map((a) => Float64Array.from(a)), BREC = bandRec.map((a) => Int32Array.from(a));
  const PALETTE = [ // [fill, text]: light enough for arrows and markers drawn over them
    ['#bfdbfe', '#1e3a8a'], ['#bbf7d0', '#14532d'], ['#fde68a', '#713f12'], ['#e9d5ff', '#581c87'],
    ['#fecdd3', '#881337'], ['#99f6e4', '#134e4a'], ['#fed7aa', '#7c2d12'], ['#c7d2fe', '#312e81'],
    ['#d9f99d', '#365314'], ['#f5d0fe', '#701a75'], ['#a5f3fc', '#164e63'], ['#e7e5e4', '#292524'],
  ];
  const colourCache = new Map();
  const slotTaken = new Set();
  const isDown = (label) => /^down\b/.test(label);
  function bandColour(label) {
    const key = label.replace(/\d{4,}/g, '#');
    let c = colourCache.get(key);
    if (!c) {
      if (isDown(label)) c = { fill: '#334155', text: '#f8fafc', key: 'down' };
      else {
        let slot = hashString(key) % PALETTE.length;
        for (let n = 0; n < PALETTE.length && slotTaken.has(slot); n++) slot = (slot + 1) % PALETTE.length;
        slotTaken.add(slot);
        c = { fill: PALETTE[slot][0], text: PALETTE[slot][1], key };
      }
      colourCache.set(key, c);
    }
    return c;
  }
  // Colours are handed out in trace order, not drawing order, so they never depend on the view.
  for (let i = 0; i < N; i++) if (KIND[i] === 'state') bandColour(DETAIL[i]);
  function labelAt(lane, t) { // the record index of the label `lane` shows at `t`, or -1
    const j = upperBound(BT[lane], t) - 1;
    return j >= 0 ? BREC[lane][j] : -1;
  }
  // Long numbers in labels are nanoseconds (deadlines on a node's clock, which counts from a
  // 1,000 s epoch): shown as seconds, so `until 1001203220172` reads `until 1001.203220 s`.
  function labelText(label) { return label.replace(/\b\d{7,}\b/g, (n) => fmtSeconds(Number(n))); }

  // ---------------------------------------------------------------- canvas, layout
  const canvas = document.getElementById('canvas');
  const ctx = canvas.getContext('2d');
  const plotBox = document.getElementById('plot');
  const tooltip = document.getElementById('tooltip');
  const GUTTER = 132, AXIS_H = 28, FAULT_ROW_H = 17, MINI_H = 44, RIGHT_PAD = 14;
  let W = 0, H = 0, plotW = 0, lanesTop = 0, laneH = 40, laneY = [], bandH = 16;
  let v0 = tMin, v1 = tEnd; // the visible time window, ns
  let selected = -1, hovered = -1;
  let histogram = null;
  const pad = (tEnd - tMin) * 0.01;

  function layout() {
    const dpr = window.devicePixelRatio || 1;
    W = plotBox.clientWidth; H = plotBox.clientHeight;
    canvas.width = Math.max(1, Math.round(W * dpr)); canvas.height = Math.max(1, Math.round(H * dpr));
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    plotW = Math.max(50, W - GUTTER - RIGHT_PAD);
    lanesTop = AXIS_H + (faultRows ? faultRows * FAULT_ROW_H + 8 : 0);
    const shown = laneVisible.filter(Boolean).length;
    const avail = H - lanesTop - MINI_H - 10;
    laneH = shown ? Math.max(26, Math.min(130, avail / shown)) : 40;
    bandH = Math.max(10, Math.min(20, laneH * 0.34));
    let row = 0;
    laneY = laneIds.map((_, l) => (laneVisible[l] ? lanesTop + laneH * (row++ + 0.5) : -1));
    histogram = null;
  }
  const xOf = (t) => GUTTER + (t - v0) * (plotW / (v1 - v0));
  const tOf = (x) => v0 + (x - GUTTER) * ((v1 - v0) / plotW);
  const lanesBottom = () => lanesTop + laneH * laneVisible.filter(Boolean).length;

  function hatch(colour, back, gap) {
    const p = document.createElement('canvas'); p.width = p.height = gap;
    const c = p.getContext('2d');
    if (back) { c.fillStyle = back; c.fillRect(0, 0, gap, gap); }
    c.strokeStyle = colour; c.lineWidth = 1.2;
    c.beginPath(); c.moveTo(0, gap); c.lineTo(gap, 0); c.moveTo(-1, 1); c.lineTo(1, -1); c.moveTo(gap - 1, gap + 1); c.lineTo(gap + 1, gap - 1); c.stroke();
    return ctx.createPattern(p, 'repeat');
  }
  const PAT = {
    down: hatch('rgba(255,255,255,0.22)', '#334155', 7),
    pause: hatch('rgba(71,85,105,0.55)', 'rgba(226,232,240,0.75)', 6),
    cut: hatch('rgba(239,68,68,0.45)', 'rgba(254,226,226,0.55)', 7),
    cutB: hatch('rgba(239,68,68,0.22)', null, 9),
    outage: hatch('rgba(217,119,6,0.5)', 'rgba(254,243,199,0.6)', 7),
  };

  // ---------------------------------------------------------------- drawing
  function niceStep(span, px) { // a 1-2-5 step of about `px` pixels
    const raw = span / Math.max(1, plotW / px);
    const p = Math.pow(10, Math.floor(Math.log10(raw)));
    const m = raw / p;
    return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p;
  }
  function drawArrowHead(x1, y1, x0, y0, size) {
    const a = Math.atan2(y1 - y0, x1 - x0);
    ctx.moveTo(x1, y1);
    ctx.lineTo(x1 - size * Math.cos(a - 0.42), y1 - size * Math.sin(a - 0.42));
    ctx.lineTo(x1 - size * Math.cos(a + 0.42), y1 - size * Math.sin(a + 0.42));
    ctx.closePath();
  }
  function drawCross(x, y, s) { ctx.moveTo(x - s, y - s); ctx.lineTo(x + s, y + s); ctx.moveTo(x + s, y - s); ctx.lineTo(x - s, y + s); }

  // Where an arrow starts and ends on screen. Drops at send are short stubs toward the receiver;
  // store requests and store drops are vertical: the trace has their arrival time only.
  function arrowGeom(j) {
    const ya = laneY[AFROM[j]], yb = laneY[ATO[j]];
    if (ya < 0 || yb < 0) return null;
    const xa = xOf(AT0[j]);
    if (ASTYLE[j] === A_DROP_SEND) {
      const dir = yb > ya ? 1 : -1, len = Math.min(Math.abs(yb - ya) * 0.45, 22);
      return [xa, ya, xa + len * 0.55, ya + dir * len];
    }
    return [xa, ya, xOf(AT1[j]), yb];
  }
  function visibleArrows() {
    return [lowerBound(AT1, v0), upperBound(AT1, v1 + maxSpan)];
  }

  function draw() {
    if (!histogram) buildHistogram();
    const k = plotW / (v1 - v0);
    ctx.clearRect(0, 0, W, H);
    ctx.fillStyle = '#fff'; ctx.fillRect(0, 0, W, H);
    const bottom = lanesBottom();

    // Lane rows.
    laneIds.forEach((id, l) => {
      const y = laneY[l]; if (y < 0) return;
      if (violationLanes.has(l)) { ctx.fillStyle = '#fff5f5'; ctx.fillRect(GUTTER, y - laneH / 2, plotW, laneH); }
      else if (l % 2) { ctx.fillStyle = '#fbfcfe'; ctx.fillRect(GUTTER, y - laneH / 2, plotW, laneH); }
    });
    ctx.save();
    ctx.beginPath(); ctx.rect(GUTTER, 0, plotW, H); ctx.clip();

    // Grid.
    const step = niceStep(v1 - v0, 110);
    ctx.strokeStyle = C.grid; ctx.lineWidth = 1; ctx.beginPath();
    for (let t = Math.ceil(v0 / step) * step; t <= v1; t += step) { const x = Math.round(xOf(t)) + 0.5; ctx.moveTo(x, AXIS_H); ctx.lineTo(x, bottom); }
    ctx.stroke();

    // Partitions tint every lane while they last.
    if (groupOn.fault) {
      faults.forEach((f) => {
        if (f.info.kind !== 'Partition' || f.t1 < v0 || f.t0 > v1) return;
        const xa = Math.max(GUTTER, xOf(f.t0)), xb = Math.min(GUTTER + plotW, xOf(f.t1));
        ctx.fillStyle = 'rgba(239,68,68,0.055)'; ctx.fillRect(xa, lanesTop, Math.max(1, xb - xa), bottom - lanesTop);
      });
    }

    // Lane lines, under the label bands: where a node has no label the line shows.
    ctx.strokeStyle = C.lane; ctx.lineWidth = 1; ctx.beginPath();
    laneIds.forEach((_, l) => { const y = laneY[l]; if (y >= 0) { ctx.moveTo(GUTTER, Math.round(y) + 0.5); ctx.lineTo(GUTTER + plotW, Math.round(y) + 0.5); } });
    ctx.stroke();

    // Label bands.
    ctx.font = '11px ui-monospace, Menlo, Consolas, "DejaVu Sans Mono", monospace';
    ctx.textBaseline = 'middle';
    const charW = ctx.measureText('M').width || 6.6;
    if (groupOn.state) {
      for (let l = 0; l < L; l++) {
        const y = laneY[l]; if (y < 0) continue;
        const ts = BT[l], rs = BREC[l];
        let j = Math.max(0, upperBound(ts, v0) - 1);
        const top = y - bandH / 2;
        let runStart = -1, runColour = null, runEnd = 0;
        const flush = () => { if (runColour) { ctx.fillStyle = runColour.key === 'down' ? PAT.down : runColour.fill; ctx.fillRect(runStart, top, runEnd - runStart, bandH); } };
        const seps = [], texts = [];
        for (; j < ts.length && ts[j] <= v1; j++) {
          const label = DETAIL[rs[j]];
          const xa = Math.max(GUTTER - 2, xOf(ts[j]));
          const xb = Math.min(GUTTER + plotW + 2, xOf(j + 1 < ts.length ? ts[j + 1] : tEnd));
          if (xb <= xa) continue;
          const c = bandColour(label);
          if (runColour && c.key === runColour.key && xa - runEnd < 0.5) runEnd = xb;
          else { flush(); runStart = xa; runEnd = xb; runColour = c; }
          if (j > 0 && xa > GUTTER && xb - xa >= 4) seps.push(xa);
          if (xb - xa > 28) texts.push([xa, xb, label, c]);
        }
        flush();
        ctx.fillStyle = 'rgba(255,255,255,0.9)';
        seps.forEach((x) => ctx.fillRect(x, top, 1.2, bandH));
        texts.forEach(([xa, xb, label, c]) => {
          const room = Math.floor((xb - xa - 8) / charW);
          if (room < 3) return;
          const shown = labelText(label);
          const text = shown.length > room ? shown.slice(0, room - 1) + '…' : shown;
          ctx.fillStyle = c.text; ctx.fillText(text, xa + 4, y + 0.5);
        });
      }
    }

    // Lane spans (pauses, down time, partitioned sides, outages, clogs).
    laneSpans.forEach((s) => {
      const y = laneY[s.lane];
      if (y < 0 || s.t1 < v0 || s.t0 > v1) return;
      if (s.type !== SPAN_DOWN && !groupOn.fault) return;
      if (s.type === SPAN_DOWN && !groupOn.life && !groupOn.state) return;
      const xa = Math.max(GUTTER - 2, xOf(s.t0)), xb = Math.min(GUTTER + plotW + 2, xOf(s.t1));
      const w = Math.max(2, xb - xa);
      if (s.type === SPAN_DOWN) { ctx.fillStyle = PAT.down; ctx.fillRect(xa, y - bandH / 2 - 3, w, bandH + 6); }
      else if (s.type === SPAN_PAUSE) { ctx.fillStyle = PAT.pause; ctx.fillRect(xa, y - bandH / 2 - 3, w, bandH + 6); }
      else if (s.type === SPAN_CUT) { ctx.fillStyle = PAT.cut; ctx.fillRect(xa, y - laneH / 2 + 2, w, laneH - 4); }
      else if (s.type === SPAN_CUT_B) { ctx.fillStyle = PAT.cutB; ctx.fillRect(xa, y - laneH / 2 + 2, w, laneH - 4); }
      else if (s.type === SPAN_OUTAGE) { ctx.fillStyle = PAT.outage; ctx.fillRect(xa, y - laneH / 2 + 2, w, laneH - 4); }
      else if (s.type === SPAN_CLOG) { ctx.fillStyle = 'rgba(2,132,199,0.10)'; ctx.fillRect(xa, y - laneH / 2 + 2, w, laneH - 4); }
      if ((s.type === SPAN_PAUSE || s.type === SPAN_DOWN) && w > 44) {
        ctx.font = '600 10px system-ui, sans-serif'; ctx.textBaseline = 'bottom';
        ctx.fillStyle = s.type === SPAN_DOWN ? '#334155' : '#475569';
        ctx.fillText(s.type === SPAN_DOWN ? 'DOWN' : 'PAUSED', Math.max(xa, GUTTER) + 3, y - bandH / 2 - 4);
        ctx.textBaseline = 'middle';
      }
    });

    // Arrows, batched by style: one path per style keeps 100,000 of them cheap.
    // Each group (messages, drops, storage) fades with its own density, so rare events (drops)
    // stay vivid over a wall of ordinary messages.
    const [lo, hi] = visibleArrows();
    const perGroup = {};
    for (let j = lo; j < hi; j++) if (AT0[j] <= v1) { const g = ARROW_STYLE[ASTYLE[j]].group; perGroup[g] = (perGroup[g] || 0) + 1; }
    ctx.lineCap = 'round';
    for (let s = 0; s < ARROW_STYLE.length; s++) {
      const st = ARROW_STYLE[s], n = perGroup[st.group];
      if (!groupOn[st.group] || !n) continue;
      const alpha = Math.max(0.1, Math.min(0.85, (0.4 * plotW) / n));
      const dense = n > plotW / 5;
      const lines = new Path2D(), heads = new Path2D(), crosses = new Path2D();
      let any = false;
      for (let j = lo; j < hi; j++) {
        if (ASTYLE[j] !== s || AT0[j] > v1) continue;
        const g = arrowGeom(j); if (!g) continue;
        any = true;
        lines.moveTo(g[0], g[1]); lines.lineTo(g[2], g[3]);
        const len = Math.hypot(g[2] - g[0], g[3] - g[1]);
        if (st.cross) { const sz = dense ? 2.5 : 3.5; crosses.moveTo(g[2] - sz, g[3] - sz); crosses.lineTo(g[2] + sz, g[3] + sz); crosses.moveTo(g[2] + sz, g[3] - sz); crosses.lineTo(g[2] - sz, g[3] + sz); }
        else if (!dense && len > 9) {
          const a = Math.atan2(g[3] - g[1], g[2] - g[0]), size = 6;
          heads.moveTo(g[2], g[3]);
          heads.lineTo(g[2] - size * Math.cos(a - 0.42), g[3] - size * Math.sin(a - 0.42));
          heads.lineTo(g[2] - size * Math.cos(a + 0.42), g[3] - size * Math.sin(a + 0.42));
          heads.closePath();
        }
      }
      if (!any) continue;
      ctx.globalAlpha = alpha;
      ctx.strokeStyle = st.color; ctx.fillStyle = st.color;
      ctx.lineWidth = dense ? 0.9 : 1.15;
      ctx.setLineDash(dense ? [] : st.dash);
      ctx.stroke(lines);
      ctx.setLineDash([]);
      ctx.globalAlpha = Math.min(1, alpha + 0.1);
      ctx.fill(heads);
      ctx.lineWidth = dense ? 1.2 : 1.8; ctx.stroke(crosses);
      ctx.globalAlpha = 1;
    }

    // Markers.
    const mlo = lowerBound(MT, v0 - 8 / k), mhi = upperBound(MT, v1 + 8 / k);
    const markerDense = mhi - mlo > plotW * 2;
    const paths = [new Path2D(), new Path2D(), new Path2D(), new Path2D(), new Path2D(), new Path2D(), new Path2D()];
    // Markers of one kind on the same pixel of a lane look like one: drawing one keeps the
    // work bounded by the canvas width when zoomed out (filling thousands of overlapping
    // shapes in one path is slow).
    const lastX = new Int32Array(paths.length * L).fill(-1);
    for (let j = mlo; j < mhi; j++) {
      const type = MTYPE[j];
      if (!groupOn[MARKER_GROUP[type]]) continue;
      const y = laneY[MLANE[j]]; if (y < 0) continue;
      const x = xOf(MT[j]), p = paths[type], px = Math.round(x), slot = type * L + MLANE[j];
      if (lastX[slot] === px) continue;
      lastX[slot] = px;
      if (type === M_TIMER) { const h = markerDense ? 3 : 4; p.moveTo(x, y - h); p.lineTo(x, y + h); }
      else if (type === M_BOOT) { p.moveTo(x - 4, y - 6); p.lineTo(x + 6, y); p.lineTo(x - 4, y + 6); p.closePath(); }
      else if (type === M_CRASH) { p.moveTo(x - 5, y - 5); p.lineTo(x + 5, y + 5); p.moveTo(x + 5, y - 5); p.lineTo(x - 5, y + 5); }
      else if (type === M_DISK) { p.rect(x - 2.5, y - 2.5, 5, 5); }
      else if (type === M_ACTION) { p.moveTo(x, y - 4.5); p.lineTo(x + 4.5, y); p.lineTo(x, y + 4.5); p.lineTo(x - 4.5, y); p.closePath(); }
      else if (type === M_REPLY) { p.moveTo(x + 3.5, y); p.arc(x, y, 3.5, 0, Math.PI * 2); }
      else if (type === M_JUMP) { p.moveTo(x, y - laneH / 2 + 4); p.lineTo(x, y + laneH / 2 - 4); p.moveTo(x - 4, y - laneH / 2 + 4); p.lineTo(x + 4, y - laneH / 2 + 4); }
    }
    ctx.lineWidth = 1.2; ctx.strokeStyle = C.timer; ctx.stroke(paths[M_TIMER]);
    ctx.fillStyle = C.boot; ctx.fill(paths[M_BOOT]);
    ctx.lineWidth = 2.4; ctx.strokeStyle = C.crash; ctx.stroke(paths[M_CRASH]);
    ctx.fillStyle = C.disk; ctx.fill(paths[M_DISK]);
    ctx.fillStyle = C.action; ctx.fill(paths[M_ACTION]);
    ctx.lineWidth = 1.4; ctx.strokeStyle = C.store; ctx.fillStyle = '#fff'; ctx.fill(paths[M_REPLY]); ctx.stroke(paths[M_REPLY]);
    ctx.lineWidth = 2; ctx.strokeStyle = C.jump; ctx.stroke(paths[M_JUMP]);
    if (groupOn.fault && mhi - mlo < 4000) { // name each clock jump's size beside it
      ctx.font = '600 10px system-ui, sans-serif'; ctx.fillStyle = C.jump; ctx.textBaseline = 'top';
      for (let j = mlo; j < mhi; j++) {
        if (MTYPE[j] !== M_JUMP || laneY[MLANE[j]] < 0) continue;
        const delta = numField(DETAIL[MREC[j]], 'delta_ns') || 0;
        ctx.fillText('clock ' + (delta >= 0 ? '+' : '') + fmtDur(delta), xOf(MT[j]) + 4, laneY[MLANE[j]] - laneH / 2 + 2);
      }
      ctx.textBaseline = 'middle';
    }

    // Heal-all and the violation cut every lane.
    if (groupOn.fault) {
      healLines.forEach((i) => {
        const x = xOf(TIME[i]); if (x < GUTTER - 2 || x > GUTTER + plotW + 2) return;
        ctx.strokeStyle = C.heal; ctx.lineWidth = 1.5; ctx.setLineDash([6, 4]);
        ctx.beginPath(); ctx.moveTo(x, lanesTop); ctx.lineTo(x, bottom); ctx.stroke(); ctx.setLineDash([]);
        ctx.fillStyle = C.heal; ctx.font = '600 10px system-ui, sans-serif'; ctx.textBaseline = 'top';
        ctx.fillText('heal all', x + 4, lanesTop + 2);
      });
    }
    if (violation >= 0) {
      const x = xOf(TIME[violation]);
      if (x >= GUTTER - 4 && x <= GUTTER + plotW + 4) {
        ctx.strokeStyle = C.violation; ctx.lineWidth = 2.5;
        ctx.beginPath(); ctx.moveTo(x, AXIS_H - 6); ctx.lineTo(x, bottom); ctx.stroke();
        violationLanes.forEach((l) => {
          const y = laneY[l]; if (y < 0) return;
          ctx.beginPath(); ctx.arc(x, y, 7, 0, Math.PI * 2); ctx.fillStyle = '#fff'; ctx.fill(); ctx.lineWidth = 2.5; ctx.stroke();
          ctx.beginPath(); ctx.arc(x, y, 3, 0, Math.PI * 2); ctx.fillStyle = C.violation; ctx.fill();
        });
      }
    }

    // Selection and hover on top.
    [hovered, selected].forEach((rec, n) => { if (rec >= 0) highlight(rec, n === 1); });
    ctx.restore();

    drawAxis(step);
    drawFaultStrip();
    drawGutter();
    drawMinimap();
  }

  // The messages that arrived in the violating step: usually the stale one that did it.
  const violationArrows = [];
  for (let i = violation; i >= 0 && STEP[i] === STEP[violation]; i--) if (arrowOfRec[i] >= 0) violationArrows.push(arrowOfRec[i]);
  function highlight(rec, strong) {
    if (rec === violation) {
      ctx.save(); ctx.strokeStyle = ctx.fillStyle = '#991b1b';
      violationArrows.forEach((q) => {
        const g = arrowGeom(q); if (!g) return;
        ctx.lineWidth = 3; ctx.beginPath(); ctx.moveTo(g[0], g[1]); ctx.lineTo(g[2], g[3]); ctx.stroke();
        ctx.beginPath(); drawArrowHead(g[2], g[3], g[0], g[1], 11); ctx.fill();
        ctx.beginPath(); ctx.arc(g[0], g[1], 4, 0, Math.PI * 2); ctx.fill();
      });
      ctx.restore();
      return;
    }
    ctx.save();
    ctx.strokeStyle = strong ? '#0f172a' : 'rgba(15,23,42,0.55)';
    ctx.fillStyle = ctx.strokeStyle;
    const copies = [];
    const j = arrowOfRec[rec];
    if (j >= 0) {
      copies.push(j);
      if (KIND[rec] === 'deliver') { // every copy of a duplicated message
        const first = dupOf[rec] >= 0 ? dupOf[rec] : rec;
        const [lo, hi] = [lowerBound(AT1, AT0[j]), upperBound(AT1, AT1[j] + maxSpan)];
        for (let q = lo; q < hi; q++) if (q !== j && KIND[AREC[q]] === 'deliver' && (AREC[q] === first || dupOf[AREC[q]] === first)) copies.push(q);
      }
      copies.forEach((q, n) => {
        const g = arrowGeom(q); if (!g) return;
        ctx.lineWidth = strong && n === 0 ? 3 : 2; ctx.setLineDash(n === 0 ? [] : [5, 3]);
        ctx.beginPath(); ctx.moveTo(g[0], g[1]); ctx.lineTo(g[2], g[3]); ctx.stroke(); ctx.setLineDash([]);
        ctx.beginPath();
        if (ARROW_STYLE[ASTYLE[q]].cross) { drawCross(g[2], g[3], 5); ctx.lineWidth = 2.5; ctx.stroke(); }
        else { drawArrowHead(g[2], g[3], g[0], g[1], 9); ctx.fill(); }
        ctx.beginPath(); ctx.arc(g[0], g[1], 3.5, 0, Math.PI * 2); ctx.fill();
      });
    } else {
      const y = eventY(rec);
      if (y !== null) {
        ctx.lineWidth = strong ? 2.5 : 1.5;
        ctx.beginPath(); ctx.arc(xOf(TIME[rec]), y, 9, 0, Math.PI * 2); ctx.stroke();
      }
      if (KIND[rec] === 'state') {
        const l = laneOf.get(NODE[rec]), ts = BT[l], b = upperBound(ts, TIME[rec]);
        const xa = xOf(TIME[rec]), xb = xOf(b < ts.length ? ts[b] : tEnd), y2 = laneY[l];
        if (y2 >= 0) { ctx.lineWidth = 2; ctx.strokeRect(xa, y2 - bandH / 2 - 1, Math.max(2, xb - xa), bandH + 2); }
      }
      if (KIND[rec] === 'fault_begin' || KIND[rec] === 'fault_end') {
        const f = faults.find((q) => q.rec === rec || q.endRec === rec);
        if (f) { ctx.lineWidth = 1.5; ctx.setLineDash([4, 3]); ctx.strokeRect(xOf(f.t0), lanesTop, Math.max(2, xOf(f.t1) - xOf(f.t0)), lanesBottom() - lanesTop); }
      }
    }
    ctx.restore();
  }
  function eventY(rec) { // where a point event sits, if it has a lane
    const l = laneOf.get(NODE[rec]);
    if (l !== undefined && laneY[l] >= 0) return laneY[l];
    if (KIND[rec] === 'fault_begin') {
      const n = describeFault(DETAIL[rec]).node, l2 = laneOf.get(n);
      if (l2 !== undefined && laneY[l2] >= 0) return laneY[l2];
    }
    return null;
  }

  function drawAxis(step) {
    ctx.fillStyle = '#fff'; ctx.fillRect(0, 0, W, AXIS_H);
    ctx.strokeStyle = '#e2e8f0'; ctx.beginPath(); ctx.moveTo(0, AXIS_H - 0.5); ctx.lineTo(W, AXIS_H - 0.5); ctx.stroke();
    const decimals = Math.max(0, Math.min(9, Math.ceil(-Math.log10(step / 1e9) - 1e-9)));
    ctx.font = '11px system-ui, sans-serif'; ctx.textBaseline = 'middle'; ctx.fillStyle = C.dim;
    ctx.strokeStyle = '#94a3b8'; ctx.beginPath();
    for (let t = Math.ceil(v0 / step) * step; t <= v1; t += step) {
      const x = Math.round(xOf(t)) + 0.5;
      ctx.moveTo(x, AXIS_H - 6); ctx.lineTo(x, AXIS_H);
      const text = fmtSeconds(t, decimals);
      if (x + 3 + ctx.measureText(text).width < W - 2) ctx.fillText(text, x + 3, AXIS_H / 2 - 1);
    }
    ctx.stroke();
    ctx.fillStyle = '#fff'; ctx.fillRect(0, 0, GUTTER, AXIS_H);
    ctx.fillStyle = '#94a3b8'; ctx.font = '10px system-ui, sans-serif';
    ctx.fillText('true time · span ' + fmtDur(v1 - v0), 8, AXIS_H / 2 - 1);
    if (violation >= 0) {
      const x = xOf(TIME[violation]);
      if (x >= GUTTER - 4 && x <= GUTTER + plotW + 4) {
        ctx.fillStyle = C.violation; ctx.beginPath(); ctx.moveTo(x - 6, 2); ctx.lineTo(x + 6, 2); ctx.lineTo(x, 12); ctx.closePath(); ctx.fill();
        ctx.font = '700 11px system-ui, sans-serif'; ctx.textAlign = 'right';
        ctx.fillStyle = '#fff'; ctx.fillRect(x - 70, 13, 62, 14);
        ctx.fillStyle = C.violation; ctx.fillText('VIOLATION', x - 9, 20); ctx.textAlign = 'left';
      }
    }
  }

  function faultRect(f) {
    const xa = xOf(f.t0), xb = Math.max(xOf(f.t1), xa + 6);
    return [xa, AXIS_H + 4 + f.row * FAULT_ROW_H, xb - xa, FAULT_ROW_H - 3];
  }
  function drawFaultStrip() {
    if (!faultRows) return;
    const top = AXIS_H, h = faultRows * FAULT_ROW_H + 8;
    ctx.fillStyle = '#fff'; ctx.fillRect(0, top, W, h);
    ctx.fillStyle = '#94a3b8'; ctx.font = '10px system-ui, sans-serif'; ctx.textBaseline = 'middle';
    ctx.fillText('faults', 8, top + 4 + FAULT_ROW_H / 2);
    if (!groupOn.fault) return;
    ctx.save(); ctx.beginPath(); ctx.rect(GUTTER, top, plotW, h); ctx.clip();
    ctx.font = '600 10px system-ui, sans-serif';
    faults.forEach((f) => {
      if (f.t1 < v0 - (v1 - v0) * 0.01 || f.t0 > v1) return;
      const [x, y, w, hh] = faultRect(f), st = FAULT_STYLE[f.info.kind] || FAULT_STYLE.other;
      ctx.fillStyle = st.fill; ctx.strokeStyle = st.stroke; ctx.lineWidth = f.rec === selected ? 2 : 1;
      ctx.beginPath(); ctx.rect(x + 0.5, y + 0.5, w, hh); ctx.fill(); ctx.stroke();
      const tx = Math.max(x, GUTTER) + 4, room = x + w - tx - 3;
      if (room > 14) {
        ctx.save(); ctx.beginPath(); ctx.rect(tx, y, room, hh); ctx.clip();
        ctx.fillStyle = st.text; ctx.fillText(f.info.label + (f.t1 > f.t0 ? ' · ' + fmtDur(f.t1 - f.t0) : ''), tx, y + hh / 2 + 0.5);
        ctx.restore();
      }
    });
    ctx.restore();
  }

  // The instant the gutter's lane labels describe: the selected record's (the cursor), else
  // the violation's when it is in view, else the window's right edge. Never the left edge: a
  // violating node must read its state at the violation, not from before it.
  function gutterTime() {
    if (selected >= 0) return TIME[selected];
    if (violation >= 0 && TIME[violation] >= v0 && TIME[violation] <= v1) return TIME[violation];
    return Math.min(v1, tEnd);
  }

  function drawGutter() {
    const at = gutterTime(), shownLabels = [];
    ctx.fillStyle = '#fff'; ctx.fillRect(0, lanesTop - 1, GUTTER, H - lanesTop + 1);
    ctx.strokeStyle = '#e2e8f0'; ctx.beginPath(); ctx.moveTo(GUTTER - 0.5, AXIS_H); ctx.lineTo(GUTTER - 0.5, lanesBottom()); ctx.stroke();
    laneIds.forEach((id, l) => {
      const y = laneY[l]; if (y < 0) return;
      const bad = violationLanes.has(l);
      ctx.textBaseline = 'middle';
      ctx.font = '600 13px system-ui, sans-serif';
      ctx.fillStyle = bad ? C.violation : C.text;
      ctx.fillText((bad ? '⚠ ' : '') + laneNameOf(id), 10, y - (laneH > 40 ? 7 : 0));
      if (laneH > 40) {
        const rec = labelAt(l, at);
        if (rec >= 0) {
          ctx.font = '10.5px ui-monospace, Menlo, Consolas, monospace'; ctx.fillStyle = C.dim;
          const label = labelText(DETAIL[rec]), room = Math.floor((GUTTER - 16) / 6.4);
          shownLabels.push(laneNameOf(id) + ': ' + label);
          ctx.fillText(label.length > room ? label.slice(0, room - 1) + '…' : label, 10, y + 9);
        }
      }
      ctx.strokeStyle = '#f1f5f9'; ctx.beginPath(); ctx.moveTo(0, Math.round(y + laneH / 2) + 0.5); ctx.lineTo(GUTTER, Math.round(y + laneH / 2) + 0.5); ctx.stroke();
    });
    // What the gutter says, in full, for the browser tests (and anyone inspecting the page).
    const shown = shownLabels.join(' | '), data = document.body.dataset;
    if (data.gutterLabels !== shown) { data.gutterAt = String(at); data.gutterLabels = shown; } // no DOM write per redraw
  }

  function buildHistogram() {
    const bins = Math.max(1, Math.floor(plotW / 2));
    const counts = new Uint32Array(bins);
    const span = tEnd - tMin;
    for (let i = 0; i < N; i++) { const b = Math.min(bins - 1, Math.floor(((TIME[i] - tMin) / span) * bins)); counts[b]++; }
    let max = 1; counts.forEach((c) => { if (c > max) max = c; });
    histogram = { counts, max, bins };
  }
  const miniX = (t) => GUTTER + ((t - tMin) / (tEnd - tMin)) * plotW;
  const miniT = (x) => tMin + ((x - GUTTER) / plotW) * (tEnd - tMin);
  function drawMinimap() {
    const top = H - MINI_H, h = MINI_H - 10;
    ctx.fillStyle = '#fff'; ctx.fillRect(0, top - 6, W, MINI_H + 6);
    ctx.strokeStyle = '#e2e8f0'; ctx.beginPath(); ctx.moveTo(0, top - 5.5); ctx.lineTo(W, top - 5.5); ctx.stroke();
    ctx.fillStyle = '#94a3b8'; ctx.font = '10px system-ui, sans-serif'; ctx.textBaseline = 'middle';
    ctx.fillText('whole run', 8, top + h / 2);
    ctx.fillStyle = '#f8fafc'; ctx.fillRect(GUTTER, top, plotW, h);
    faults.forEach((f) => {
      if (f.info.kind !== 'Partition' && f.info.kind !== 'Pause' && f.info.kind !== 'Crash') return;
      ctx.fillStyle = f.info.kind === 'Partition' ? 'rgba(239,68,68,0.16)' : 'rgba(100,116,139,0.16)';
      ctx.fillRect(miniX(f.t0), top, Math.max(1, miniX(f.t1) - miniX(f.t0)), h);
    });
    const { counts, max, bins } = histogram;
    ctx.fillStyle = '#93c5fd';
    const bw = plotW / bins;
    for (let b = 0; b < bins; b++) if (counts[b]) { const bh = Math.max(1, (counts[b] / max) * (h - 2)); ctx.fillRect(GUTTER + b * bw, top + h - bh, Math.max(1, bw - 0.3), bh); }
    if (violation >= 0) { ctx.fillStyle = C.violation; ctx.fillRect(miniX(TIME[violation]) - 1, top, 2.5, h); }
    const xa = Math.max(GUTTER, miniX(v0)), xb = Math.min(GUTTER + plotW, miniX(v1));
    ctx.fillStyle = 'rgba(37,99,235,0.12)'; ctx.fillRect(xa, top, Math.max(2, xb - xa), h);
    ctx.strokeStyle = '#2563eb'; ctx.lineWidth = 1.5; ctx.strokeRect(xa, top + 0.5, Math.max(2, xb - xa), h - 1);
  }

  // ---------------------------------------------------------------- view changes
  let frame = 0;
  const redraw = () => { if (!frame) frame = requestAnimationFrame(() => { frame = 0; draw(); }); };
  function setView(a, b) {
    const full = tEnd - tMin + 2 * pad;
    let span = Math.min(Math.max(b - a, 200), full);
    a = Math.max(tMin - pad, Math.min(a, tEnd + pad - span));
    v0 = a; v1 = a + span;
    redraw();
  }
  const zoomAround = (t, factor) => setView(t - (t - v0) * factor, t + (v1 - t) * factor);
  const fit = () => setView(tMin - pad, tEnd + pad);
  // Around the violation: from the earliest send among its last steps' messages, so the
  // stale message that caused it is in view.
  function violationWindow() {
    const t1 = TIME[violation];
    let t0 = t1;
    for (let i = violation; i >= 0 && STEP[i] >= STEP[violation] - 1; i--) if (KIND[i] === 'deliver' || KIND[i] === 'drop') t0 = Math.min(t0, AUX[i]);
    const span = Math.max(t1 - t0, (tEnd - tMin) * 0.03, 2e6);
    return [t1 - span * 1.08, t1 + span * 0.08];
  }
  function centreOn(rec) {
    const t = TIME[rec], a = KIND[rec] === 'deliver' || (KIND[rec] === 'drop' && arrowOfRec[rec] >= 0) ? Math.min(AUX[rec], t) : t;
    if (a >= v0 && t <= v1) return;
    const span = Math.max(v1 - v0, (t - a) * 1.3);
    setView((a + t) / 2 - span / 2, (a + t) / 2 + span / 2);
  }

  // ---------------------------------------------------------------- picking
  function distToSegment(px, py, x0, y0, x1, y1) {
    const dx = x1 - x0, dy = y1 - y0, len2 = dx * dx + dy * dy;
    let u = len2 ? ((px - x0) * dx + (py - y0) * dy) / len2 : 0;
    u = Math.max(0, Math.min(1, u));
    return Math.hypot(px - (x0 + u * dx), py - (y0 + u * dy));
  }
  function pick(mx, my) {
    if (mx < GUTTER || mx > GUTTER + plotW) return -1;
    if (my >= AXIS_H && my < lanesTop && groupOn.fault) { // the fault strip
      for (let n = faults.length - 1; n >= 0; n--) { const [x, y, w, h] = faultRect(faults[n]); if (mx >= x - 2 && mx <= x + w + 2 && my >= y && my <= y + h) return faults[n].rec; }
      return -1;
    }
    if (my < lanesTop || my > lanesBottom()) return -1;
    const k = plotW / (v1 - v0);
    let best = -1, bestD = 7;
    const mlo = lowerBound(MT, tOf(mx - 8)), mhi = upperBound(MT, tOf(mx + 8));
    for (let j = mlo; j < mhi; j++) {
      if (!groupOn[MARKER_GROUP[MTYPE[j]]]) continue;
      const y = laneY[MLANE[j]]; if (y < 0) continue;
      const d = Math.hypot(xOf(MT[j]) - mx, y - my);
      if (d < bestD) { bestD = d; best = MREC[j]; }
    }
    if (best >= 0) return best;
    bestD = 5;
    const [lo, hi] = visibleArrows();
    for (let j = lo; j < hi; j++) {
      if (AT0[j] > v1 || !groupOn[ARROW_STYLE[ASTYLE[j]].group]) continue;
      const g = arrowGeom(j); if (!g) continue;
      if (mx < Math.min(g[0], g[2]) - 5 || mx > Math.max(g[0], g[2]) + 5) continue;
      const d = distToSegment(mx, my, g[0], g[1], g[2], g[3]);
      if (d < bestD) { bestD = d; best = AREC[j]; }
    }
    if (best >= 0) return best;
    if (violation >= 0 && Math.abs(xOf(TIME[violation]) - mx) < 5) return violation;
    if (groupOn.fault) for (const i of healLines) if (Math.abs(xOf(TIME[i]) - mx) < 4) return i;
    void k;
    for (let l = 0; l < L; l++) { // the label band under the pointer
      const y = laneY[l];
      if (y < 0 || Math.abs(my - y) > bandH / 2 + 1) continue;
      if (groupOn.state) { const rec = labelAt(l, tOf(mx)); if (rec >= 0) return rec; }
    }
    return -1;
  }

  // ---------------------------------------------------------------- side panel
  const details = document.getElementById('details');
  function endpointText(id) { return id === NO_ENDPOINT ? '—' : laneNameOf(id); }
  function prettyDetail(text, kind) {
    if (kind === 'action') { try { return JSON.stringify(JSON.parse(text), null, 2); } catch (e) { return text; } }
    return text;
  }
  // Byte arrays in payloads (store values) are usually UTF-8 text: show it decoded as well.
  function decodedBytes(text) {
    const out = [];
    const re = /\[(\d{1,3}(?:, \d{1,3}){5,})\]/g; let m;
    while ((m = re.exec(text)) !== null) {
      const bytes = m[1].split(', ').map(Number);
      if (bytes.every((b) => b === 9 || b === 10 || (b >= 32 && b < 127))) out.push(String.fromCharCode.apply(null, bytes));
    }
    return out;
  }
  function field(table, name, value) {
    const td = el('td');
    if (value instanceof Node) td.appendChild(value); else td.textContent = value;
    table.appendChild(el('tr', null, [el('th', { text: name }), td]));
  }
  function recLink(rec, text) {
    const a = el('a', { href: '#', text: text || 'step ' + STEP[rec] });
    a.addEventListener('click', (e) => { e.preventDefault(); select(rec, true); });
    return a;
  }
  function showDetails() {
    details.textContent = '';
    if (selected < 0) {
      details.appendChild(el('h2', { text: 'Details' }));
      details.appendChild(el('p', { class: 'empty', text: 'Click an arrow, a marker, a label band or a fault to see its record.' }));
      return;
    }
    const i = selected, kind = KIND[i];
    details.appendChild(el('h2', { text: 'Record ' + (i + 1) + ' of ' + N }));
    details.appendChild(el('span', { class: 'kind-badge', text: kind.replace('_', ' '), style: 'background:' + (KIND_COLOR[kind] || '#64748b') }));
    const nav = el('div', { class: 'nav' });
    const prev = el('button', { text: '◀ prev (k)' }), next = el('button', { text: 'next (j) ▶' }), centre = el('button', { text: 'centre (c)' });
    prev.addEventListener('click', () => step(-1)); next.addEventListener('click', () => step(1));
    centre.addEventListener('click', () => centreOn(selected));
    nav.append(prev, next, centre); details.appendChild(nav);
    const t = el('table', { class: 'fields' });
    field(t, 'step', String(STEP[i]));
    field(t, 'time', fmtSeconds(TIME[i], 9) + '  (' + TIME[i] + ' ns)');
    const message = kind === 'deliver' || kind === 'drop';
    if (message) {
      field(t, 'from → to', endpointText(PEER[i]) + ' → ' + endpointText(NODE[i]));
      if (NODE[i] !== STORE) {
        field(t, 'sent at', fmtSeconds(AUX[i], 9));
        field(t, 'in flight', fmtDur(TIME[i] - AUX[i]));
      } else field(t, 'request', String(AUX[i]));
    } else if (kind === 'store_apply' || kind === 'store_reply') {
      field(t, 'requester', endpointText(NODE[i]));
      field(t, 'request', String(AUX[i]));
      const key = NODE[i] + ':' + AUX[i];
      const other = kind === 'store_apply' ? storeReplyOf.get(key) : storeApplyOf.get(key);
      if (other !== undefined) field(t, kind === 'store_apply' ? 'reply' : 'applied', recLink(other, 'step ' + STEP[other] + ' · ' + fmtDur(Math.abs(TIME[i] - TIME[other])) + (kind === 'store_apply' ? ' later' : ' earlier')));
    } else {
      field(t, 'node', endpointText(NODE[i]));
      if (PEER[i] !== NO_ENDPOINT) field(t, 'peer', endpointText(PEER[i]));
      if (kind === 'fault_begin' || kind === 'fault_end') {
        const f = faults.find((q) => q.rec === i || q.endRec === i);
        field(t, 'fault #', String(AUX[i]));
        if (f) {
          field(t, 'begins', recLink(f.rec, fmtSeconds(f.t0)));
          field(t, 'ends', f.endRec >= 0 ? recLink(f.endRec, fmtSeconds(f.t1)) : 'not before the end');
          field(t, 'lasts', fmtDur(f.t1 - f.t0));
        }
      } else if (kind === 'state') {
        const l = laneOf.get(NODE[i]), ts = BT[l], b = upperBound(ts, TIME[i]);
        field(t, 'until', b < ts.length ? recLink(BREC[l][b], fmtSeconds(ts[b]) + ' (' + fmtDur(ts[b] - TIME[i]) + ')') : 'the end of the run');
      } else if (kind !== 'violation' && kind !== 'heal_all' && kind !== 'action') field(t, 'aux', String(AUX[i]));
    }
    if (HASH[i] !== '0000000000000000') field(t, 'payload hash', HASH[i]);
    const lane = laneOf.get(NODE[i]);
    if (lane !== undefined && kind !== 'state') { const s = labelAt(lane, TIME[i]); if (s >= 0) field(t, endpointText(NODE[i]) + ' label', DETAIL[s]); }
    details.appendChild(t);
    if (kind === 'deliver' && dupOf[i] >= 0) details.appendChild(el('div', { class: 'note purple' }, ['Duplicate: the first copy was delivered at ', recLink(dupOf[i]), '.']));
    if (kind === 'deliver' && reordered[i]) details.appendChild(el('div', { class: 'note' }, ['Reordered: a message sent later on ' + endpointText(PEER[i]) + ' → ' + endpointText(NODE[i]) + ' arrived first.']));
    if (kind === 'drop') details.appendChild(el('div', { class: 'note red', text: DETAIL[i].endsWith('(in flight)') ? 'Lost in flight (partition, or the receiver was down).' : 'Dropped by the network when sent.' }));
    if (kind === 'store_reply' && isTimeoutReply(i)) details.appendChild(el('div', { class: 'note', text: 'A timeout: the requester gave up waiting; the store may or may not have applied it.' }));
    if (kind === 'store_apply') details.appendChild(el('div', { class: 'note', text: 'The trace records when a request reaches the store, not when it was sent: drawn as a vertical arrow.' }));
    if (kind === 'violation') details.appendChild(el('div', { class: 'note red', text: 'The run ended on this invariant violation.' }));
    details.appendChild(el('div', { class: 'section', text: 'detail' }));
    details.appendChild(el('pre', { class: 'detail', text: prettyDetail(DETAIL[i], kind) }));
    decodedBytes(DETAIL[i]).forEach((s) => {
      details.appendChild(el('div', { class: 'section', text: 'bytes as text' }));
      details.appendChild(el('pre', { class: 'detail', text: s }));
    });
    const same = [];
    for (let q = i - 1; q >= 0 && STEP[q] === STEP[i]; q--) same.unshift(q);
    for (let q = i + 1; q < N && STEP[q] === STEP[i]; q++) same.push(q);
    if (same.length) {
      details.appendChild(el('div', { class: 'section', text: kind === 'violation' ? 'in the violating step (messages highlighted)' : 'in the same step' }));
      const list = el('ul', { class: 'same-step' });
      same.slice(0, 16).forEach((q) => {
        const message = KIND[q] === 'deliver' || KIND[q] === 'drop';
        const who = message ? endpointText(PEER[q]) + ' → ' + endpointText(NODE[q]) : endpointText(NODE[q]);
        const sent = message && NODE[q] !== STORE ? ', sent ' + fmtDur(TIME[q] - AUX[q]) + ' earlier' : '';
        const text = DETAIL[q].length > 120 ? DETAIL[q].slice(0, 119) + '…' : DETAIL[q];
        list.appendChild(el('li', null, [recLink(q, KIND[q].replace('_', ' ')), ' ' + who + ': ', el('code', { text }), sent]));
      });
      if (same.length > 16) list.appendChild(el('li', { class: 'empty', text: '… and ' + (same.length - 16) + ' more' }));
      details.appendChild(list);
    }
  }
  function recordShown(i) {
    const g = groupOfKind[KIND[i]];
    if (g && !groupOn[g]) return false;
    const a = laneOf.get(NODE[i]), b = laneOf.get(PEER[i]);
    if (a !== undefined && !laneVisible[a]) return false;
    if (b !== undefined && !laneVisible[b]) return false;
    return true;
  }
  function step(dir) {
    let i = selected < 0 ? (dir > 0 ? lowerBoundRecord(v0) - 1 : upperBoundRecord(v1)) : selected;
    for (i += dir; i >= 0 && i < N; i += dir) if (recordShown(i)) { select(i, true); return; }
  }
  // Records are in trace order, which is time order.
  function lowerBoundRecord(t) { return lowerBound(TIME, t); }
  function upperBoundRecord(t) { return upperBound(TIME, t); }
  function select(rec, reveal) {
    selected = rec;
    if (rec >= 0 && reveal) centreOn(rec);
    showDetails(); redraw();
  }

  // ---------------------------------------------------------------- header, filters, legend
  function buildHeader() {
    document.getElementById('title').textContent = data.title;
    const nodes = laneIds.filter((id) => id !== STORE).length;
    document.getElementById('stats').textContent =
      N.toLocaleString('en-US') + ' records · ' + nodes + ' node' + (nodes === 1 ? '' : 's') +
      (laneOf.has(STORE) ? ' + store' : '') + ' · ' + fmtSeconds(tEnd - tMin, 3) + ' simulated' +
      (faults.length ? ' · ' + faults.length + ' fault' + (faults.length === 1 ? '' : 's') : '');
    const lanes = document.getElementById('lane-filters');
    laneIds.forEach((id, l) => {
      const box = el('input', { type: 'checkbox' }); box.checked = true;
      const chip = el('label', { class: 'chip', title: 'Show lane ' + laneNameOf(id) }, [box, laneNameOf(id)]);
      box.addEventListener('change', () => { laneVisible[l] = box.checked; chip.classList.toggle('off', !box.checked); layout(); redraw(); });
      lanes.appendChild(chip);
    });
    const counts = {};
    for (let i = 0; i < N; i++) { const g = groupOfKind[KIND[i]]; if (g) counts[g] = (counts[g] || 0) + 1; }
    const kinds = document.getElementById('kind-filters');
    GROUPS.forEach((g) => {
      if (!counts[g.id]) return;
      const box = el('input', { type: 'checkbox' }); box.checked = true;
      const chip = el('label', { class: 'chip' }, [box, el('span', { class: 'swatch', style: 'background:' + g.color }), g.name, el('span', { class: 'count', text: counts[g.id].toLocaleString('en-US') })]);
      box.addEventListener('change', () => { groupOn[g.id] = box.checked; chip.classList.toggle('off', !box.checked); redraw(); });
      kinds.appendChild(chip);
    });
    if (violation >= 0) {
      const banner = el('div', { id: 'violation', role: 'alert' }, [
        el('span', { class: 'what', text: '✖ Invariant violated' }),
        el('span', { class: 'text', text: DETAIL[violation] }),
        el('span', { class: 'when', text: 'at ' + fmtSeconds(TIME[violation]) + ', step ' + STEP[violation] }),
        el('span', { class: 'spacer' }),
      ]);
      const go = el('button', { text: 'Show the violation (v)' });
      go.addEventListener('click', () => { const w = violationWindow(); setView(w[0], w[1]); select(violation, false); });
      banner.appendChild(go);
      document.getElementById('banner').appendChild(banner);
    }
  }
  function legendIcon(drawIcon) {
    const dpr = window.devicePixelRatio || 1, c = document.createElement('canvas');
    c.width = 38 * dpr; c.height = 14 * dpr; c.style.width = '38px'; c.style.height = '14px';
    const g = c.getContext('2d'); g.scale(dpr, dpr); drawIcon(g); return c;
  }
  function buildLegend() {
    const legend = document.getElementById('legend');
    legend.appendChild(el('h2', { text: 'Legend' }));
    const line = (colour, dash, end) => (g) => {
      g.strokeStyle = colour; g.fillStyle = colour; g.lineWidth = 1.4; g.setLineDash(dash);
      g.beginPath(); g.moveTo(3, 11); g.lineTo(31, 3); g.stroke(); g.setLineDash([]);
      if (end === 'x') { g.beginPath(); g.moveTo(28, 0); g.lineTo(34, 6); g.moveTo(34, 0); g.lineTo(28, 6); g.lineWidth = 1.8; g.stroke(); }
      else { g.beginPath(); g.moveTo(33, 2.5); g.lineTo(26, 2.6); g.lineTo(28.5, 8); g.closePath(); g.fill(); }
    };
    const band = (fill) => (g) => { g.fillStyle = fill; g.fillRect(2, 3, 34, 8); };
    const items = [
      [line(C.deliver, []), 'message: sent on one lane, delivered on another'],
      [line(C.dup, [4, 2]), 'duplicate delivery of a message'],
      [line(C.reorder, []), 'reordered: overtaken by a later message'],
      [line(C.drop, [3, 2], 'x'), 'dropped message (× where it was lost)'],
      [line(C.store, []), 'store reply (requests: dotted, vertical)'],
      [(g) => { g.strokeStyle = C.timer; g.lineWidth = 1.4; g.beginPath(); g.moveTo(19, 3); g.lineTo(19, 11); g.stroke(); }, 'timer fired'],
      [(g) => { g.fillStyle = C.boot; g.beginPath(); g.moveTo(15, 1); g.lineTo(25, 7); g.lineTo(15, 13); g.fill(); g.strokeStyle = C.crash; g.lineWidth = 2.2; g.beginPath(); g.moveTo(28, 2); g.lineTo(36, 12); g.moveTo(36, 2); g.lineTo(28, 12); g.stroke(); }, 'boot / crash'],
      [(g) => { g.fillStyle = C.disk; g.fillRect(8, 4.5, 5, 5); g.fillStyle = C.action; g.beginPath(); g.moveTo(26, 2.5); g.lineTo(30.5, 7); g.lineTo(26, 11.5); g.lineTo(21.5, 7); g.fill(); }, 'disk sync / spec action'],
      [band(PALETTE[0][0]), 'node label (colour by text; long numbers ignored)'],
      [(g) => { g.fillStyle = PAT.down; g.fillRect(2, 2, 34, 10); }, 'node down (crashed)'],
      [(g) => { g.fillStyle = PAT.pause; g.fillRect(2, 2, 34, 10); }, 'node paused'],
      [(g) => { g.fillStyle = PAT.cut; g.fillRect(2, 0, 34, 14); }, 'partitioned side (lighter: other side)'],
      [(g) => { g.strokeStyle = C.jump; g.lineWidth = 2; g.beginPath(); g.moveTo(19, 1); g.lineTo(19, 13); g.moveTo(15, 1); g.lineTo(23, 1); g.stroke(); }, 'clock jump'],
      [(g) => { g.strokeStyle = C.violation; g.lineWidth = 2.5; g.beginPath(); g.moveTo(19, 0); g.lineTo(19, 14); g.stroke(); }, 'invariant violation'],
    ];
    items.forEach(([icon, text]) => legend.appendChild(el('div', { class: 'legend-item' }, [legendIcon(icon), text])));
    legend.appendChild(el('div', { class: 'keys' }));
    const keys = legend.lastChild;
    [['wheel', 'zoom'], ['drag', 'pan'], ['click', 'details'], ['j / k', 'next / previous record'], ['+ / −', 'zoom'], ['← / →', 'pan'], ['0', 'whole run'], ['v', 'violation'], ['Esc', 'clear']]
      .forEach(([k, what], n) => { if (n) keys.appendChild(document.createTextNode(' · ')); keys.appendChild(el('kbd', { text: k })); keys.appendChild(document.createTextNode(' ' + what)); });
  }

  // ---------------------------------------------------------------- input
  let drag = null;
  canvas.addEventListener('wheel', (e) => {
    e.preventDefault();
    const unit = e.deltaMode === 1 ? 16 : e.deltaMode === 2 ? 400 : 1;
    const dx = e.deltaX * unit, dy = e.deltaY * unit;
    if (Math.abs(dx) > Math.abs(dy) || e.shiftKey) { const d = (Math.abs(dx) > Math.abs(dy) ? dx : dy) * ((v1 - v0) / plotW); setView(v0 + d, v1 + d); return; }
    const rect = canvas.getBoundingClientRect(), x = e.clientX - rect.left;
    const inMini = e.clientY - rect.top > H - MINI_H;
    zoomAround(inMini ? (v0 + v1) / 2 : tOf(Math.max(GUTTER, Math.min(GUTTER + plotW, x))), Math.exp(dy * 0.0018));
  }, { passive: false });
  canvas.addEventListener('pointerdown', (e) => {
    const rect = canvas.getBoundingClientRect(), x = e.clientX - rect.left, y = e.clientY - rect.top;
    canvas.setPointerCapture(e.pointerId);
    const mini = y > H - MINI_H - 4;
    drag = { x, y, v0, v1, moved: false, mini };
    if (mini) { const t = miniT(x), span = v1 - v0; setView(t - span / 2, t + span / 2); }
    canvas.classList.add('dragging');
  });
  canvas.addEventListener('pointermove', (e) => {
    const rect = canvas.getBoundingClientRect(), x = e.clientX - rect.left, y = e.clientY - rect.top;
    if (drag) {
      if (Math.abs(x - drag.x) + Math.abs(y - drag.y) > 3) drag.moved = true;
      if (drag.mini) { const t = miniT(x), span = v1 - v0; setView(t - span / 2, t + span / 2); }
      else if (drag.moved) { const d = (x - drag.x) * ((drag.v1 - drag.v0) / plotW); setView(drag.v0 - d, drag.v1 - d); }
      tooltip.hidden = true;
      return;
    }
    hover(x, y);
  });
  canvas.addEventListener('pointerup', (e) => {
    canvas.classList.remove('dragging');
    if (drag && !drag.moved && !drag.mini) { const rect = canvas.getBoundingClientRect(); select(pick(e.clientX - rect.left, e.clientY - rect.top), false); }
    drag = null;
  });
  canvas.addEventListener('pointerleave', () => { tooltip.hidden = true; if (hovered >= 0) { hovered = -1; redraw(); } });
  canvas.addEventListener('dblclick', (e) => { const rect = canvas.getBoundingClientRect(); zoomAround(tOf(e.clientX - rect.left), 0.4); });
  function hover(x, y) {
    const rec = pick(x, y);
    canvas.classList.toggle('over', rec >= 0);
    if (rec !== hovered) { hovered = rec; redraw(); }
    if (rec < 0) { tooltip.hidden = true; return; }
    const kind = KIND[rec], message = kind === 'deliver' || kind === 'drop';
    const who = message ? endpointText(PEER[rec]) + ' → ' + endpointText(NODE[rec]) : endpointText(NODE[rec]);
    tooltip.textContent = '';
    tooltip.append(el('b', { text: kind.replace('_', ' ') }), ' ' + who + ' ', el('span', { class: 'dim', text: fmtSeconds(TIME[rec]) }), ' · ' + DETAIL[rec].slice(0, 140));
    tooltip.hidden = false;
    const tw = tooltip.offsetWidth;
    tooltip.style.left = Math.max(4, Math.min(x + 14, W - tw - 4)) + 'px';
    tooltip.style.top = (y + 18 > H - 40 ? y - 34 : y + 18) + 'px';
  }
  window.addEventListener('keydown', (e) => {
    if (e.target instanceof HTMLInputElement || e.ctrlKey || e.metaKey || e.altKey) return;
    const span = v1 - v0, mid = (v0 + v1) / 2;
    const keys = {
      '+': () => zoomAround(mid, 0.6), '=': () => zoomAround(mid, 0.6), '-': () => zoomAround(mid, 1 / 0.6),
      ArrowLeft: () => setView(v0 - span * 0.2, v1 - span * 0.2), ArrowRight: () => setView(v0 + span * 0.2, v1 + span * 0.2),
      0: fit, f: fit, j: () => step(1), k: () => step(-1), c: () => { if (selected >= 0) centreOn(selected); },
      Escape: () => select(-1, false),
      v: () => { if (violation >= 0) { const w = violationWindow(); setView(w[0], w[1]); select(violation, false); } },
    };
    const action = keys[e.key];
    if (action) { e.preventDefault(); action(); }
  });
  document.getElementById('fit').addEventListener('click', fit);
  document.getElementById('zoom-in').addEventListener('click', () => zoomAround((v0 + v1) / 2, 0.6));
  document.getElementById('zoom-out').addEventListener('click', () => zoomAround((v0 + v1) / 2, 1 / 0.6));
  window.addEventListener('resize', () => { layout(); redraw(); });

  // ---------------------------------------------------------------- start
  buildHeader();
  buildLegend();
  layout();
  // A failing run opens on the violation; `#t=A,B` (seconds) or `#all` choose the window.
  const hash = decodeURIComponent(location.hash.slice(1));
  const m = hash.match(/^t=([\d.]+),([\d.]+)/);
  if (m) setView(Number(m[1]) * 1e9, Number(m[2]) * 1e9);
  else if (violation >= 0 && !/\ball\b/.test(hash)) { const w = violationWindow(); setView(w[0], w[1]); selected = violation; }
  else fit();
  if (frame) { cancelAnimationFrame(frame); frame = 0; }
  draw();
  showDetails();
  const body = document.body;
  body.dataset.lanes = String(laneVisible.filter(Boolean).length);
  body.dataset.events = String(N);
  body.dataset.violation = violation >= 0 ? '1' : '0';
  body.dataset.renderMs = (performance.now() - startedAt).toFixed(1);
  // `#bench`: time redraws over a range of zoom levels, for the tests' 100,000-event check.
  // Zoomed-in redraws must not pay for the whole trace: that is what the culling is for.
  if (/\bbench\b/.test(hash)) {
    const full = tEnd - tMin, wide = [], zoomed = [];
    [1, 0.5, 0.2, 0.05, 0.01, 0.002, 0.0005].forEach((f) => {
      for (let r = 0; r < 3; r++) {
        const a = tMin + (full - full * f) * (r / 2);
        v0 = a; v1 = a + full * f;
        const t0 = performance.now(); draw();
        (f > 0.01 ? wide : zoomed).push(performance.now() - t0);
      }
    });
    const max = (a) => Math.max.apply(null, a).toFixed(1);
    body.dataset.redrawWideMs = max(wide);
    body.dataset.redrawZoomedMs = max(zoomed);
    fit(); if (frame) { cancelAnimationFrame(frame); frame = 0; } draw();
  }
})();
