/* Cutover dashboard: plain JS, uPlot for charts. Every data call carries the API key typed in. */
(() => {
  'use strict';
  const KEY_STORE = 'cutover.apiKey';
  const ROLE_RANK = { evaluator: 0, viewer: 1, operator: 2, admin: 3 };
  const MAX_POINTS = 3000;
  const $ = (id) => document.getElementById(id);

  const state = { key: null, role: null, campaign: null, progress: null, stream: null, charts: null, series: null, listTimer: null, whySig: null };

  class ApiError extends Error {
    constructor(status, body) {
      super((body && body.message) || `HTTP ${status}`);
      this.status = status;
      this.code = (body && body.code) || `http.${status}`;
    }
  }

  async function api(method, path, opts = {}) {
    const headers = { accept: 'application/json', authorization: `Bearer ${state.key}`, ...(opts.headers || {}) };
    let body;
    if (opts.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(opts.body);
    }
    const res = await fetch(path, { method, headers, body });
    const text = await res.text();
    let parsed;
    try { parsed = text ? JSON.parse(text) : undefined; } catch { parsed = { message: text }; }
    if (!res.ok) throw new ApiError(res.status, parsed);
    return { body: parsed, headers: res.headers };
  }

  // ---------- formatting (format.js)
  const F = window.CutoverFormat;
  const fmtN = F.count;
  const fmtPct = F.percent;
  const fmtRate = F.rate;
  const fmtDuration = F.duration;
  const ppmPct = F.ppm;
  /** A time in the reader's zone, the ISO form on hover. */
  function timeEl(iso) {
    const t = F.time(iso);
    return el('time', { datetime: t.iso, title: t.iso, text: t.text });
  }
  function el(tag, attrs = {}, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (k === 'class') e.className = v;
      else if (k === 'text') e.textContent = v;
      else e.setAttribute(k, v);
    }
    for (const c of children) e.append(c);
    return e;
  }
  const setText = (id, text) => { $(id).textContent = text; };

  // ---------- session
  async function signIn(key) {
    state.key = key;
    try {
      const me = (await api('GET', '/api/v1/keys/me')).body;
      state.role = me.role;
      sessionStorage.setItem(KEY_STORE, key);
      $('whoami').textContent = `${me.name} · ${me.role}`;
      $('signin').hidden = true;
      $('session').hidden = false;
      $('app').hidden = false;
      await loadCampaigns();
      clearInterval(state.listTimer);
      state.listTimer = setInterval(() => loadCampaigns().catch(() => undefined), 10000);
      await route();
    } catch (err) {
      state.key = null;
      sessionStorage.removeItem(KEY_STORE);
      $('signin-error').textContent = err.status === 401 ? 'That key is unknown or revoked.' : `Sign-in failed: ${err.message}`;
    }
  }

  function signOut() {
    sessionStorage.removeItem(KEY_STORE);
    stopStream();
    clearInterval(state.listTimer);
    Object.assign(state, { key: null, role: null, campaign: null });
    $('app').hidden = true;
    $('session').hidden = true;
    $('signin').hidden = false;
    $('apikey').value = '';
  }

  const can = (role) => ROLE_RANK[state.role] >= ROLE_RANK[role];

  // ---------- campaigns list
  async function loadCampaigns() {
    const { items } = (await api('GET', '/api/v1/progress/campaigns?limit=100')).body;
    const list = $('campaign-list');
    list.replaceChildren(
      ...items.map((c) => {
        const a = el('a', { href: `#/campaigns/${encodeURIComponent(c.key)}`, 'data-key': c.key },
          el('div', { text: c.name }),
          el('div', { class: 'meta' }, el('span', { class: `badge ${c.status}`, text: c.status }), el('span', { class: 'share', text: fmtPct(c.enabledShare) })));
        if (state.campaign && state.campaign.key === c.key) a.classList.add('selected');
        return el('li', {}, a);
      }),
    );
    if (items.length === 0) list.replaceChildren(el('li', { class: 'muted', text: 'No campaigns yet.' }));
  }

  async function route() {
    const m = /^#\/campaigns\/(.+)$/.exec(location.hash);
    if (!m || !state.key) return;
    await openCampaign(decodeURIComponent(m[1]));
  }

  // ---------- one campaign
  async function openCampaign(ref) {
    stopStream();
    let p;
    try {
      p = (await api('GET', `/api/v1/campaigns/${encodeURIComponent(ref)}/progress`)).body;
    } catch (err) {
      $('empty').textContent = `Cannot open campaign ${ref}: ${err.message}`;
      $('empty').hidden = false;
      $('campaign').hidden = true;
      return;
    }
    state.campaign = { id: p.campaign.id, key: p.campaign.key };
    $('empty').hidden = true;
    $('campaign').hidden = false;
    $('lookup-result').replaceChildren();
    $('control-result').textContent = '';
    for (const a of document.querySelectorAll('#campaign-list a')) a.classList.toggle('selected', a.dataset.key === p.campaign.key);
    render(p);
    await loadHistory(p);
    loadAudit().catch(() => undefined);
    startStream(p.campaign.key);
  }

  function render(p) {
    const previous = state.progress;
    state.progress = p;
    if (previous && previous.campaign.key === p.campaign.key && previous.campaign.version !== p.campaign.version) {
      loadAudit().catch(() => undefined);
    }
    const c = p.campaign;
    setText('c-name', c.name);
    setText('c-key', c.key);
    setText('c-id', c.id);
    const badge = $('c-status');
    badge.textContent = c.status;
    badge.className = `badge ${c.status}`;
    renderTiles(p);
    renderBars(p);
    renderRamp(p);
    renderGuardrails(p);
    renderControls(p);
    renderListEntry(p);
    refreshWhy(p);
  }

  /**
   * The campaign explanation (GET …/explain), read again only when the status, the step or the
   * ramp's reason to wait changes. A hold counts down in the ramp note instead.
   */
  function refreshWhy(p) {
    const wait = (p.guardrails.state || {}).rampWait;
    const holding = p.campaign.status === 'running' && wait && wait.reason === 'hold';
    const sig = `${p.campaign.key}|${p.campaign.status}|${p.ramp.currentStep}|${wait ? wait.reason : ''}|${wait && !holding ? wait.detail : ''}`;
    if (sig === state.whySig) return;
    state.whySig = sig;
    if (holding) return setText('campaign-why', '');
    api('GET', `/api/v1/campaigns/${encodeURIComponent(p.campaign.key)}/explain`)
      .then((r) => { if (state.whySig === sig) setText('campaign-why', r.body.why); })
      .catch(() => undefined);
  }

  /** The open campaign's entry in the list follows the stream (the list itself reloads every 10 s). */
  function renderListEntry(p) {
    const a = document.querySelector(`#campaign-list a[data-key="${CSS.escape(p.campaign.key)}"]`);
    if (!a) return;
    const badge = a.querySelector('.badge');
    badge.textContent = p.campaign.status;
    badge.className = `badge ${p.campaign.status}`;
    a.querySelector('.share').textContent = fmtPct(p.enabledShare);
  }

  const RATE_SOURCE = { ramp_throughput: 'achieved by the ramp', pace: 'adaptive pace', max_pace: 'configured maximum' };

  /** Nothing moves in these states, so a rate or an ETA would describe the past as if it were the future. */
  const STILL = { draft: 'not started', paused: 'paused', halted: 'halted' };

  function renderTiles(p) {
    const still = STILL[p.campaign.status];
    setText('t-enabled', fmtN(p.counts.enabled));
    setText('t-share', `${fmtPct(p.enabledShare)} of ${fmtN(Math.max(p.counts.total, p.campaign.populationSize))}`);
    setText('t-tput', still ? '—' : fmtRate(p.throughput.perSecond1m));
    setText('t-tput5', still ? `${still}: nothing moves` : `5 min: ${fmtRate(p.throughput.perSecond5m)}`);
    setText('t-eta', still ? '—' : p.eta.seconds === 0 ? 'done' : p.eta.seconds === null ? '—' : fmtDuration(p.eta.seconds));
    const r = p.eta.rate;
    const pace = r ? ` · at ${fmtRate(r.usersPerSecond)} (${RATE_SOURCE[r.source] || r.source})` : p.eta.reason === 'no_pace' ? ' · no pace yet' : '';
    setText('t-remaining', still ? `${still}: ${fmtN(p.eta.remainingUsers)} to go` : `${fmtN(p.eta.remainingUsers)} to go${pace}`);
    const conv = p.conversations;
    setText('t-conv', conv ? `${fmtPct(conv.oneToOne)} of 1:1` : '—');
    setText('t-conv-groups', conv ? `groups of ${conv.groups.map((g) => `${g.participants}: ${fmtPct(g.share)}`).join(', ')} · estimate p^k` : '');
    setText('t-fail', fmtPct(p.failures.ratio));
    setText('t-fail5', `5 min: ${fmtPct(p.failures.recentRatio5m)} · ${fmtN(p.failures.recentBackendErrors5m)} backend errors`);
    setText('t-backlog', `${fmtN(p.backlog.batches)} batches`);
    setText('t-oldest', p.backlog.oldestQueuedAgeSeconds === null ? 'nothing queued' : `oldest ${fmtDuration(p.backlog.oldestQueuedAgeSeconds)}`);
    setText('t-pace', p.pace.usersPerSecond ? `${fmtN(p.pace.usersPerSecond)}/s` : '—');
    const limit = p.pace.maxUsersPerSecond ? `limit ${fmtN(p.pace.maxUsersPerSecond)}/s · ` : '';
    setText('t-admitted', `${limit}admits ${ppmPct(p.admission.admittedPpm)} · ~${fmtN(p.admission.admittedUsers)} users`);
  }

  /** One bar per state, each the state's share of all the campaign's users. */
  function renderBars(p) {
    const total = Math.max(1, p.counts.total);
    // the states and their order come from the API (its counts object), declared once on the server
    const states = Object.keys(p.counts).filter((k) => k !== 'total');
    $('bars').replaceChildren(
      ...states.map((s) => {
        const share = p.counts[s] / total;
        const fill = el('div', { class: 'fill' });
        fill.style.width = `${100 * share}%`;
        return el('div', { class: `bar ${s}`, 'data-state': s },
          el('span', { text: s }), el('div', { class: 'track' }, fill),
          el('span', { class: 'n', 'data-testid': `count-${s}`, text: fmtN(p.counts[s]) }),
          el('span', { class: 'share', 'data-testid': `share-${s}`, text: fmtPct(share) }));
      }),
    );
  }

  function renderRamp(p) {
    const r = p.ramp;
    $('ramp-body').replaceChildren(
      ...r.steps.map((s, i) => {
        const tr = el('tr', { class: i === r.currentStep ? 'current' : i < r.currentStep ? 'done' : '' },
          el('td', { text: String(i + 1) }), el('td', { text: ppmPct(s.ppm) }), el('td', { text: F.hold(s.holdMinutes) }),
          el('td', { text: s.requiresApproval ? (r.approvedStep >= i ? 'approved' : 'required') : '—' }),
          el('td', { text: s.minCapablePercent ? `≥ ${s.minCapablePercent}% capable` : '—' }),
          el('td', { text: [i === r.currentStep ? 'current' : '', s.pointOfNoReturn ? 'point of no return' : ''].filter(Boolean).join(' · ') }));
        return tr;
      }),
    );
    const n = r.steps.length;
    let note = n === 0 ? 'No ramp plan.' : r.currentStep < 0 ? 'The ramp has not started.' : `At ${F.step(r.currentStep, n)}.`;
    if (r.holdRemainingSeconds !== null && r.currentStep >= 0) {
      const at = F.step(r.currentStep, n);
      note = r.holdRemainingSeconds > 0 ? `Holding ${at}: ${fmtDuration(r.holdRemainingSeconds)} left.` : `The hold of ${at} is over.`;
    }
    if (r.awaitingApproval) note += ` ${F.step(r.currentStep + 1, n).replace(/^s/, 'S')} awaits approval.`;
    const wait = (p.guardrails.state || {}).rampWait;
    if (wait && wait.reason === 'capability_floor') note += ` Held by a capability floor: ${wait.detail}.`;
    if (p.campaign.status === 'completed') note = 'Completed: enabled users stay enabled; nobody new is admitted.';
    setText('ramp-note', note);
  }

  function metricText(r) {
    return r.metric === 'prometheus' ? `prometheus ${r.query || ''}` : r.metric;
  }

  function tripText(t) {
    const measured = t.value !== undefined && t.threshold !== undefined ? ` ${t.value} ${t.comparison === 'below' ? '<' : '>'} ${t.threshold}` : '';
    const over = t.windowSeconds ? ` over ${fmtDuration(t.windowSeconds)}` : '';
    return `${metricText(t)}${measured}${over}${t.action ? ` → ${t.action}` : ''}`;
  }

  /** External rules (Prometheus, database health) show their last reading: value, no data, or the read error. */
  function lastReading(m) {
    if (!m || !m.status) return '';
    if (m.status === 'ok') return ` · last ${m.value}${m.samples !== undefined ? ` (${m.samples} samples)` : ''}`;
    if (m.status === 'no_data') return ' · last: no data';
    return ` · unreadable: ${m.error || 'error'}`;
  }

  /** Why the ramp controller is not advancing, in the page's own step numbers and durations. */
  function rampWaitText(wait, ramp) {
    const n = ramp.steps.length;
    switch (wait.reason) {
      case 'hold': return `${F.step(ramp.currentStep, n)} holds for ${fmtDuration(ramp.holdRemainingSeconds)} more`;
      case 'approval': return `${F.step(ramp.currentStep + 1, n)} requires approval`;
      case 'final_step': return `${F.step(ramp.currentStep, n)} is the last step`;
      case 'capability_floor': return `capability floor: ${wait.detail}`;
      default: return wait.detail;
    }
  }

  function renderGuardrails(p) {
    const g = p.guardrails.state || {};
    const trips = Array.isArray(g.trips) ? g.trips : [];
    const status = $('guard-status');
    const parts = [];
    const failures = Array.isArray(g.failures) ? g.failures : [];
    const failureText = (f) => `${metricText(f)} unreadable (${f.error}) → ${f.outcome === 'hold' ? 'held' : 'ignored'}`;
    if (trips.length > 0 || g.healthy === false) {
      status.className = g.verdict === 'hold' ? 'warn' : 'bad';
      const what = [...trips.map(tripText), ...failures.filter((f) => f.outcome === 'hold').map(failureText)];
      parts.push(`${g.verdict === 'hold' ? 'Held' : 'Tripped'}${g.throttled ? ' (throttled)' : ''}: ${what.join('; ') || g.verdict || 'see rules'}`);
    } else if (g.throttled) {
      status.className = 'warn';
      parts.push('Throttled');
    } else {
      status.className = 'ok';
      parts.push(g.healthy === true ? 'Healthy' : 'No evaluation yet');
    }
    if (g.rampWait && g.rampWait.detail) parts.push(`ramp waits: ${rampWaitText(g.rampWait, p.ramp)}`);
    status.replaceChildren(parts.join(' · '), ...(g.evaluatedAt ? [' · checked ', timeEl(g.evaluatedAt)] : []));
    const rules = Array.isArray(p.guardrails.rules) ? p.guardrails.rules : [];
    const measured = Array.isArray(g.measured) ? g.measured : [];
    const readingOf = (r) => measured.find((m) => m.metric === r.metric && m.windowSeconds === r.windowSeconds && (m.query || '') === (r.query || ''));
    const ruleText = (r) => `${metricText(r)} ${r.comparison === 'below' ? '<' : '>'} ${r.threshold} over ${fmtDuration(r.windowSeconds)} → ${r.action}${lastReading(readingOf(r))}`;
    $('guard-rules').replaceChildren(...rules.map((r) => el('li', { text: ruleText(r) })));
    const rec = p.recovery;
    $('recovery').replaceChildren(
      el('li', { text: `${fmtPct(rec.adoption)} of enabled users set a method; ${fmtN(rec.prompted)} prompted` }),
      ...Object.entries(rec.byMethod).map(([m, n]) => el('li', { text: `${m.replace('_', ' ')}: ${fmtN(n)}` })),
    );
    const h = p.halt;
    $('halt-info').replaceChildren(...(h.haltedAt
      ? [timeEl(h.haltedAt), ` — ${h.reason || 'no reason'}; halt to last commit: ${h.haltToLastCommitMs === null ? 'measuring…' : `${fmtN(h.haltToLastCommitMs)} ms`}`]
      : ['Never halted.']));
  }

  const ACTION_FROM = {
    pause: ['running'], resume: ['paused', 'halted'], promote: ['running'], approve: ['running', 'paused'], halt: ['running', 'paused'],
    complete: ['running', 'paused', 'halted'],
  };

  function renderControls(p) {
    const box = $('controls');
    box.hidden = !can('operator');
    if (box.hidden) return;
    for (const b of box.querySelectorAll('button[data-action]')) {
      const allowed = can(b.dataset.role || 'operator');
      b.hidden = !allowed;
      // promote and approve act on the next step; at the last one there is none
      const noNextStep = (b.dataset.action === 'promote' || b.dataset.action === 'approve') && p.ramp.currentStep >= p.ramp.steps.length - 1;
      b.disabled = !ACTION_FROM[b.dataset.action].includes(p.campaign.status) || noNextStep;
    }
  }

  // ---------- live stream (fetch streaming: EventSource cannot send Authorization)
  function stopStream() {
    if (state.stream) state.stream.abort();
    state.stream = null;
  }

  function startStream(ref) {
    const ctrl = new AbortController();
    state.stream = ctrl;
    const live = $('c-live');
    const run = async () => {
      while (!ctrl.signal.aborted) {
        try {
          const res = await fetch(`/api/v1/campaigns/${encodeURIComponent(ref)}/progress/stream`, {
            headers: { authorization: `Bearer ${state.key}`, accept: 'text/event-stream' }, signal: ctrl.signal,
          });
          if (!res.ok) throw new ApiError(res.status, await res.json().catch(() => undefined));
          live.textContent = 'live';
          live.className = 'ok';
          await readSse(res.body, (event, data) => {
            if (event === 'progress' && state.campaign && data.campaign.key === state.campaign.key) {
              render(data);
              appendPoint(data);
            }
          });
        } catch (err) {
          if (ctrl.signal.aborted) return;
          live.textContent = `reconnecting (${err.message})`;
          live.className = 'warn';
        }
        await new Promise((r) => setTimeout(r, 3000));
      }
    };
    run();
  }

  async function readSse(body, onEvent) {
    const reader = body.getReader();
    const decoder = new TextDecoder();
    let buf = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buf += decoder.decode(value, { stream: true });
      let i;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const chunk = buf.slice(0, i);
        buf = buf.slice(i + 2);
        let event = 'message';
        const data = [];
        for (const line of chunk.split('\n')) {
          if (line.startsWith('event: ')) event = line.slice(7);
          else if (line.startsWith('data: ')) data.push(line.slice(6));
        }
        if (data.length) onEvent(event, JSON.parse(data.join('\n')));
      }
    }
  }

  // ---------- charts (charts.js)
  const chart = (target, label, stroke) => window.CutoverCharts.create(target, label, stroke);

  async function loadHistory(p) {
    const since = new Date(Date.now() - 6 * 3600 * 1000).toISOString();
    let points = [];
    try {
      points = (await api('GET', `/api/v1/campaigns/${encodeURIComponent(p.campaign.key)}/progress/history?since=${since}`)).body.points;
    } catch { /* charts start empty; the stream fills them */ }
    state.series = { t: [], enabled: [], failed: [], tput: [] };
    for (const x of points) pushPoint(Date.parse(x.at) / 1000, x.counts.enabled, x.counts.failed, x.throughputPerSecond);
    pushPoint(Date.parse(p.at) / 1000, p.counts.enabled, p.counts.failed, p.throughput.perSecond1m || 0);
    if (!state.charts) {
      state.charts = {
        enabled: chart($('chart-enabled'), 'enabled', '#1d8a4e'),
        failed: chart($('chart-failed'), 'failed', '#c8322b'),
        tput: chart($('chart-tput'), 'users/s', '#2f6fed'),
      };
    }
    redrawCharts();
  }

  function pushPoint(t, enabled, failed, tput) {
    const s = state.series;
    if (s.t.length && t <= s.t[s.t.length - 1]) return;
    s.t.push(t); s.enabled.push(enabled); s.failed.push(failed); s.tput.push(tput);
    if (s.t.length > MAX_POINTS) for (const k of Object.keys(s)) s[k].shift();
  }

  function appendPoint(p) {
    if (!state.series) return;
    pushPoint(Date.parse(p.at) / 1000, p.counts.enabled, p.counts.failed, p.throughput.perSecond1m || 0);
    redrawCharts();
  }

  function redrawCharts() {
    const s = state.series;
    state.charts.enabled.setData([s.t, s.enabled]);
    state.charts.failed.setData([s.t, s.failed]);
    state.charts.tput.setData([s.t, s.tput]);
  }

  // ---------- audit trail
  async function loadAudit() {
    const items = (await api('GET', `/api/v1/audit?entityType=campaign&entityId=${encodeURIComponent(state.campaign.id)}&limit=50`)).body.items;
    $('audit').replaceChildren(
      ...items.map((e) => el('li', {},
        el('strong', { text: e.action }), ` by ${e.actor.name} (${e.actor.role}) `, el('span', { class: 'muted' }, timeEl(e.at)),
        ...(e.reason ? [el('div', { class: 'muted', text: `“${e.reason}”` })] : []))),
    );
    if (items.length === 0) $('audit').replaceChildren(el('li', { class: 'muted', text: 'No audit events yet.' }));
  }

  // ---------- controls
  async function act(action, body) {
    const out = $('control-result');
    out.className = 'result';
    out.textContent = `${action}…`;
    try {
      const ref = encodeURIComponent(state.campaign.id);
      const current = await api('GET', `/api/v1/campaigns/${ref}`);
      const etag = current.headers.get('etag') || `"${current.body.version}"`;
      const res = await api('POST', `/api/v1/campaigns/${ref}/${action}`, { body: body || {}, headers: { 'if-match': etag } });
      out.textContent = `${action}: done — campaign is ${res.body.status || 'updated'}`;
      const p = (await api('GET', `/api/v1/campaigns/${ref}/progress`)).body;
      render(p);
      await Promise.all([loadAudit(), loadCampaigns()]);
      return true;
    } catch (err) {
      out.className = 'result error';
      out.textContent = err.status === 404 && err.code === 'http.not_found'
        ? `${action} is not available on this server yet.`
        : `${action} failed: ${err.message}`;
      return false;
    }
  }

  /** Halt and complete ask for the campaign key and a reason: `kind` is the prefix of the dialog's element ids. */
  function openConfirmDialog(kind) {
    $(`${kind}-key-hint`).textContent = state.campaign.key;
    $(`${kind}-key`).value = '';
    $(`${kind}-reason`).value = '';
    $(`${kind}-error`).textContent = '';
    $(`${kind}-confirm`).disabled = true;
    $(`${kind}-dialog`).showModal();
  }

  function confirmReady(kind) {
    $(`${kind}-confirm`).disabled = !($(`${kind}-key`).value.trim() === state.campaign.key && $(`${kind}-reason`).value.trim().length >= 3);
  }

  function wireConfirmDialog(kind) {
    $(`${kind}-key`).addEventListener('input', () => confirmReady(kind));
    $(`${kind}-reason`).addEventListener('input', () => confirmReady(kind));
    $(`${kind}-cancel`).addEventListener('click', () => $(`${kind}-dialog`).close());
    $(`${kind}-form`).addEventListener('submit', async (e) => {
      e.preventDefault();
      if ($(`${kind}-confirm`).disabled) return;
      $(`${kind}-confirm`).disabled = true;
      const ok = await act(kind, { reason: $(`${kind}-reason`).value.trim() });
      if (ok) $(`${kind}-dialog`).close();
      else { $(`${kind}-error`).textContent = $('control-result').textContent; confirmReady(kind); }
    });
  }

  // ---------- user lookup
  async function explainUser(userId) {
    const out = $('lookup-result');
    if (!/^[1-9][0-9]{0,18}$/.test(userId)) {
      out.replaceChildren(el('p', { class: 'error', text: 'A user id is a positive integer.' }));
      return;
    }
    try {
      const u = (await api('GET', `/api/v1/campaigns/${encodeURIComponent(state.campaign.id)}/users/${userId}`)).body;
      const facts = ['state', 'bucket', 'admittedByCurrentStep', 'reason', 'attempts', 'lastError', 'enrolledBy', 'flagVersion', 'admittedAt', 'enabledAt', 'updatedAt', 'recoveryState', 'recoveryMethod']
        .filter((k) => k in u)
        .map((k) => [k, u[k]]);
      const nested = Object.entries(u).filter(([, v]) => v && typeof v === 'object');
      const value = (k, v) => (v === null || v === undefined ? '—' : /At$/.test(k) ? timeEl(v) : String(v));
      out.replaceChildren(
        el('p', { class: 'why', 'data-testid': 'lookup-why', text: u.why || '' }),
        el('dl', {}, ...facts.flatMap(([k, v]) => [el('dt', { text: k }), el('dd', {}, value(k, v))])),
        ...nested.map(([k, v]) => el('details', {}, el('summary', { text: k }), el('pre', { text: JSON.stringify(v, null, 2) }))),
      );
    } catch (err) {
      const text = err.status === 404 && err.code === 'http.not_found'
        ? 'The user lookup is not available on this server yet (it comes with the ramp feature).'
        : err.status === 404 ? `User ${userId} is not part of this campaign (${err.message}).` : `Lookup failed: ${err.message}`;
      out.replaceChildren(el('p', { class: 'error', text }));
    }
  }

  // ---------- wiring
  document.addEventListener('DOMContentLoaded', () => {
    $('signin-form').addEventListener('submit', (e) => { e.preventDefault(); $('signin-error').textContent = ''; signIn($('apikey').value.trim()); });
    $('signout').addEventListener('click', signOut);
    window.addEventListener('hashchange', () => { route(); });
    for (const b of document.querySelectorAll('#controls button[data-action]')) {
      const confirm = b.dataset.action === 'halt' || b.dataset.action === 'complete';
      b.addEventListener('click', () => (confirm ? openConfirmDialog(b.dataset.action) : act(b.dataset.action)));
    }
    wireConfirmDialog('halt');
    wireConfirmDialog('complete');
    $('lookup-form').addEventListener('submit', (e) => { e.preventDefault(); explainUser($('lookup-user').value.trim()); });
    const saved = sessionStorage.getItem(KEY_STORE);
    if (saved) signIn(saved);
  });
})();
