/** Types of format.js (a plain ES module the browser dashboard imports as-is). */
export function fmtNum(v: number | null | undefined): string;
export function fmtValue(v: number | null | undefined, unit: string | undefined): string;
export function limitText(limits: { low?: number; high?: number } | undefined | null, unit: string | undefined): string;
export function fmtDuration(s: number | undefined | null): string;
export function workText(done: number, total: number, unit: string, errors?: number | null): string;
