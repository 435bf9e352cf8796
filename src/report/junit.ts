/**
 * JUnit XML: one <testsuite> per run, one <testcase> per step run (a step nested in a sweep once per setpoint,
 * named with its coordinates). A FAIL step carries a <failure> listing each
 * failing measurement with its limits and value (for lane arrays: the failing lanes); an ERROR step, or a step
 * that never finished, an <error>; a SKIPPED step <skipped message="why"/>. A run that ended ERROR, ABORTED
 * or INTERRUPTED adds one more testcase, `run` (classname `<sequence>.(run)`), whose <error> carries the
 * outcome as its type and the run's reason as its message: such a run is never "0 failures, 0 errors", even
 * when every step it got to passed. The bench's safe state at the end, as read back, is one more case: an
 * <error type="NOT_SAFE"> naming every instrument that did not confirm it. Run properties (DUT, station,
 * operator, software, instruments) are <properties>.
 */
import {
  type Measurement,
  notSafeText,
  type Outcome,
  type RunRecord,
  type RunStatus,
  type StepRecord,
} from '../core/record.ts';
import { coordLabel } from '../shared/coordinates.js';
import { atLabel, escapeXml, fmt } from './util.ts';

function seconds(a?: string, b?: string): string {
  if (!a || !b) return '0';
  const d = (Date.parse(b) - Date.parse(a)) / 1000;
  return Number.isFinite(d) && d >= 0 ? d.toFixed(3) : '0';
}

function limitText(m: Measurement): string {
  const l = m.spec.limits;
  if (!l) return 'no limits';
  const lo = l.low !== undefined ? fmt(l.low) : '-∞';
  const hi = l.high !== undefined ? fmt(l.high) : '+∞';
  return `limits [${lo}, ${hi}] ${m.spec.unit}`.trimEnd();
}

const MAX_LANES_LISTED = 64;

export function describeFailure(m: Measurement): string {
  const at = m.at ? ` @ ${atLabel(m.at)}` : '';
  if (m.kind === 'scalar') {
    return `${m.spec.name}${at}: value ${fmt(m.value)} ${m.spec.unit}, ${limitText(m)}`;
  }
  const failing: string[] = [];
  let count = 0;
  m.verdicts.forEach((v, i) => {
    if (v !== 'FAIL') return;
    count++;
    if (failing.length < MAX_LANES_LISTED) failing.push(`lane ${m.lanes[i]}=${fmt(m.values[i])}`);
  });
  const more = count > failing.length ? `, … ${count - failing.length} more` : '';
  return `${m.spec.name}${at}: ${count} of ${m.lanes.length} lanes out of ${limitText(m)}: ${failing.join(', ')}${more}`;
}

/**
 * One case name per step run: a step nested in a sweep carries its coordinates ("L-I check @ 45 °C"); a name that
 * would still repeat (a sequence with two steps of one name) gets its step id, then its position.
 */
export function caseNames(steps: readonly StepRecord[]): string[] {
  const base = steps.map((s) => (s.at && Object.keys(s.at).length > 0 ? `${s.name} @ ${coordLabel(s.at)}` : s.name));
  const count = (names: string[]) => names.reduce((m, n) => m.set(n, (m.get(n) ?? 0) + 1), new Map<string, number>());
  const c1 = count(base);
  const withId = base.map((n, i) => (c1.get(n)! > 1 ? `${n} [${steps[i].id}]` : n));
  const c2 = count(withId);
  return withId.map((n, i) => (c2.get(n)! > 1 ? `${n} #${steps[i].index + 1}` : n));
}

function testcase(
  record: RunRecord,
  step: StepRecord,
  name: string,
): { xml: string; kind: 'pass' | 'fail' | 'error' | 'skip' } {
  const attrs = `name="${escapeXml(name)}" classname="${escapeXml(`${record.sequence.name}.${step.id}`)}" time="${seconds(step.startedAt, step.finishedAt)}"`;
  const failing = step.measurements.filter((m) => m.verdict === 'FAIL');
  if (step.verdict === 'ERROR' || step.verdict === undefined) {
    const msg =
      step.error ?? (step.verdict === undefined ? `step did not finish (run ${record.outcome})` : 'step error');
    return {
      kind: 'error',
      xml: `    <testcase ${attrs}>\n      <error message="${escapeXml(msg)}" type="ERROR">${escapeXml(msg)}</error>\n    </testcase>`,
    };
  }
  if (step.verdict === 'SKIPPED') {
    const why = step.error ? ` message="${escapeXml(step.error)}"` : '';
    return { kind: 'skip', xml: `    <testcase ${attrs}>\n      <skipped${why}/>\n    </testcase>` };
  }
  if (step.verdict === 'FAIL' || failing.length > 0) {
    const lines = failing.map(describeFailure);
    const msg = failing.length ? `${failing.length} measurement(s) out of limits` : 'step failed';
    return {
      kind: 'fail',
      xml: `    <testcase ${attrs}>\n      <failure message="${escapeXml(msg)}" type="FAIL">${escapeXml(lines.join('\n'))}</failure>\n    </testcase>`,
    };
  }
  return { kind: 'pass', xml: `    <testcase ${attrs}/>` };
}

const ABNORMAL: readonly RunStatus[] = ['ERROR', 'ABORTED', 'INTERRUPTED'] satisfies Outcome[];

/** The `run` testcase of a run that did not end PASS or FAIL: an <error> with the outcome and the reason. */
function runCase(record: RunRecord): { xml: string; kind: 'error' } | undefined {
  if (!ABNORMAL.includes(record.outcome)) return undefined;
  const msg = record.error ?? `run ${record.outcome}`;
  const attrs = `name="run" classname="${escapeXml(`${record.sequence.name}.(run)`)}" time="${seconds(record.startedAt, record.finishedAt)}"`;
  return {
    kind: 'error',
    xml: `    <testcase ${attrs}>\n      <error message="${escapeXml(msg)}" type="${record.outcome}">${escapeXml(msg)}</error>\n    </testcase>`,
  };
}

/** The bench's safe state at the end of the run, read back: a case of its own, an error when not confirmed. */
function safeStateCase(record: RunRecord): { xml: string; kind: 'pass' | 'error' } | undefined {
  const end = record.safeState;
  if (!end) return undefined;
  const attrs = `name="bench safe state (read back)" classname="${escapeXml(`${record.sequence.name}.bench`)}" time="0"`;
  if (end.safe) return { kind: 'pass', xml: `    <testcase ${attrs}/>` };
  const msg = `BENCH NOT SAFE: ${notSafeText(end)}`;
  return {
    kind: 'error',
    xml: `    <testcase ${attrs}>\n      <error message="${escapeXml(msg)}" type="NOT_SAFE">${escapeXml(msg)}</error>\n    </testcase>`,
  };
}

export function renderJunit(record: RunRecord): string {
  const names = caseNames(record.steps);
  const cases: { xml: string; kind: string }[] = record.steps.map((s, i) => testcase(record, s, names[i]));
  const run = runCase(record);
  if (run) cases.push(run);
  const safe = safeStateCase(record);
  if (safe) cases.push(safe);
  const n = (k: string) => cases.filter((c) => c.kind === k).length;
  const time = seconds(record.startedAt, record.finishedAt);
  const props: [string, string | undefined][] = [
    ['run.id', record.id],
    ['run.outcome', record.outcome],
    ['dut', record.dut],
    ['lot', record.lot],
    ['wafer', record.wafer],
    ['die', record.die ? `${record.die.x},${record.die.y}` : undefined],
    ['operator', record.operator],
    ['station', record.station.name],
    ['sequence', record.sequence.name],
    ['sequence.version', record.sequence.version],
    ['sequence.hash', record.sequence.hash],
    ['software.version', record.software.version],
    ['software.revision', record.software.revision],
    ...record.instruments.map((i): [string, string] => [
      `instrument.${i.role}`,
      `${i.resource} ${i.identity ? `${i.identity.manufacturer} ${i.identity.model} ${i.identity.serial} fw ${i.identity.firmware}` : ''}`.trim(),
    ]),
  ];
  const propXml = props
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `      <property name="${escapeXml(k)}" value="${escapeXml(v)}"/>`)
    .join('\n');
  const counts = `tests="${cases.length}" failures="${n('fail')}" errors="${n('error')}" skipped="${n('skip')}" time="${time}"`;
  const sysErr = record.error ? `\n    <system-err>${escapeXml(record.error)}</system-err>` : '';
  return `<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="cpobench" ${counts}>
  <testsuite name="${escapeXml(record.sequence.name)}" id="${escapeXml(record.id)}" ${counts} timestamp="${escapeXml(record.startedAt)}" hostname="${escapeXml(record.station.name)}">
    <properties>
${propXml}
    </properties>
${cases.map((c) => c.xml).join('\n')}${sysErr}
  </testsuite>
</testsuites>
`;
}
