/**
 * Text from instruments (and other outside sources) made safe for a terminal: control characters are shown as
 * escapes instead of being sent raw, so a reply cannot clear the screen, retitle the window, move the cursor or
 * hide what it says. C0 controls (ESC among them), DEL and C1 controls become `\xNN` (`\t`, `\n`, `\r` by name);
 * a backslash is doubled so the escapes are unambiguous. Everything else (UTF-8 text) is kept.
 */
const NAMED: Record<string, string> = { '\t': '\\t', '\n': '\\n', '\r': '\\r', '\\': '\\\\' };

const UNSAFE = /[\u0000-\u001f\u007f-\u009f\\]/g;

export function escapeControl(s: string): string {
  return s.replace(UNSAFE, (c) => NAMED[c] ?? `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
