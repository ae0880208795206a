// Test helpers for server-sent events: open GET /api/v1/stream with fetch and collect what arrives.
export interface SseEvent { event: string | null; id: string | null; data: string | null; comment: boolean }

export function parseSse(text: string): SseEvent[] {
  return text.split('\n\n').filter((b) => b.trim()).map((block) => {
    const e: SseEvent = { event: null, id: null, data: null, comment: false };
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) e.comment = true;
      else if (line.startsWith('event: ')) e.event = line.slice(7);
      else if (line.startsWith('id: ')) e.id = line.slice(4);
      else if (line.startsWith('data: ')) e.data = line.slice(6);
    }
    return e;
  });
}

/** const s = listenSse(base, { authorization: 'Bearer …' }); await until(() => s.events().length > 0); await s.close() */
export function listenSse(base: string, headers: Record<string, string>, path = '/api/v1/stream') {
  const ctl = new AbortController();
  let text = '';
  let opened = false;
  const done = (async () => {
    const res = await fetch(`${base}${path}`, { headers: { accept: 'text/event-stream', ...headers }, signal: ctl.signal });
    const reader = res.body!.getReader();
    const dec = new TextDecoder();
    for (;;) {
      const { value, done: end } = await reader.read();
      if (end) return;
      opened = true;
      text += dec.decode(value, { stream: true });
    }
  })().catch(() => undefined);
  return {
    opened: () => opened,
    events: () => parseSse(text).filter((e) => e.event),
    comments: () => parseSse(text).filter((e) => e.comment).length,
    close: async () => { ctl.abort(); await done; },
  };
}

export async function until(what: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const t0 = Date.now();
  while (!(await what())) {
    if (Date.now() - t0 > ms) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 25));
  }
}
