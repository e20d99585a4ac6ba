/** A CSV field per RFC 4180: quoted (with quotes doubled) when it holds a comma, a quote or a line break. */
export function csvField(value: string | number | boolean | null): string {
  if (value === null) return '';
  const text = String(value);
  // An empty string is quoted, as Postgres's COPY does, so it reads back apart from a null.
  return text === '' || /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** A header line and one line per row, each ending in a line feed as Postgres's COPY writes them. */
export function toCsv(header: readonly string[], rows: readonly (readonly (string | number | boolean | null)[])[]): string {
  return [header, ...rows].map((row) => `${row.map(csvField).join(',')}\n`).join('');
}
