// The recent alert decisions with their reasons, for `GET /decisions`: a bounded ring kept in
// memory (the journal keeps only what deduplication needs), newest first.
import type { Decision, DecisionKind } from '../model/decision.js';
import { decisionLogFields, type DecisionFields } from '../observability/log-decision.js';

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

export class DecisionHistory {
  private readonly ring: DecisionEntry[] = [];
  private next = 0;

  constructor(readonly capacity = 1000) {}

  add(d: Decision, at: number): void {
    const entry: DecisionEntry = {
      at: new Date(at).toISOString(),
      ...decisionLogFields(d),
      ...(d.confidence ? { confidence: d.confidence } : {}),
    };
    if (this.ring.length < this.capacity) this.ring.push(entry);
    else this.ring[this.next] = entry;
    this.next = (this.next + 1) % this.capacity;
  }

  get size(): number {
    return this.ring.length;
  }

  /** Newest first. */
  list(f: DecisionFilter): DecisionEntry[] {
    const out: DecisionEntry[] = [];
    const n = this.ring.length;
    for (let i = 1; i <= n && out.length < f.limit; i++) {
      const e = this.ring[(this.next - i + n) % n];
      if (!e) continue;
      if (f.decision && e.decision !== f.decision) continue;
      if (f.alertname && e.alertname !== f.alertname) continue;
      if (f.target && !(e.target ?? '').includes(f.target)) continue;
      out.push(e);
    }
    return out;
  }
}
