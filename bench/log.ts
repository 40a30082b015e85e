// The bench's progress lines: stderr, so that --json keeps stdout to the report.
export function log(line: string): void {
  process.stderr.write(`${line}\n`);
}
