/**
 * `cpobench drivers [--json]`: the registered instrument models, what each speaks, the capabilities it provides
 * (what steps can ask of it), the `*IDN?` pattern it expects and its own station settings.
 */
import type { Command } from 'commander';
import type { DriverDescriptor } from '../../instruments/descriptor.ts';
import { createDriverRegistry } from '../../instruments/registry.ts';
import { EXIT } from '../exit-codes.ts';

export interface DriverView {
  model: string;
  title: string;
  speaks: string;
  capabilities: string[];
  identity: string;
  settings: string[];
}

export function driverViews(registry: ReadonlyMap<string, DriverDescriptor> = createDriverRegistry()): DriverView[] {
  return [...registry.values()]
    .map((d) => ({
      model: d.model,
      title: d.title,
      speaks: d.speaks,
      capabilities: [...d.capabilities],
      identity: d.identity,
      settings: Object.keys(d.settings),
    }))
    .sort((a, b) => a.model.localeCompare(b.model));
}

/** Aligned lines: model, capabilities, what it is; then its settings keys indented under it. */
export function formatDrivers(views: readonly DriverView[]): string[] {
  const w = Math.max('MODEL'.length, ...views.map((v) => v.model.length));
  const c = Math.max('CAPABILITIES'.length, ...views.map((v) => v.capabilities.join(', ').length));
  const out = [`${'MODEL'.padEnd(w)}  ${'CAPABILITIES'.padEnd(c)}  DESCRIPTION`];
  for (const v of views) {
    out.push(`${v.model.padEnd(w)}  ${v.capabilities.join(', ').padEnd(c)}  ${v.title}`);
    out.push(
      `${''.padEnd(w)}  settings: ${v.settings.length ? v.settings.join(', ') : '(none)'}; *IDN? matches /${v.identity}/`,
    );
  }
  return out;
}

export function registerDrivers(program: Command, setExit: (code: number) => void): void {
  program
    .command('drivers')
    .description('list the registered instrument models with their capabilities and station settings')
    .option('--json', 'print the list as JSON')
    .action((opts: { json?: boolean }) => {
      const views = driverViews();
      if (opts.json) process.stdout.write(`${JSON.stringify(views, null, 2)}\n`);
      else for (const line of formatDrivers(views)) process.stdout.write(`${line}\n`);
      setExit(EXIT.OK);
    });
}
