// escapeText: what text output shows of untrusted strings — control, format and separator characters escaped.

/** A control, format (bidi, zero-width) or line/paragraph separator character. */
const UNPRINTABLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu;
const UNPRINTABLE_OR_BACKSLASH = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\\]/gu;
const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t', '\\': '\\\\' };

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, '0');
}

/**
 * `s` as a terminal or a line-based log may show it: a newline, ESC or any other control, format or
 * separator character (and a backslash, so the escape is unambiguous) becomes a visible escape —
 * `\n`, `\x1b`, `\u{202e}`. A label can then neither forge a line nor drive the admin's terminal.
 */
export function escapeText(s: string): string {
  return s.replace(UNPRINTABLE_OR_BACKSLASH, (ch) => {
    const named = NAMED[ch];
    if (named) return named;
    const cp = ch.codePointAt(0) ?? 0;
    return cp < 0x100 ? `\\x${hex(cp, 2)}` : `\\u{${hex(cp, 1)}}`;
  });
}

/**
 * JSON text with every unprintable character that JSON.stringify leaves raw (C1 controls, bidi and
 * other format characters, U+2028/U+2029) written as a `\uXXXX` escape: the same JSON value, one line.
 */
export function escapeJson(json: string): string {
  return json.replace(UNPRINTABLE, (ch) =>
    ch
      .split('')
      .map((u) => `\\u${hex(u.charCodeAt(0), 4)}`)
      .join(''),
  );
}
