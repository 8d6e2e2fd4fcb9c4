import { isUtf8 } from 'node:buffer';

/** What the splitter hands out for each line: its text, or that it was too long to keep or not UTF-8. */
export type LineEvent = { line: number; text: string } | { line: number; tooLong: true } | { line: number; notUtf8: true };

const NEWLINE = 0x0a;

/**
 * Splits a byte stream into numbered lines without ever holding more than one line plus one
 * chunk. A line longer than `maxLineBytes` is reported (and skipped) instead of buffered.
 * Lines are decoded as UTF-8 only once complete, so a character split across chunks is safe;
 * a line that is not valid UTF-8 is reported as such rather than decoded with U+FFFD.
 */
export class LineSplitter {
  private carry: Buffer[] = [];
  private carryBytes = 0;
  private skipping = false;
  private lineNo = 0;

  constructor(private readonly maxLineBytes: number) {}

  push(chunk: Buffer, onLine: (e: LineEvent) => void): void {
    let start = 0;
    for (let nl = chunk.indexOf(NEWLINE, start); nl !== -1; nl = chunk.indexOf(NEWLINE, start)) {
      this.emit(chunk, start, nl, onLine);
      start = nl + 1;
    }
    if (start < chunk.length) this.keep(chunk.subarray(start));
  }

  /** Emits the last line when the stream does not end with a newline. */
  end(onLine: (e: LineEvent) => void): void {
    if (this.carryBytes > 0 || this.skipping) this.emit(Buffer.alloc(0), 0, 0, onLine);
  }

  private keep(part: Buffer): void {
    if (this.skipping) return;
    if (this.carryBytes + part.length > this.maxLineBytes) {
      this.skipping = true;
      this.carry = [];
      this.carryBytes = 0;
      return;
    }
    // copy: the chunk's memory may be reused by the stream
    this.carry.push(Buffer.from(part));
    this.carryBytes += part.length;
  }

  private emit(chunk: Buffer, start: number, end: number, onLine: (e: LineEvent) => void): void {
    this.lineNo++;
    if (this.skipping || this.carryBytes + (end - start) > this.maxLineBytes) {
      this.reset();
      onLine({ line: this.lineNo, tooLong: true });
      return;
    }
    const bytes = this.carryBytes === 0 ? chunk.subarray(start, end) : Buffer.concat([...this.carry, chunk.subarray(start, end)]);
    this.reset();
    if (!isUtf8(bytes)) {
      onLine({ line: this.lineNo, notUtf8: true });
      return;
    }
    let text = bytes.toString('utf8');
    if (text.endsWith('\r')) text = text.slice(0, -1);
    onLine({ line: this.lineNo, text });
  }

  private reset(): void {
    this.carry = [];
    this.carryBytes = 0;
    this.skipping = false;
  }
}
