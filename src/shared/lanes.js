// What a physical lane is in a run: its row and column in the emitter array, the logical lane it carries, and
// whether it is a spare, dead or remapped. Plain ES module shared by the reports, the CLI and the browser
// dashboard (served as-is at /shared/lanes.js); types in lanes.d.ts.
// Numbering everywhere: "lane N" is the physical lane (1-based, row-major position N-1 unless the station says
// column-major); "logical #k" is the record's laneMap index k (0-based, as the remap messages say it).

/**
 * @param {{rows?: number, cols?: number, order?: string, spares?: number[]} | null | undefined} geometry
 * @param {{logicalToPhysical: number[], dead: number[], remapped: {logical: number, from: number, to: number}[]} | null | undefined} laneMap
 */
export function laneIndex(geometry, laneMap) {
  const rows = Number(geometry?.rows) || 0;
  const cols = Number(geometry?.cols) || 0;
  const colMajor = geometry?.order === 'column-major';
  const spares = new Set(geometry?.spares ?? []);
  const logicalOf = new Map();
  (laneMap?.logicalToPhysical ?? []).forEach((p, i) => {
    logicalOf.set(p, i);
  });
  const dead = new Set(laneMap?.dead ?? []);
  const movedTo = new Map(); // physical lane that lost its logical lane -> spare that took it
  const movedFrom = new Map(); // spare -> lane it replaced
  for (const r of laneMap?.remapped ?? []) {
    movedTo.set(r.from, r.to);
    movedFrom.set(r.to, r.from);
  }
  return {
    /** @param {number} lane */
    describe(lane) {
      const i = lane - 1;
      const pos =
        rows > 0 && cols > 0 && lane >= 1 && lane <= rows * cols
          ? colMajor
            ? { row: i % rows, col: Math.floor(i / rows) }
            : { row: Math.floor(i / cols), col: i % cols }
          : null;
      const logical = logicalOf.has(lane) ? logicalOf.get(lane) : null;
      const spare = spares.has(lane);
      const isDead = dead.has(lane);
      const to = movedTo.get(lane);
      const from = movedFrom.get(lane);
      /** @type {string[]} */
      const notes = [];
      if (isDead) notes.push('dead');
      if (to !== undefined) notes.push(`remapped to spare ${to}`);
      if (from !== undefined) notes.push(`spare in use for lane ${from}`);
      else if (spare) notes.push(logical === null ? 'spare, not in use' : 'spare');
      const status = isDead ? 'dead' : to !== undefined ? 'remapped' : spare ? 'spare' : 'active';
      const where = pos ? `row ${pos.row + 1}, col ${pos.col + 1}` : '';
      const parts = [where, logical === null ? '' : `logical #${logical}`, ...notes].filter((s) => s !== '');
      return {
        lane,
        row: pos ? pos.row + 1 : null,
        col: pos ? pos.col + 1 : null,
        logical,
        spare,
        dead: isDead,
        remappedTo: to ?? null,
        replaces: from ?? null,
        status,
        text: `lane ${lane}${parts.length ? ` (${parts.join('; ')})` : ''}`,
      };
    },
  };
}
