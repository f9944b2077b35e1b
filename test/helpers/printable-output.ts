import assert from 'node:assert/strict';
import { isUtf8 } from 'node:buffer';

/** Code points a terminal or log viewer acts on, or that reorder or break what is shown. */
const UNSAFE_CODE_POINTS = /[\u0080-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ufeff]/u;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * The output rule of issue 16 for human-readable text: valid UTF-8; no control byte but
 * the newline that ends a line (no ESC, NUL, CR, tab, DEL); no C1 or bidi code point; no
 * line that a CI runner reads as a command (`::x::` after white space, `##[` anywhere).
 */
export function assertPrintable(output: string | Buffer, label: string): void {
  if (typeof output === 'string') assert.doesNotMatch(output, LONE_SURROGATE, `${label}: a lone surrogate in ${JSON.stringify(output)}`);
  const bytes = typeof output === 'string' ? Buffer.from(output, 'utf8') : output;
  assert.ok(isUtf8(bytes), `${label}: output is not valid UTF-8: ${JSON.stringify(bytes.toString('latin1'))}`);
  const text = bytes.toString('utf8');
  for (const [index, line] of text.split('\n').entries()) {
    const where = `${label}, line ${index + 1}: ${JSON.stringify(line)}`;
    assert.doesNotMatch(line, /[\x00-\x1f\x7f]/, `${where} holds a raw control byte`);
    assert.doesNotMatch(line, UNSAFE_CODE_POINTS, `${where} holds a C1 or bidi code point`);
    assert.doesNotMatch(line, /^\s*::/u, `${where} starts a CI workflow command`);
    assert.doesNotMatch(line, /##[a-z]*\[/i, `${where} holds a ##[command]`);
  }
}
