/* Cutover dashboard: the time-series charts (uPlot) with axis labels that fit. */
(function () {
  'use strict';
  const F = window.CutoverFormat;
  const FONT = '11px system-ui, sans-serif';
  const TICK_PX = 10;
  const GAP_PX = 5;
  /** room right of the plot for half of the last time label */
  const RIGHT_PAD_PX = 32;

  const FORMATS = {
    day: new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric' }),
    minute: new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }),
    second: new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' }),
  };

  /** One short label per tick: seconds only when ticks are less than a minute apart. */
  function timeLabels(splits, incrSeconds) {
    const f = incrSeconds >= 86400 ? FORMATS.day : incrSeconds >= 60 ? FORMATS.minute : FORMATS.second;
    return splits.map((t) => f.format(new Date(t * 1000)));
  }

  const measure = document.createElement('canvas').getContext('2d');
  function textWidth(text) {
    measure.font = FONT;
    return measure.measureText(text).width;
  }

  /** The drawn tick labels on the element: a summary for screen readers, positions for the browser test. */
  function describe(target, u, label, ticks) {
    const left = parseFloat(u.over.style.left) || 0;
    const x = ticks.x.map(([t, text]) => [Math.round(left + u.valToPos(t, 'x')), text]);
    target.dataset.xTicks = JSON.stringify(x);
    target.dataset.yTicks = JSON.stringify(ticks.y);
    target.dataset.yAxisPx = String(left);
    target.dataset.width = String(u.width);
    target.dataset.font = FONT;
    const ys = u.data[1];
    const last = ys.length ? ys[ys.length - 1] : null;
    const span = x.length ? `, ${x[0][1]} to ${x[x.length - 1][1]}` : '';
    target.setAttribute('aria-label', `${label}${span}${last === null ? '' : `; now ${F.count(last)}`}`);
  }

  function create(target, label, stroke) {
    const ticks = { x: [], y: [] };
    const width = Math.max(240, target.clientWidth || 320);
    target.setAttribute('role', 'img');
    return new uPlot({
      width, height: 170,
      padding: [10, RIGHT_PAD_PX, 0, 0],
      scales: { x: { time: true } },
      legend: { show: false },
      series: [{}, { label, stroke, width: 2, fill: `${stroke}22` }],
      axes: [
        {
          stroke: '#667085', font: FONT, space: 90, gap: GAP_PX, ticks: { size: TICK_PX },
          values: (u, splits, _i, _space, incr) => {
            const labels = timeLabels(splits, incr);
            ticks.x = splits.map((t, i) => [t, labels[i]]);
            return labels;
          },
        },
        {
          stroke: '#667085', font: FONT, space: 30, gap: GAP_PX, ticks: { size: TICK_PX },
          values: (u, splits) => (ticks.y = splits.map((v) => F.compact(v))),
          size: (u, values) => Math.ceil(Math.max(24, ...(values || []).map(textWidth))) + TICK_PX + GAP_PX + 4,
        },
      ],
      hooks: { draw: [(u) => describe(target, u, label, ticks)] },
    }, [[], []], target);
  }

  window.CutoverCharts = { create };
})();
