// Keeps only the last `maxBytes` of a stream of chunks: a chatty script must not grow the job
// (which is journaled and shown in Slack) or the controller's memory.
export interface OutputTail {
  push(chunk: Uint8Array): void;
  /** The kept bytes as UTF-8, without a character cut in half at the start. */
  text(): string;
  /** Last non-empty line of the kept output ('' if none). */
  lastLine(): string;
}

export function createOutputTail(maxBytes: number): OutputTail {
  let chunks: Buffer[] = [];
  let size = 0;

  const trim = (): void => {
    while (size > maxBytes && chunks.length > 0) {
      const first = chunks[0];
      const excess = size - maxBytes;
      if (first.length <= excess) {
        chunks.shift();
        size -= first.length;
      } else {
        chunks[0] = first.subarray(excess);
        size -= excess;
      }
    }
  };

  const text = (): string => {
    const all = Buffer.concat(chunks, size);
    // Skip UTF-8 continuation bytes (10xxxxxx) left over from a character the cut split.
    let start = 0;
    while (start < all.length && start < 3 && (all[start] & 0xc0) === 0x80) start += 1;
    return all.subarray(start).toString('utf8');
  };

  return {
    push(chunk) {
      if (maxBytes <= 0 || chunk.length === 0) return;
      // Copy: the stream may reuse its buffer.
      const own = Buffer.from(chunk.subarray(Math.max(0, chunk.length - maxBytes)));
      chunks.push(own);
      size += own.length;
      trim();
      if (chunks.length > 64) chunks = [Buffer.concat(chunks, size)];
    },
    text,
    lastLine() {
      const lines = text().split(/\r?\n/);
      for (let i = lines.length - 1; i >= 0; i -= 1) {
        const line = lines[i].trim();
        if (line !== '') return line;
      }
      return '';
    },
  };
}
