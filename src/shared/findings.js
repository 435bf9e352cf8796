// Failures first: every failing or marginal measurement of a run (and every step that ended in error), with its
// step, coordinates, value, limit and the lanes involved, worst first. One module for the CLI summary, the
// report's first page and the dashboard's banner (served as-is at /shared/findings.js); types in findings.d.ts.
import { coordLabel } from './coordinates.js';
import { fmtValue, limitText } from './format.js';
import { laneIndex } from './lanes.js';

const RANK = { ERROR: 0, FAIL: 1, MARGINAL: 2 };

/**
 * @param {{id: string, name: string, index?: number, at?: Record<string, number>, verdict?: string, error?: string,
 *   measurements: any[]}[]} steps the run's step records (or the dashboard's live equivalent)
 * @param {{geometry?: any, laneMap?: any, maxLanes?: number}} [opts]
 */
export function findings(steps, opts = {}) {
  const lanes = laneIndex(opts.geometry, opts.laneMap);
  const maxLanes = opts.maxLanes ?? 8;
  const out = [];
  for (const step of steps) {
    if (step.verdict === 'ERROR') {
      const at = coordLabel(step.at);
      out.push({
        severity: 'ERROR',
        step: step.id,
        stepName: step.name,
        at: step.at,
        measurement: null,
        value: null,
        unit: '',
        limit: '',
        lanes: [],
        laneCount: 0,
        text: `ERROR ${step.name}${at ? ` @ ${at}` : ''}: ${step.error ?? 'step error'}`,
      });
    }
    for (const m of step.measurements ?? []) {
      if (m.verdict !== 'FAIL' && m.verdict !== 'MARGINAL') continue;
      const unit = m.spec.unit;
      const limit = limitText(m.spec.limits, unit);
      const at = coordLabel(m.at ?? step.at);
      const where = `${step.name}${at ? ` @ ${at}` : ''}`;
      if (m.kind === 'scalar') {
        out.push({
          severity: m.verdict,
          step: step.id,
          stepName: step.name,
          at: m.at ?? step.at,
          measurement: m.spec.name,
          value: m.value,
          unit,
          limit,
          lanes: [],
          laneCount: 0,
          text: `${m.verdict} ${where}: ${m.spec.name} = ${fmtValue(m.value, unit)}${limit ? `, limit ${limit}` : ''}`,
        });
        continue;
      }
      const bad = [];
      for (let i = 0; i < m.lanes.length; i++) {
        if (m.verdicts[i] === m.verdict) bad.push({ ...lanes.describe(m.lanes[i]), value: m.values[i] });
      }
      const shown = bad
        .slice(0, maxLanes)
        .map((l) => `${l.text} = ${l.value === null ? 'no value' : fmtValue(l.value, unit)}`)
        .join('; ');
      const more = bad.length > maxLanes ? `; … ${bad.length - maxLanes} more` : '';
      out.push({
        severity: m.verdict,
        step: step.id,
        stepName: step.name,
        at: m.at ?? step.at,
        measurement: m.spec.name,
        value: null,
        unit,
        limit,
        lanes: bad,
        laneCount: bad.length,
        text:
          `${m.verdict} ${where}: ${m.spec.name} on ${bad.length} of ${m.lanes.length} lanes${limit ? ` (limit ${limit})` : ''}` +
          (bad.length ? `: ${shown}${more}` : ''),
      });
    }
  }
  return out.sort((a, b) => RANK[a.severity] - RANK[b.severity]);
}
