// An event-stream (server-sent events) client for tests and benches: follows a stream with a
// cookie, `events` grows as records arrive; `onEvent` sees each one as it comes.

export interface SseEvent {
  event: string;
  data: unknown;
}

export interface FollowedStream {
  events: SseEvent[];
  status: number;
  close: () => void;
}

/** Follows an event stream; `events` grows as records arrive. */
export async function follow(url: string, cookie: string, onEvent?: (event: SseEvent) => void): Promise<FollowedStream> {
  const controller = new AbortController();
  const response = await fetch(url, { headers: { cookie, accept: 'text/event-stream' }, signal: controller.signal });
  const events: SseEvent[] = [];
  if (response.ok && response.body) {
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    void (async () => {
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
        if (done) return;
        buffer += value;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const record = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          let event = 'message';
          const data: string[] = [];
          for (const line of record.split('\n')) {
            if (line.startsWith('event: ')) event = line.slice(7);
            else if (line.startsWith('data: ')) data.push(line.slice(6));
          }
          if (data.length === 0) continue;
          const parsed = { event, data: JSON.parse(data.join('\n')) as unknown };
          events.push(parsed);
          onEvent?.(parsed);
        }
      }
    })();
  }
  return { events, status: response.status, close: () => controller.abort() };
}

