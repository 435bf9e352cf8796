import { afterEach, describe, expect, it } from 'vitest';
import { requirePythonModules, runPython } from '../helpers/python.ts';
import { cleanupList, exec, openBench } from './instruments/helpers.ts';

const cleanup = cleanupList();
afterEach(() => cleanup.run());

describe('a standard VISA client (pyvisa with the pyvisa-py backend)', () => {
  it('reads *IDN?, -113, a 400-value list and the CMOS block', async () => {
    // Debian's python3-pyvisa-py, run by Debian's /usr/bin/python3; missing, the test fails saying what to install.
    await requirePythonModules(['pyvisa', 'pyvisa_py']);
    const tb = await openBench({ profile: 'mosaic-800g-cmos' });
    cleanup.add(tb);
    await exec(await tb.session('led-driver'), 'OUTP ON,(@1:400)');
    const led = tb.bench.instruments.find((i) => i.role === 'led-driver')!.resource;
    const rx = tb.bench.instruments.find((i) => i.role === 'cmos-receiver')!.resource;
    const r = await runPython(`
import json, pyvisa
rm = pyvisa.ResourceManager('@py')
def open(res):
    i = rm.open_resource(res, read_termination='\\n', write_termination='\\n', timeout=5000)
    return i
led = open('${led}')
rx = open('${rx}')
out = {}
out['idn'] = led.query('*IDN?')
led.write('NOT:A:COMMAND')
out['err'] = led.query('SYST:ERR?')
out['bias'] = led.query_ascii_values('SOUR:CURR:BIAS? (@1:400)')
out['pow'] = rx.query_ascii_values('MEAS:POW? (@1:400)')
px = rx.query_binary_values('FETC:FRAM?', datatype='H', is_big_endian=False, container=list)
out['npx'] = len(px)
out['max'] = max(px)
out['after'] = rx.query('SENS:FRAM:SIZE?')
led.close(); rx.close(); rm.close()
print(json.dumps(out))
`);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.idn).toBe('cpobench-sim,ULED-DRV-400,SIM-LD-0001,1.0.0');
    expect(out.err).toBe('-113,"Undefined header"');
    expect(out.bias).toHaveLength(400);
    expect(out.pow).toHaveLength(400);
    expect(out.npx).toBe(200 * 200);
    expect(out.max).toBeGreaterThan(1000);
    expect(out.after).toBe('200,200');
  });
});
