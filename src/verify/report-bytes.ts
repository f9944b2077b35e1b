/** Bytes of report gathered before one write: about a thousand text verdict lines. */
const BATCH_BYTES = 128 * 1024;
/** The most bytes one UTF-16 code unit can take in UTF-8. */
const MAX_UTF8_PER_UNIT = 3;

/**
 * Report text for one write, encoded as it comes. A verdict line carries `✓`, so a
 * batch joined as one string is a two-byte string, and Buffer.from on it (done by every
 * stream write) was ~10% of verify's time; encoding each line into one Buffer costs a
 * fraction of that. Each batch is a fresh Buffer: a stream keeps the Buffer it is given.
 */
export class ReportBytes {
  private bytes = Buffer.allocUnsafe(BATCH_BYTES);
  private used = 0;

  /** Adds text; returns the batch so far when the text does not fit, for the caller to write. */
  add(text: string): Buffer | undefined {
    if (text.length === 0) return undefined;
    let full: Buffer | undefined;
    if (this.used + text.length * MAX_UTF8_PER_UNIT > this.bytes.length) {
      full = this.take();
      this.bytes = Buffer.allocUnsafe(Math.max(BATCH_BYTES, text.length * MAX_UTF8_PER_UNIT));
    }
    this.used += this.bytes.write(text, this.used, 'utf8');
    return full;
  }

  /** What was added since the last take, if anything; later text goes to a new Buffer. */
  take(): Buffer | undefined {
    if (this.used === 0) return undefined;
    const full = this.bytes.subarray(0, this.used);
    this.bytes = Buffer.allocUnsafe(BATCH_BYTES);
    this.used = 0;
    return full;
  }
}
