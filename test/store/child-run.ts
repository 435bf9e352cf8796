/**
 * A child process for the interruption tests: opens the store at argv[2], starts a run and writes 400-lane
 * frames forever, printing `frame <k>` after each write returned. The parent kills it with SIGKILL.
 * argv[3] = 'idle' writes 10 frames then idles (alive) instead.
 */
import { openSqliteStore } from '../../src/store/sqlite-store.ts';
import { laneFrame } from './fixtures.ts';

const path = process.argv[2];
const mode = process.argv[3] ?? 'write';
const store = openSqliteStore(path);
const id = store.createRun({
  sequence: { name: 'child-seq', hash: 'h' },
  station: { name: 'child-station', snapshot: {} },
  dut: 'SN-CHILD',
  operator: 'child',
  software: { version: '0.0.0' },
});
store.appendStep(id, { index: 0, id: 'sweep', name: 'sweep', type: 'sweep', startedAt: new Date().toISOString() });
process.stdout.write(`run ${id}\n`);
let k = 0;
function writeFrame(): void {
  store.addMeasurement(
    id,
    'sweep',
    laneFrame('rx_power', 400, (l) => l + k * 1000, { at: { point: k } }),
  );
  process.stdout.write(`frame ${k}\n`);
  k++;
}
if (mode === 'idle') {
  for (let i = 0; i < 10; i++) writeFrame();
  process.stdout.write('idle\n');
  setInterval(() => {}, 1000);
} else {
  const loop = () => {
    for (let i = 0; i < 5; i++) writeFrame();
    setImmediate(loop);
  };
  loop();
}
