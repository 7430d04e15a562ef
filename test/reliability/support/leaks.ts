// Collects everything the controller said (logs, responses, metrics, Slack bodies) so a file can
// check, at its end, that no configured secret ever appeared in any of it.
export class LeakWatch {
  private readonly seen: Array<{ where: string; text: string }> = [];

  add(where: string, text: unknown): void {
    this.seen.push({ where, text: typeof text === 'string' ? text : JSON.stringify(text) });
  }

  get size(): number {
    return this.seen.length;
  }

  /** `where: name` for every captured text that contains a secret. */
  find(secrets: Record<string, string>): string[] {
    const out: string[] = [];
    for (const { where, text } of this.seen) {
      for (const [name, value] of Object.entries(secrets)) {
        if (value && text.includes(value)) out.push(`${where}: ${name}`);
      }
    }
    return out;
  }
}
