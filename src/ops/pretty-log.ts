// The start log for a person at a terminal: `npm start` in a terminal shows a short banner with
// the URL to open first, then each log line as time, level, message and its fields; piped to a
// file or a log collector, the log stays pino's JSON (main.ts chooses by process.stdout.isTTY).
// The formatting is pure (formatLogLine); prettyStream only splits pino's output into lines.
import { Writable } from 'node:stream';

/** The message of the log line that says the platform is up (main.ts): shown as the banner. */
export const RUNNING_MESSAGE = 'Settle is running';

const LEVELS: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const HIDDEN = new Set(['level', 'time', 'pid', 'hostname', 'msg', 'v']);
const FIELD_CHARS_MAX = 200;

interface RunningFields {
  url?: unknown;
  docs?: unknown;
  data_dir?: unknown;
  database?: unknown;
  chains?: unknown;
  dev_chain?: unknown;
}

/**
 * The banner of "Settle is running": where to go first, then where things are.
 *   formatBanner({ url: 'http://127.0.0.1:3000', data_dir: './data', chains: ['Local dev chain (31337)'], dev_chain: true })
 */
export function formatBanner(f: RunningFields): string {
  const url = typeof f.url === 'string' ? f.url : '';
  const chains = Array.isArray(f.chains) && f.chains.length > 0 ? f.chains.map(String).join(', ') : 'none configured';
  const rows: Array<[string, string]> = [
    ['Open', `${url}/`],
    ['Data', [f.data_dir, f.database].filter((x) => typeof x === 'string' && x !== '').join(' · ')],
    ['Chain', f.dev_chain === true ? `${chains}, on this machine; pay an address with: npx settle dev pay <address> <amount> [USDT|ETH]` : chains],
    ['Staff', 'first admin: npx settle admin create --email <email> --password <password> --role admin'],
    ['API', typeof f.docs === 'string' ? `${f.docs} (OpenAPI)` : ''],
  ];
  const lines = rows.filter(([, v]) => v !== '').map(([k, v]) => `  ${k.padEnd(6)}${v}`);
  return ['', `  ${RUNNING_MESSAGE}`, '', ...lines, '', '  Stop with Ctrl+C.', ''].join('\n');
}

function fieldText(value: unknown): string {
  const s = typeof value === 'string' ? value : JSON.stringify(value) ?? String(value);
  const quoted = /[\s"=]/.test(s) && typeof value === 'string' ? JSON.stringify(s) : s;
  return quoted.length > FIELD_CHARS_MAX ? `${quoted.slice(0, FIELD_CHARS_MAX)}…` : quoted;
}

function clockTime(time: unknown): string {
  const d = new Date(typeof time === 'number' ? time : Date.now());
  return d.toTimeString().slice(0, 8);
}

/**
 * One pino JSON line as a person reads it; a line that is not JSON passes through as it is.
 *   formatLogLine('{"level":30,"time":0,"msg":"database ready","migrations_applied":3}')
 *     -> '08:00:00 info  database ready  migrations_applied=3'
 */
export function formatLogLine(line: string): string {
  let entry: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(line);
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return line;
    entry = parsed as Record<string, unknown>;
  } catch {
    return line;
  }
  if (entry.msg === RUNNING_MESSAGE) return formatBanner(entry);
  const level = LEVELS[Number(entry.level)] ?? String(entry.level ?? '');
  const err = entry.err as { message?: unknown; stack?: unknown } | undefined;
  const fields = Object.entries(entry)
    .filter(([k, v]) => !HIDDEN.has(k) && k !== 'err' && v !== undefined)
    .map(([k, v]) => `${k}=${fieldText(v)}`);
  const head = `${clockTime(entry.time)} ${level.padEnd(5)} ${typeof entry.msg === 'string' ? entry.msg : ''}`.trimEnd();
  const text = fields.length > 0 ? `${head}  ${fields.join(' ')}` : head;
  return err && typeof err.stack === 'string' ? `${text}\n${err.stack}` : err && err.message !== undefined ? `${text}  err=${fieldText(err.message)}` : text;
}

/** A destination for pino that writes each line through formatLogLine to `out` (a terminal). */
export function prettyStream(out: { write(text: string): unknown }): Writable {
  let rest = '';
  return new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      const lines = (rest + chunk.toString()).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) if (line !== '') out.write(`${formatLogLine(line)}\n`);
      done();
    },
    final(done) {
      if (rest !== '') out.write(`${formatLogLine(rest)}\n`);
      done();
    },
  });
}
