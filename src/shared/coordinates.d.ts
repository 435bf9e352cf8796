/** Types of coordinates.js (a plain ES module the browser dashboard imports as-is). */
export type Coordinates = Record<string, number>;
export function coordText(key: string, value: number): string;
export function coordKeys(at: Coordinates | undefined): string[];
export function coordLabel(at: Coordinates | undefined): string;
export function coordUnit(key: string): string;
export function coordScaled(key: string, value: number): number;
export function sameAt(a: Coordinates | undefined, b: Coordinates | undefined): boolean;
export function atKey(at: Coordinates | undefined): string;
