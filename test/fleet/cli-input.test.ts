/** `cpobench hub` and `cpobench serve --hub` refuse bad input before anything starts, saying what is expected. */
import { describe, expect, it } from 'vitest';
import { cpobench } from '../helpers/cli.ts';

const noLabEnv = { CPOBENCH_PG_URL: '', CPOBENCH_HUB_TOKEN: '' };

describe('lab command lines', () => {
  it('serve --hub needs --bench and the bench token, and an http(s) URL', async () => {
    const noBench = await cpobench(
      ['serve', '--sim', 'mosaic-800g', '--port', '0', '--hub', 'http://127.0.0.1:9'],
      undefined,
      {
        env: noLabEnv,
        timeoutMs: 30_000,
      },
    );
    expect(noBench.code).toBe(2);
    expect(noBench.stderr).toContain('--hub needs --bench <name>');
    const noToken = await cpobench(
      ['serve', '--sim', 'mosaic-800g', '--port', '0', '--hub', 'http://127.0.0.1:9', '--bench', 'b1'],
      undefined,
      { env: noLabEnv, timeoutMs: 30_000 },
    );
    expect(noToken.code).toBe(2);
    expect(noToken.stderr).toContain('CPOBENCH_HUB_TOKEN (issue one on the hub: cpobench hub token b1)');
    const badUrl = await cpobench(['serve', '--sim', 'mosaic-800g', '--hub', 'ftp://x', '--bench', 'b1'], undefined, {
      env: { ...noLabEnv, CPOBENCH_HUB_TOKEN: 'x' },
      timeoutMs: 30_000,
    });
    expect(badUrl.code).toBe(2);
    expect(badUrl.stderr).toContain('--hub must be the hub\'s http(s) URL, got "ftp://x"');
    const benchAlone = await cpobench(['serve', '--sim', 'mosaic-800g', '--bench', 'b1'], undefined, {
      env: noLabEnv,
      timeoutMs: 30_000,
    });
    expect(benchAlone.stderr).toContain('--bench names this bench in a lab: give --hub <url> too');
  });

  it('hub needs a postgresql:// URL; a database that does not answer is named', async () => {
    const none = await cpobench(['hub', '--port', '0'], undefined, { env: noLabEnv, timeoutMs: 30_000 });
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('give the lab database: --pg postgresql://');
    const wrong = await cpobench(['hub', '--pg', 'mysql://x/y'], undefined, { env: noLabEnv, timeoutMs: 30_000 });
    expect(wrong.stderr).toContain('--pg must be a postgresql:// URL, got "mysql://x/y"');
    const down = await cpobench(['hub', '--port', '0', '--pg', 'postgresql://u@127.0.0.1:9/none'], undefined, {
      env: noLabEnv,
      timeoutMs: 30_000,
    });
    expect(down.code).toBe(2);
    expect(down.stderr).toMatch(/cannot start the hub: .*ECONNREFUSED|connect/);
    const lease = await cpobench(['hub', '--pg', 'postgresql://u@127.0.0.1:9/x', '--lease-ms', '10'], undefined, {
      env: noLabEnv,
      timeoutMs: 30_000,
    });
    expect(lease.stderr).toContain('--lease-ms must be an integer >= 1000 (ms), got "10"');
  });
});
