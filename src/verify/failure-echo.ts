import type { Reporter } from './reporters/reporter.js';
import type { Verdict } from './types.js';

/**
 * The failing requests' lines, said once more where a person looks (the CI log) when the
 * report itself goes to a file: a CI step that fails must say why in its log, not only
 * in an XML file that may never be opened. At most `limit` lines; the rest are counted.
 */
export class FailureEcho {
  private shown = 0;
  private hidden = 0;

  constructor(
    /** Formats a failing verdict as one text line (the text reporter, uncoloured). */
    private readonly format: Reporter,
    private readonly write: (text: string) => void,
    private readonly limit: number,
  ) {}

  verdict(verdict: Verdict): void {
    if (this.shown < this.limit) this.line(this.format.verdict(verdict));
    else this.hidden++;
  }

  /** Lines formatted elsewhere (a worker thread's piece), one per failing request. */
  lines(bytes: Uint8Array): void {
    const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
    for (const line of text.split('\n')) {
      if (line === '') continue;
      if (this.shown < this.limit) this.line(`${line}\n`);
      else this.hidden++;
    }
  }

  /** Says how many were not shown, if any. */
  finish(where: string): void {
    if (this.hidden > 0) this.write(`… and ${this.hidden} more failed request(s): see ${where}\n`);
  }

  private line(text: string): void {
    this.shown++;
    this.write(text);
  }
}
