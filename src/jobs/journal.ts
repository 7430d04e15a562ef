// Append-only JSON-lines journal with group commit: appends that arrive while a write+fsync is
// in flight are batched into the next one, so durability costs one fsync per batch, not per
// request. A failed write is truncated away (nothing half-written survives) and fails its batch
// and every batch queued behind it, because those were decided on top of the failed one.
import { constants } from 'node:fs';
import { mkdir, open, readFile, rename, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';

export interface JournalFs {
  open(path: string, flags: number): Promise<FileHandle>;
  readFile(path: string): Promise<string>;
  rename(from: string, to: string): Promise<void>;
}

const nodeFs: JournalFs = {
  open: (p, flags) => open(p, flags, 0o600),
  readFile: (p) => readFile(p, 'utf8'),
  rename: (a, b) => rename(a, b),
};

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

  private readonly compactAboveBytes: number;
  /** Supplies the snapshot to compact to; called only when nothing is pending or in flight. */
  snapshot: (() => R[]) | undefined;

  constructor(
    dir: string,
    options: { fs?: JournalFs; fsync?: boolean; name?: string; compactAboveBytes?: number } = {},
  ) {
    this.path = join(dir, options.name ?? 'journal.jsonl');
    this.fs = options.fs ?? nodeFs;
    this.fsync = options.fsync ?? true;
    this.compactAboveBytes = options.compactAboveBytes ?? 64 * 1024 * 1024;
  }

  /** Reads every intact record. A torn last line (crash mid-write) is dropped and reported. */
  async open(): Promise<{ records: R[]; torn: number }> {
    await mkdir(dirname(this.path), { recursive: true });
    let text = '';
    try {
      text = await this.fs.readFile(this.path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    const records: R[] = [];
    let torn = 0;
    let good = 0;
    for (const line of text.split('\n')) {
      if (line === '') continue;
      try {
        records.push(JSON.parse(line) as R);
        good += Buffer.byteLength(line) + 1;
      } catch {
        torn++;
      }
    }
    this.handle = await this.fs.open(this.path, constants.O_RDWR | constants.O_CREAT);
    // Cut a torn tail so the next append starts on a clean line.
    if (torn) await this.handle.truncate(good);
    this.size = torn ? good : Buffer.byteLength(text);
    this.records = records.length;
    return { records, torn };
  }

  /** Resolves once the records are on disk (fsync'd). */
  append(records: R[]): Promise<void> {
    if (records.length === 0) return Promise.resolve();
    const lines = records.map((r) => `${JSON.stringify(r)}\n`);
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
      if (!this.pending && this.snapshot && this.size > this.compactAboveBytes) {
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

  /** Replaces the journal with a snapshot now (call before any append, e.g. right after open). */
  async compact(records: R[]): Promise<void> {
    while (this.flushing) await this.flushing;
    await this.writeSnapshot(records);
  }

  /** Write temp, fsync, rename over the journal, fsync the directory. */
  private async writeSnapshot(records: R[]): Promise<void> {
    const tmp = `${this.path}.tmp`;
    const text = records.map((r) => `${JSON.stringify(r)}\n`).join('');
    const h = await this.fs.open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC);
    try {
      await h.writeFile(text);
      if (this.fsync) await h.sync();
    } finally {
      await h.close();
    }
    await this.fs.rename(tmp, this.path);
    if (this.fsync) {
      const dir = await this.fs.open(dirname(this.path), constants.O_RDONLY);
      await dir.sync().catch(() => undefined);
      await dir.close();
    }
    await this.handle?.close();
    this.handle = await this.fs.open(this.path, constants.O_RDWR | constants.O_CREAT);
    this.size = Buffer.byteLength(text);
    this.records = records.length;
  }

  async close(): Promise<void> {
    while (this.flushing) await this.flushing;
    await this.handle?.close();
    this.handle = undefined;
  }
}
