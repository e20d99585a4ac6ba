/**
 * Counts the records of a CSV text fed in pieces (RFC 4180: a line break inside a quoted field
 * belongs to the field, a doubled quote is a quote), so an export can say how many rows it wrote.
 */
export class CsvRecordCounter {
  private records = 0;
  private quoted = false;
  private lineOpen = false;

  push(text: string): void {
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === QUOTE) this.quoted = !this.quoted;
      if (c === LF && !this.quoted) {
        this.records++;
        this.lineOpen = false;
      } else {
        this.lineOpen = true;
      }
    }
  }

  /** Records after the header line (a last line without its line break counts). */
  get rows(): number {
    return Math.max(0, this.records + (this.lineOpen ? 1 : 0) - 1);
  }
}

const QUOTE = 0x22;
const LF = 0x0a;
