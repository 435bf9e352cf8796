/**
 * An API other tools can script: the OpenAPI document served from the route schemas, and the Python client
 * (clients/python/cpobench_client) driving a real server (simulated bench, orchestrator, SQLite store) from
 * Debian's python3: start a run, follow its events, fetch the record and the tidy CSV.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AppContext, openContext } from '../../src/app/context.ts';
import { AppController } from '../../src/app/controller.ts';
import { type BenchServer, createServer } from '../../src/server/app.ts';
import { runPython } from '../helpers/python.ts';
import { tempDirs } from './helpers.ts';

const TOKEN = 'api-clients-token-0123456789';
const tmp = tempDirs();
let ctx: AppContext;
let srv: BenchServer;

beforeAll(async () => {
  ctx = await openContext({ sim: { profile: 'mosaic-800g', timeScale: 1000, seed: 3 }, db: join(tmp.make(), 'r.db') });
  srv = await createServer({ controller: new AppController(ctx), token: TOKEN, host: '127.0.0.1', port: 0 });
}, 60_000);

afterAll(async () => {
  await srv?.close();
  await ctx?.close();
  tmp.cleanup();
});

type Schema = { required?: string[]; additionalProperties?: boolean };
type Operation = {
  requestBody: { content: { 'application/json': { schema: Schema } } };
  security?: unknown[];
  parameters: { name: string; in: string; required: boolean }[];
  responses: Record<string, unknown>;
};
type Doc = { openapi: string; paths: Record<string, Record<string, Operation>> };

describe('GET /api/openapi.json', () => {
  it('documents every API route with the schemas the server validates with', async () => {
    const doc = (await (await fetch(`${srv.url}/api/openapi.json`)).json()) as Doc;
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths).sort()).toEqual([
      '/api/health',
      '/api/instruments',
      '/api/openapi.json',
      '/api/runs',
      '/api/runs/{id}',
      '/api/runs/{id}/abort',
      '/api/runs/{id}/export',
      '/api/runs/{id}/prompts/{promptId}',
      '/api/sequences',
    ]);
    const start = doc.paths['/api/runs']!.post!;
    const body = start.requestBody.content['application/json'].schema;
    expect(body.required).toEqual(['sequence', 'dut', 'operator']);
    expect(body.additionalProperties).toBe(false);
    expect(start.security).toEqual([{ bearer: [] }]);
    expect(Object.keys(start.responses)).toEqual(['201', '4XX', '5XX']);
    expect(doc.paths['/api/runs/{id}']!.get!.parameters).toContainEqual(
      expect.objectContaining({ name: 'id', in: 'path', required: true }),
    );
    // the document and the server agree: a body the schema refuses is refused, naming the field
    const res = await fetch(`${srv.url}/api/runs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ sequence: 'smoke', dut: 'SN' }),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { field: string }).field).toBe('operator');
  });
});

describe('GET /api/sequences', () => {
  it('offers only the sequences this station can run: no LightBundle qualification on a MOSAIC bench', async () => {
    const seqs = (await (await fetch(`${srv.url}/api/sequences`)).json()) as { name: string; dutRequired: boolean }[];
    const names = seqs.map((s) => s.name);
    expect(names).toContain('mosaic-800g-qual');
    expect(names).toContain('smoke');
    expect(names).not.toContain('lightbundle-512g-qual');
    expect(seqs.find((s) => s.name === 'mosaic-800g-qual')?.dutRequired).toBe(true);
  });
});

describe('the Python client', () => {
  it('starts a run, follows its events to the end, fetches the record and the tidy CSV, twice', async () => {
    const script = `
import json, sys
sys.path.insert(0, ${JSON.stringify(join(process.cwd(), 'clients/python'))})
from cpobench_client import Client, ApiError
c = Client(sys.argv[1], token=sys.argv[2])
out = {"paths": sorted(c.openapi()["paths"]), "runs": []}
for n in range(2):
    run_id = c.start_run("smoke", dut=f"SN-PY-{n}", operator="notebook")
    seen = []
    for e in c.events():
        if e["type"] in ("step.finished", "run.finished") and e.get("runId") == run_id:
            seen.append([e["type"], e.get("step"), e.get("verdict") or e.get("outcome")])
        if e["type"] == "run.finished" and e["runId"] == run_id:
            break
    rec = c.wait(run_id)
    csv = c.export(run_id, "csv").decode().splitlines()
    out["runs"].append({"id": run_id, "events": seen, "outcome": rec["outcome"], "dut": rec["dut"],
                        "steps": [s["id"] for s in rec["steps"]], "csv_header": csv[0], "csv_rows": len(csv) - 1})
try:
    c.start_run("no-such-sequence", dut="SN", operator="x")
except ApiError as e:
    out["error"] = [e.status, e.message]
try:
    Client(sys.argv[1]).start_run("smoke", dut="SN", operator="x")
except ApiError as e:
    out["unauthorized"] = e.status
print(json.dumps(out))
`;
    const r = await runPython(script, [srv.url, TOKEN]);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as {
      paths: string[];
      runs: {
        id: string;
        events: string[][];
        outcome: string;
        dut: string;
        steps: string[];
        csv_header: string;
        csv_rows: number;
      }[];
      error: [number, string];
      unauthorized: number;
    };
    expect(out.paths).toContain('/api/runs/{id}/export');
    expect(out.runs).toHaveLength(2);
    out.runs.forEach((run, n) => {
      expect(run.outcome).toBe('PASS');
      expect(run.dut).toBe(`SN-PY-${n}`);
      expect(run.events).toEqual([
        ['step.finished', 'inventory', 'PASS'],
        ['step.finished', 'ber-screen', 'PASS'],
        ['step.finished', 'energy', 'PASS'],
        ['run.finished', null, 'PASS'],
      ]);
      expect(run.steps).toEqual(['inventory', 'ber-screen', 'energy']);
      expect(run.csv_header).toMatch(/^run,step_index,step,step_name,measurement,.*lane,value,unit,low,high,verdict$/);
      expect(run.csv_rows).toBeGreaterThan(400);
    });
    expect(out.runs[0]!.id).not.toBe(out.runs[1]!.id);
    expect(out.error[0]).toBe(404);
    expect(out.unauthorized).toBe(401);
  }, 120_000);
});
