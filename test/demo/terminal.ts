// Terminal output for the demo: numbered sections, indented lines, aligned columns; bold only
// when stdout is a terminal, so piped output (and the demo test) stays plain text.
const bold = process.stdout.isTTY ? (s: string) => `\x1b[1m${s}\x1b[0m` : (s: string) => s;
const dim = process.stdout.isTTY ? (s: string) => `\x1b[2m${s}\x1b[0m` : (s: string) => s;

let sectionNo = 0;

export function section(title: string): void {
  sectionNo++;
  const head = `── ${sectionNo}. ${title} `;
  process.stdout.write(`\n${bold(head + '─'.repeat(Math.max(3, 78 - head.length)))}\n`);
}

export function say(line = ''): void {
  process.stdout.write(`  ${line}\n`);
}

export function note(line: string): void {
  process.stdout.write(`  ${dim(line)}\n`);
}

/** Columns padded to the widest cell; the first row is the header. */
export function table(rows: string[][]): void {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  rows.forEach((r, n) => {
    const line = r
      .map((c, i) => c.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
    say(n === 0 ? bold(line) : line);
  });
}

/** A quoted block, as a chat message would sit in its channel. */
export function quote(lines: string[]): void {
  for (const l of lines) say(`│ ${l}`);
}

export function clock(at: string | number): string {
  return new Date(at).toISOString().slice(11, 23);
}
