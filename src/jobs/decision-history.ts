// The recent alert decisions with their reasons, for `GET /decisions`: a bounded ring, newest
// first. It survives a restart through the journal: after replay the controller reads the
// journal's last decisions from its end (Journal.tail), and compaction keeps the ring's decisions
// (records without an instance key, so they restore the history and nothing else) while it drops
// every older one.
import type { Decision, DecisionKind } from '../model/decision.js';
import { decisionLogFields, type DecisionFields } from '../observability/log-decision.js';
import type { JournalRecord } from './journal-record.js';

/** The decision's log line, with its time and confidence. */
export interface DecisionEntry extends DecisionFields {
  at: string;
  confidence?: string;
}

export interface DecisionFilter {
  limit: number;
  decision?: DecisionKind;
  /** Substring of the target ("shop/api"). */
  target?: string;
  alertname?: string;
}

interface Kept {
  at: number;
  d: Decision;
}

export class DecisionHistory {
  private readonly ring: Kept[] = [];
  private next = 0;

  constructor(readonly capacity = 1000) {}

  add(d: Decision, at: number): void {
    const kept = { at, d };
    if (this.ring.length < this.capacity) this.ring.push(kept);
    else this.ring[this.next] = kept;
    this.next = (this.next + 1) % this.capacity;
  }

  get size(): number {
    return this.ring.length;
  }

  /** Newest first. */
  list(f: DecisionFilter): DecisionEntry[] {
    const out: DecisionEntry[] = [];
    for (const { at, d } of this.newestFirst()) {
      if (out.length >= f.limit) break;
      if (f.decision && d.decision !== f.decision) continue;
      if (f.alertname && d.alertname !== f.alertname) continue;
      const entry = entryOf(d, at);
      if (f.target && !(entry.target ?? '').includes(f.target)) continue;
      out.push(entry);
    }
    return out;
  }

  /** What a compacted journal keeps of the history, oldest first (captured now). */
  records(): JournalRecord[] {
    return [...this.newestFirst()].reverse().map(({ at, d }) => ({ t: 'decision', at, d }));
  }

  private *newestFirst(): Generator<Kept> {
    const n = this.ring.length;
    for (let i = 1; i <= n; i++) {
      const kept = this.ring[(this.next - i + n) % n];
      if (kept) yield kept;
    }
  }
}

function entryOf(d: Decision, at: number): DecisionEntry {
  return {
    at: new Date(at).toISOString(),
    ...decisionLogFields(d),
    ...(d.confidence ? { confidence: d.confidence } : {}),
  };
}
