import { compileTemplate, goJson } from './go-template.ts';

/**
 * Output as docker prints it: tables aligned like Go's tabwriter (min width
 * 10, padding 3), and --format templates where `table` prints a header row,
 * `json` is `{{json .}}`, and `\t`/`\n` in the format are tab and newline.
 */

/** Aligns tab-separated lines into columns (Go tabwriter: minwidth 10, padding 3, last cell unpadded). */
export function alignColumns(lines: string[], minWidth = 10, padding = 3): string[] {
  const rows = lines.map((l) => l.split('\t'));
  const widths: number[] = [];
  for (const cells of rows) {
    cells.slice(0, -1).forEach((c, i) => {
      widths[i] = Math.max(widths[i] ?? 0, minWidth, [...c].length + padding);
    });
  }
  return rows.map((cells) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c + ' '.repeat((widths[i] ?? 0) - [...c].length)))
      .join(''),
  );
}

export interface TableSpec {
  /** docker's default format for the command, e.g. "table {{.ID}}\t{{.Names}}". */
  defaultFormat: string;
  /** Column headers by field name (ID → "CONTAINER ID"); other fields get their name upper-cased. */
  headers: Record<string, string>;
}

function headerName(field: string, headers: Record<string, string>): string {
  return headers[field] ?? field.replace(/([a-z])([A-Z])/g, '$1 $2').toUpperCase();
}

/** Renders rows (plain objects of display fields) with the user's --format or the command's default table. */
export function formatRows(rows: object[], format: string | undefined, spec: TableSpec): string {
  let f = format === undefined || format === '' || format === 'table' ? spec.defaultFormat : format;
  if (f === 'json') f = '{{json .}}';
  const isTable = f.startsWith('table');
  const body = (isTable ? f.slice('table'.length) : f).trim().replaceAll('\\t', '\t').replaceAll('\\n', '\n');
  const render = compileTemplate(body);
  const lines = rows.map((r) => render(r));
  if (!isTable) return lines.map((l) => `${l}\n`).join('');
  const header = new Proxy(
    {},
    { get: (_t, key) => (typeof key === 'string' ? headerName(key, spec.headers) : undefined) },
  );
  const table = alignColumns([render(header), ...lines]);
  return table.map((l) => `${l}\n`).join('');
}

/** Renders one value with an inspect -f template (one line per value). */
export function formatValue(value: unknown, template: string): string {
  return `${compileTemplate(template.replaceAll('\\t', '\t').replaceAll('\\n', '\n'))(value)}\n`;
}

export function shortId(id: string): string {
  return id.replace(/^sha256:/, '').slice(0, 12);
}

/** Truncates to `max` characters with an ellipsis, as docker truncates COMMAND. */
export function ellipsis(text: string, max: number): string {
  const chars = [...text];
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
}

/** JSON the way `docker inspect` prints it: a 4-space-indented array. */
export function inspectJson(values: unknown[]): string {
  return `${goJson(values, 4)}\n`;
}

/** Go's time.Time String() for unix seconds: "2026-11-23 11:03:39 +0000 UTC". */
export function goTime(unixSeconds: number): string {
  return `${new Date(unixSeconds * 1000)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, '')} +0000 UTC`;
}

/** Go's time.Time String() for an RFC 3339 timestamp, keeping its fraction: "2026-11-23 16:36:18.72 +0000 UTC". */
export function goTimeRfc3339(text: string): string {
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) return text;
  const fraction = (/\.(\d+)/.exec(text)?.[1] ?? '').slice(0, 9).replace(/0+$/, '');
  const seconds = new Date(Math.floor(ms / 1000) * 1000)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, '');
  return `${seconds}${fraction ? `.${fraction}` : ''} +0000 UTC`;
}
