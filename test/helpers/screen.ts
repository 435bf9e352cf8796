/**
 * What a person sees: a small model of a VT100/xterm screen fed with a program's terminal output. It keeps the
 * scrolled-off lines (a terminal's scrollback) and applies what cli-progress and Node's readline send: carriage
 * return, line feed with scrolling, cursor movement (CHA, CUP, CUU/CUD/CUF/CUB), erase in line / display, save and
 * restore of the cursor (DECSC/DECRC: screen-relative, as a real terminal does), cursor visibility (DECTCEM) and
 * auto-wrap (DECAWM) with the deferred wrap of the last column. Colours and other modes are ignored.
 */
export class Screen {
  /** Every line ever shown: scrollback first, the visible screen is the last `rows` of them (at `top`). */
  private readonly lines: string[][] = [[]];
  private top = 0;
  private row = 0;
  private col = 0;
  private saved = { row: 0, col: 0 };
  private pending = '';
  cursorVisible = true;
  autoWrap = true;

  constructor(
    readonly rows: number,
    readonly cols: number,
  ) {}

  /** Feeds decoded terminal output (escape sequences may be split across calls). */
  write(text: string): void {
    const s = this.pending + text;
    this.pending = '';
    let i = 0;
    while (i < s.length) {
      const ch = s[i]!;
      if (ch === '\x1b') {
        const m = /^\x1b(?:\[([?]?)([\d;]*)([@-~])|([78])|([()][\w])|([=>cDEHM]))/.exec(s.slice(i, i + 32));
        if (!m) {
          if (s.length - i < 32) {
            this.pending = s.slice(i); // an unfinished sequence: wait for the rest
            return;
          }
          i++;
          continue;
        }
        if (m[3] !== undefined) this.csi(m[1]!, m[2]!, m[3]);
        else if (m[4] === '7') this.saved = { row: this.row - this.top, col: this.col };
        else if (m[4] === '8') {
          this.row = this.top + Math.min(this.saved.row, this.rows - 1);
          this.col = this.saved.col;
          this.ensureRow();
        }
        i += m[0].length;
        continue;
      }
      const cp = s.codePointAt(i)!;
      const c = String.fromCodePoint(cp);
      i += c.length;
      if (c === '\r') this.col = 0;
      else if (c === '\n') this.lineFeed();
      else if (c === '\b') this.col = Math.max(0, Math.min(this.col, this.cols - 1) - 1);
      else if (c === '\t') this.col = Math.min(this.cols - 1, (Math.floor(this.col / 8) + 1) * 8);
      else if (cp >= 0x20 && cp !== 0x7f) this.put(c);
    }
  }

  /** All lines (scrollback and screen), right-trimmed, trailing empty lines dropped. */
  text(): string {
    const out = this.lines.map((l) =>
      l
        .map((c) => c || ' ')
        .join('')
        .trimEnd(),
    );
    while (out.length > 0 && out[out.length - 1] === '') out.pop();
    return out.join('\n');
  }

  /** The line the cursor is on, right-trimmed. */
  currentLine(): string {
    return (this.lines[this.row] ?? [])
      .map((c) => c || ' ')
      .join('')
      .trimEnd();
  }

  private put(c: string): void {
    if (this.col >= this.cols) {
      if (this.autoWrap) {
        this.col = 0;
        this.lineFeed();
      } else this.col = this.cols - 1;
    }
    const line = this.lines[this.row]!;
    while (line.length < this.col) line.push('');
    line[this.col] = c;
    this.col++;
  }

  private lineFeed(): void {
    if (this.row - this.top === this.rows - 1) this.top++;
    this.row++;
    this.ensureRow();
  }

  private ensureRow(): void {
    while (this.lines.length <= this.row) this.lines.push([]);
  }

  private csi(priv: string, params: string, final: string): void {
    const nums = params === '' ? [] : params.split(';').map((p) => (p === '' ? 0 : Number(p)));
    const n = (k: number, dflt: number) => (nums[k] === undefined || nums[k] === 0 ? dflt : nums[k]!);
    if (priv === '?') {
      const on = final === 'h';
      if (final !== 'h' && final !== 'l') return;
      for (const mode of nums) {
        if (mode === 25) this.cursorVisible = on;
        else if (mode === 7) this.autoWrap = on;
      }
      return;
    }
    const line = this.lines[this.row]!;
    const col = Math.min(this.col, this.cols - 1);
    switch (final) {
      case 'G':
        this.col = Math.min(n(0, 1), this.cols) - 1;
        break;
      case 'H':
      case 'f':
        this.row = this.top + Math.min(n(0, 1), this.rows) - 1;
        this.col = Math.min(n(1, 1), this.cols) - 1;
        this.ensureRow();
        break;
      case 'A':
        this.row = Math.max(this.top, this.row - n(0, 1));
        break;
      case 'B':
        this.row = Math.min(this.top + this.rows - 1, this.row + n(0, 1));
        this.ensureRow();
        break;
      case 'C':
        this.col = Math.min(this.cols - 1, col + n(0, 1));
        break;
      case 'D':
        this.col = Math.max(0, col - n(0, 1));
        break;
      case 'K': {
        const mode = nums[0] ?? 0;
        if (mode === 0) line.length = Math.min(line.length, col);
        else if (mode === 1) for (let k = 0; k <= col && k < line.length; k++) line[k] = '';
        else line.length = 0;
        break;
      }
      case 'J':
        if ((nums[0] ?? 0) === 0) {
          line.length = Math.min(line.length, col);
          this.lines.length = this.row + 1;
        }
        break;
      default:
        break; // colours (m) and anything else: not part of what is read on the screen
    }
  }
}

/** Escape sequences removed, carriage returns dropped: the raw stream as plain text (no redraws applied). */
export function stripAnsi(s: string): string {
  return s.replace(/\x1b(?:\[[?]?[\d;]*[@-~]|[78=>cDEHM]|[()]\w)/g, '').replace(/\r/g, '');
}
