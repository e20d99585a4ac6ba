export interface ServerSentEvent {
  /** The `event:` field, `message` when the server sent none. */
  type: string;
  /** The `data:` lines, joined by line feeds. */
  data: string;
}

/**
 * Splits a `text/event-stream` into its events, as the HTML standard reads one: `field: value`
 * lines, a blank line ends an event, lines starting with `:` are comments, an event without data
 * is dropped. `id` and `retry` are not used by the farm and are ignored.
 */
export async function* serverSentEvents(chunks: AsyncIterable<string> | Iterable<string>): AsyncGenerator<ServerSentEvent> {
  let pending = '';
  let type = '';
  let data: string[] = [];
  for await (const chunk of chunks) {
    pending += chunk;
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const raw of lines) {
      const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
      if (line === '') {
        if (data.length > 0) yield { type: type || 'message', data: data.join('\n') };
        type = '';
        data = [];
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'event') type = value;
      else if (field === 'data') data.push(value);
    }
  }
}

/** The text of a response body, chunk by chunk as it arrives; stopping early closes the body. */
export async function* textChunks(body: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let finished = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      yield decoder.decode(value, { stream: true });
    }
    finished = true;
    const rest = decoder.decode();
    if (rest) yield rest;
  } finally {
    if (!finished) await reader.cancel().catch(() => undefined);
    reader.releaseLock();
  }
}
