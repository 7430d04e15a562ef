// Append-only JSON-lines journal with group commit: appends that arrive while a write+fsync is
// in flight are batched into the next one, so durability costs one fsync per batch, not per
// request. A failed write is truncated away (nothing half-written survives) and fails its batch
// and every batch queued behind it, because those were decided on top of the failed one.
// Replay streams the file a chunk at a time and hands each record over as it is parsed, and a
// snapshot is written a chunk at a time: memory on restart is the state, never the file's size.
import { constants } from 'node:fs';
import { mkdir, open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';

export interface JournalFs {
  open(path: string, flags: number): Promise<FileHandle>;
  rename(from: string, to: string): Promise<void>;
}

const nodeFs: JournalFs = {
  open: (p, flags) => open(p, flags, 0o600),
  rename: (a, b) => rename(a, b),
};

/** Default compaction threshold; see README "Journal and restart memory" for how it is sized. */
export const DEFAULT_COMPACT_ABOVE_BYTES = 32 * 1024 * 1024;
/**
 * Compact only once the journal has grown to this many times the last snapshot: when the state
 * itself is above the threshold, compacting at the threshold would rewrite it on every write.
 */
export const SNAPSHOT_GROWTH_FACTOR = 2;
const CHUNK_BYTES = 1024 * 1024;
const NEWLINE = 0x0a;

interface Batch {
  lines: string[];
  waiters: Array<{ resolve: () => void; reject: (e: Error) => void }>;
}

export class JournalWriteError extends Error {
  constructor(cause: unknown) {
    super(
      `journal write failed: ${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message ?? String(cause)}`,
    );
    this.name = 'JournalWriteError';
  }
}

export class Journal<R> {
  readonly path: string;
  private handle: FileHandle | undefined;
  private size = 0;
  private pending: Batch | undefined;
  private flushing: Promise<void> | undefined;
  private readonly fs: JournalFs;
  private readonly fsync: boolean;
  lastError: string | undefined;
  records = 0;

  readonly compactAboveBytes: number;
  /** Size of the last snapshot written (0 before the first). */
  lastSnapshotBytes = 0;
  /** Supplies the snapshot to compact to; called only when nothing is pending or in flight. */
  snapshot: (() => Iterable<R>) | undefined;

  constructor(
    dir: string,
    options: { fs?: JournalFs; fsync?: boolean; name?: string; compactAboveBytes?: number } = {},
  ) {
    this.path = join(dir, options.name ?? 'journal.jsonl');
    this.fs = options.fs ?? nodeFs;
    this.fsync = options.fsync ?? true;
    this.compactAboveBytes = options.compactAboveBytes ?? DEFAULT_COMPACT_ABOVE_BYTES;
  }

  /** The size at which the next append triggers a compaction. */
  get compactAtBytes(): number {
    return Math.max(this.compactAboveBytes, SNAPSHOT_GROWTH_FACTOR * this.lastSnapshotBytes);
  }

  /**
   * Streams every intact record to `onRecord` (or, without it, returns them: for small journals
   * and tests). A torn last line (crash mid-write: no newline, or not JSON) is cut and reported.
   */
  async open(
    onRecord?: (record: R) => void,
  ): Promise<{ records: R[]; count: number; torn: number }> {
    await mkdir(dirname(this.path), { recursive: true });
    const records: R[] = [];
    const take = onRecord ?? ((r: R) => void records.push(r));
    const handle = await this.fs.open(this.path, constants.O_RDWR | constants.O_CREAT);
    this.handle = handle;
    let count = 0;
    let torn = 0;
    /** Byte offset just past the last newline-terminated line that parsed. */
    let goodEnd = 0;
    let offset = 0;
    let carry: Buffer[] = [];
    const buf = Buffer.allocUnsafe(CHUNK_BYTES);
    for (;;) {
      const { bytesRead } = await handle.read(buf, 0, buf.length, offset);
      if (bytesRead === 0) break;
      let start = 0;
      for (
        let nl = buf.indexOf(NEWLINE, 0);
        nl !== -1 && nl < bytesRead;
        nl = buf.indexOf(NEWLINE, start)
      ) {
        const piece = buf.subarray(start, nl);
        const line = carry.length ? Buffer.concat([...carry, piece]).toString() : piece.toString();
        carry = [];
        start = nl + 1;
        if (line === '') continue;
        let record: R;
        try {
          record = JSON.parse(line) as R;
        } catch {
          torn++;
          continue;
        }
        take(record);
        count++;
        goodEnd = offset + start;
      }
      // The rest of the chunk belongs to the next line: copy it, the buffer is reused.
      if (start < bytesRead) carry.push(Buffer.from(buf.subarray(start, bytesRead)));
      offset += bytesRead;
    }
    // A last line without its newline was never acknowledged: its append failed or never ended.
    if (carry.length) torn++;
    // Cut a torn tail so the next append starts on a clean line.
    if (goodEnd < offset) await handle.truncate(goodEnd);
    this.size = goodEnd;
    this.records = count;
    return { records, count, torn };
  }

  /**
   * The last `max` records whose line `keep` accepts, oldest first, read backwards from the end a
   * chunk at a time (after `open`): a small tail of a large journal without holding what replay
   * already went through.
   */
  async tail(max: number, keep: (line: string) => boolean): Promise<R[]> {
    const handle = this.handle;
    const out: R[] = [];
    if (!handle) return out;
    let end = this.size;
    /** The bytes of the line that the previous (later) chunk began in the middle of. */
    let rest = Buffer.alloc(0);
    while (end > 0 && out.length < max) {
      const start = Math.max(0, end - CHUNK_BYTES);
      const buf = Buffer.allocUnsafe(end - start);
      for (let off = 0; off < buf.length;) {
        const { bytesRead } = await handle.read(buf, off, buf.length - off, start + off);
        if (bytesRead === 0) throw new Error(`journal ${this.path} shrank while read`);
        off += bytesRead;
      }
      const data = Buffer.concat([buf, rest]);
      end = start;
      // Unless this chunk starts the file, its first line may be cut: it goes with the next one.
      const cut = start > 0 ? data.indexOf(NEWLINE) : -1;
      if (start > 0 && cut === -1) {
        rest = data;
        continue;
      }
      rest = Buffer.from(data.subarray(0, Math.max(0, cut)));
      const lines = data
        .subarray(cut + 1)
        .toString()
        .split('\n');
      for (let i = lines.length - 1; i >= 0 && out.length < max; i--) {
        const line = lines[i];
        if (!line || !keep(line)) continue;
        try {
          out.push(JSON.parse(line) as R);
        } catch {
          /* a torn line: open() reported and cut it */
        }
      }
    }
    return out.reverse();
  }

  /**
   * Resolves once the records are on disk (fsync'd). `durable: false` (records that change
   * nothing on replay, e.g. a duplicate's decision) resolves at once when everything appended
   * before is already durable and the journal is healthy; the lines follow with the next write.
   * Otherwise it waits like any append, so it never answers ahead of what it depends on.
   */
  append(records: R[], o: { durable?: boolean } = {}): Promise<void> {
    if (records.length === 0) return Promise.resolve();
    const lines = records.map((r) => `${JSON.stringify(r)}\n`);
    if (o.durable === false && !this.pending && !this.flushing && !this.lastError) {
      this.pending = { lines, waiters: [] };
      this.flushing = this.flushLoop();
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const batch = (this.pending ??= { lines: [], waiters: [] });
      batch.lines.push(...lines);
      batch.waiters.push({ resolve, reject });
      this.flushing ??= this.flushLoop();
    });
  }

  get bytes(): number {
    return this.size;
  }

  private async flushLoop(): Promise<void> {
    while (this.pending) {
      const batch = this.pending;
      this.pending = undefined;
      try {
        await this.write(batch.lines.join(''));
        this.records += batch.lines.length;
        this.lastError = undefined;
        for (const w of batch.waiters) w.resolve();
      } catch (err) {
        const error = err instanceof JournalWriteError ? err : new JournalWriteError(err);
        this.lastError = error.message;
        // Later batches were decided on top of this one: fail them first (newest first) so
        // their undo runs before this batch's.
        const later = this.pending as Batch | undefined;
        this.pending = undefined;
        for (const w of [...(later?.waiters ?? [])].reverse()) w.reject(error);
        for (const w of [...batch.waiters].reverse()) w.reject(error);
      }
      // Every applied record is durable exactly when nothing is pending or in flight, so this is
      // the one moment a snapshot of memory equals the journal.
      if (!this.pending && this.snapshot && this.size > this.compactAtBytes) {
        await this.writeSnapshot(this.snapshot()).catch((err: unknown) => {
          this.lastError = `journal compaction failed: ${(err as Error).message}`;
        });
      }
    }
    this.flushing = undefined;
  }

  private async write(text: string): Promise<void> {
    const handle = this.handle;
    if (!handle) throw new JournalWriteError(new Error('journal is not open'));
    const data = Buffer.from(text);
    try {
      let off = 0;
      while (off < data.length) {
        const { bytesWritten } = await handle.write(data, off, data.length - off, this.size + off);
        off += bytesWritten;
      }
      if (this.fsync) await handle.datasync();
      this.size += data.length;
    } catch (err) {
      await handle.truncate(this.size).catch(() => undefined);
      throw new JournalWriteError(err);
    }
  }

  /** Resolves once no write is pending or in flight (the file then ends on a whole line). */
  async settled(): Promise<void> {
    while (this.flushing) await this.flushing;
  }

  /** Replaces the journal with a snapshot now (call before any append, e.g. right after open). */
  async compact(records: Iterable<R>): Promise<void> {
    await this.settled();
    await this.writeSnapshot(records);
  }

  /** Write temp (a chunk at a time), fsync, rename over the journal, fsync the directory. */
  private async writeSnapshot(records: Iterable<R>): Promise<void> {
    const tmp = `${this.path}.tmp`;
    const h = await this.fs.open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC);
    let bytes = 0;
    let count = 0;
    try {
      let chunk: string[] = [];
      let chunkLength = 0;
      const flush = async () => {
        const data = Buffer.from(chunk.join(''));
        chunk = [];
        chunkLength = 0;
        for (let off = 0; off < data.length;) {
          const { bytesWritten } = await h.write(data, off, data.length - off, bytes + off);
          off += bytesWritten;
        }
        bytes += data.length;
      };
      for (const r of records) {
        const line = `${JSON.stringify(r)}\n`;
        chunk.push(line);
        chunkLength += line.length;
        count++;
        if (chunkLength >= CHUNK_BYTES) await flush();
      }
      if (chunk.length) await flush();
      if (this.fsync) await h.sync();
    } catch (err) {
      // The journal itself is untouched; give back the space the partial snapshot took.
      await h.close();
      await unlink(tmp).catch(() => undefined);
      throw err;
    }
    await h.close();
    await this.fs.rename(tmp, this.path);
    if (this.fsync) {
      const dir = await this.fs.open(dirname(this.path), constants.O_RDONLY);
      await dir.sync().catch(() => undefined);
      await dir.close();
    }
    await this.handle?.close();
    this.handle = await this.fs.open(this.path, constants.O_RDWR | constants.O_CREAT);
    this.size = bytes;
    this.lastSnapshotBytes = bytes;
    this.records = count;
  }

  async close(): Promise<void> {
    await this.settled();
    await this.handle?.close();
    this.handle = undefined;
  }
}
