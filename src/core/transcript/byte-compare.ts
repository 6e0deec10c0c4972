/**
 * Compares text handed over piece by piece with a buffer, without building the whole text:
 * pieces are gathered into ~64K-character batches, each encoded into one reused scratch buffer
 * and compared in place. `firstDifference()` is the byte offset of the first difference (a length
 * difference counts, at the shorter length) or -1 when the bytes are the same.
 */
export class StreamingByteCompare {
  private pending: string[] = [];
  private pendingChars = 0;
  private offset = 0;
  private differsAt = -1;
  private scratch = Buffer.allocUnsafe(256 * 1024);

  constructor(private readonly actual: Buffer) {}

  write = (part: string): void => {
    if (this.differsAt !== -1) return;
    this.pending.push(part);
    this.pendingChars += part.length;
    if (this.pendingChars >= 64 * 1024) this.flush();
  };

  /** Bytes already encoded (a row a worker thread rendered): `src[start..end)`, compared in place. */
  writeBytes = (src: Uint8Array, start: number, end: number): void => {
    if (this.differsAt !== -1) return;
    this.flush();
    if (this.differsAt !== -1) return;
    const n = end - start;
    const avail = Math.max(0, Math.min(n, this.actual.length - this.offset));
    if (this.actual.compare(src, start, start + avail, this.offset, this.offset + avail) !== 0) {
      let i = 0;
      while (src[start + i] === this.actual[this.offset + i]) i++;
      this.differsAt = this.offset + i;
    } else if (avail < n) {
      this.differsAt = this.actual.length;
    }
    this.offset += n;
  };

  firstDifference(): number {
    this.flush();
    if (this.differsAt === -1 && this.offset !== this.actual.length) this.differsAt = Math.min(this.offset, this.actual.length);
    return this.differsAt;
  }

  private flush(): void {
    if (this.pending.length === 0 || this.differsAt !== -1) return;
    if (this.pendingChars <= 64 && this.flushShortAscii()) return;
    const text = this.pending.join('');
    this.pending = [];
    this.pendingChars = 0;
    // UTF-8 takes at most 3 bytes per UTF-16 code unit.
    if (this.scratch.length < text.length * 3) this.scratch = Buffer.allocUnsafe(text.length * 3);
    const n = this.scratch.write(text, 0, 'utf8');
    const avail = Math.max(0, Math.min(n, this.actual.length - this.offset));
    if (this.scratch.compare(this.actual, this.offset, this.offset + avail, 0, avail) !== 0) {
      let i = 0;
      while (this.scratch[i] === this.actual[this.offset + i]) i++;
      this.differsAt = this.offset + i;
    } else if (avail < n) {
      this.differsAt = this.actual.length;
    }
    this.offset += n;
  }

  /**
   * Short ASCII text (mostly the '\n' between two rows handed over as bytes) compared code by
   * code, without joining, encoding and calling compare for a byte or two. False, with nothing
   * consumed, when the text is not all ASCII.
   */
  private flushShortAscii(): boolean {
    for (const part of this.pending) for (let i = 0; i < part.length; i++) if (part.charCodeAt(i) >= 0x80) return false;
    let at = this.offset;
    for (const part of this.pending) {
      for (let i = 0; i < part.length; i++, at++) {
        // Past the end of `actual` differs at its length, as in flush().
        if (at >= this.actual.length || this.actual[at] !== part.charCodeAt(i)) {
          this.differsAt = Math.min(at, this.actual.length);
          break;
        }
      }
      if (this.differsAt !== -1) break;
    }
    this.offset += this.pendingChars;
    this.pending = [];
    this.pendingChars = 0;
    return true;
  }
}
