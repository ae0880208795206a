// Goal: at a terminal, the start log reads as a person expects — the banner puts the URL to open
// first, then the data dir, the chain and the admin hint — and every other line is time, level,
// message and fields; what is not pino JSON passes through untouched; secrets scrubbed by the
// logger stay scrubbed (the formatter only re-shapes what pino wrote).
// Method: the pure formatter on pino lines, and a real pino logger (createLogger) writing through
// prettyStream into a buffer.
import { describe, expect, it } from 'vitest';
import { createLogger } from './logging.ts';
import { RUNNING_MESSAGE, formatBanner, formatLogLine, prettyStream } from './pretty-log.ts';

const running = { level: 30, time: Date.UTC(2026, 0, 1), pid: 1, hostname: 'h', url: 'http://127.0.0.1:3000', docs: 'http://127.0.0.1:3000/docs', data_dir: './data', database: 'SQLite data/settle.db', chains: ['Local dev chain (31337)'], dev_chain: true, msg: RUNNING_MESSAGE };

describe('pretty start log', () => {
  it('the banner: the URL to open first, then data, chain, the admin hint', () => {
    const text = formatLogLine(JSON.stringify(running));
    const lines = text.split('\n').filter((l) => l.trim() !== '');
    expect(lines[0]!.trim()).toBe('Settle is running');
    expect(lines[1]).toBe('  Open  http://127.0.0.1:3000/');
    expect(lines[2]).toBe('  Data  ./data · SQLite data/settle.db');
    expect(lines[3]).toMatch(/^ {2}Chain Local dev chain \(31337\), on this machine; pay an address with: npx settle dev pay/);
    expect(lines[4]).toMatch(/^ {2}Staff first admin: npx settle admin create --email <email> --password <password> --role admin$/);
    expect(lines[5]).toBe('  API   http://127.0.0.1:3000/docs (OpenAPI)');
    expect(text).not.toContain('{');
    // A configured chain is named without the dev chain's hint; none at all says so.
    expect(formatBanner({ ...running, dev_chain: false, chains: ['Ethereum (1)'] })).toContain('  Chain Ethereum (1)\n');
    expect(formatBanner({ url: 'http://x', chains: [] })).toContain('  Chain none configured\n');
  });

  it('other lines: time, level, message, fields; errors with their stack; not-JSON untouched', () => {
    const at = new Date(2026, 0, 1, 9, 5, 7).getTime();
    expect(formatLogLine(JSON.stringify({ level: 30, time: at, pid: 1, hostname: 'h', msg: 'database ready', migrations_applied: 3, database: 'SQLite ./data/settle.db' })))
      .toBe('09:05:07 info  database ready  migrations_applied=3 database="SQLite ./data/settle.db"');
    expect(formatLogLine(JSON.stringify({ level: 40, time: at, msg: 'chain lagging', chain: { id: 1 } }))).toBe('09:05:07 WARN  chain lagging  chain={"id":1}');
    const withStack = formatLogLine(JSON.stringify({ level: 50, time: at, msg: 'job failed', err: { message: 'boom', stack: 'Error: boom\n    at x' } }));
    expect(withStack).toBe('09:05:07 ERROR job failed\nError: boom\n    at x');
    expect(formatLogLine(JSON.stringify({ level: 50, time: at, msg: 'job failed', err: 'Error: boom' }))).toBe('09:05:07 ERROR job failed');
    expect(formatLogLine('plain text from a child')).toBe('plain text from a child');
    expect(formatLogLine('[1,2]')).toBe('[1,2]');
    expect(formatLogLine(JSON.stringify({ level: 30, time: at, msg: 'x', long: 'y'.repeat(500) })).length).toBeLessThan(260);
  });

  it('a real logger through prettyStream: whole lines, split writes joined, secrets still scrubbed', async () => {
    let out = '';
    const sink = { write: (s: string) => (out += s) };
    const stream = prettyStream(sink);
    const log = createLogger({ log_level: 'info', chains: [] }, stream);
    log.info({ password: 'hunter2', url: 'http://x/?token=abc' }, 'signed in');
    log.info({ url: 'http://127.0.0.1:3000', data_dir: '/tmp/d', chains: [], dev_chain: false }, RUNNING_MESSAGE);
    stream.write('{"level":30,"time":0,"ms');
    stream.write('g":"split"}\n');
    await new Promise<void>((resolve) => stream.end(resolve));
    expect(out).toContain(' info  signed in  password=[redacted] url="http://x/?token=[redacted]"\n');
    expect(out).not.toContain('hunter2');
    expect(out).toContain('  Open  http://127.0.0.1:3000/\n');
    expect(out).toMatch(/ info {2}split\n$/);
  });
});
