/** One Server-Sent Event as received. */
export interface ReceivedSse {
  type: string;
  id: string | undefined;
  data: string;
}

/** An open Server-Sent Events response, read in the background into `events`. */
export interface SseClient {
  status: number;
  events: ReceivedSse[];
  close(): void;
}

/** Opens `url` with `headers` (for example `last-event-id`) and collects its events until `close()`. */
export async function openSse(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
  const controller = new AbortController();
  const response = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: controller.signal });
  const events: ReceivedSse[] = [];
  if (response.body) {
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    void (async () => {
      let buffered = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffered += decoder.decode(value, { stream: true });
        let end: number;
        while ((end = buffered.indexOf('\n\n')) >= 0) {
          const block = buffered.slice(0, end);
          buffered = buffered.slice(end + 2);
          const field = (name: string) =>
            block
              .split('\n')
              .filter((line) => line.startsWith(`${name}:`))
              .map((line) => line.slice(name.length + 1).replace(/^ /, ''));
          if (field('data').length === 0) continue;
          events.push({ type: field('event')[0] ?? 'message', id: field('id')[0], data: field('data').join('\n') });
        }
      }
    })().catch(() => undefined);
  }
  return { status: response.status, events, close: () => controller.abort() };
}
