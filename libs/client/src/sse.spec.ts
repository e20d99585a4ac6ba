import { serverSentEvents, textChunks, type ServerSentEvent } from './sse';

async function collect(chunks: string[]): Promise<ServerSentEvent[]> {
  const events: ServerSentEvent[] = [];
  for await (const event of serverSentEvents(chunks)) events.push(event);
  return events;
}

describe('serverSentEvents', () => {
  it('reads named events with their data, however the stream is cut into chunks', async () => {
    const stream = 'event: progress\ndata: {"a":1}\n\nevent: finished\ndata: {"b":2}\n\n';
    const expected = [
      { type: 'progress', data: '{"a":1}' },
      { type: 'finished', data: '{"b":2}' },
    ];
    expect(await collect([stream])).toEqual(expected);
    for (let cut = 1; cut < stream.length; cut++) {
      expect(await collect([stream.slice(0, cut), stream.slice(cut)])).toEqual(expected);
    }
    expect(await collect([...stream])).toEqual(expected);
  });

  it('joins data lines, takes CRLF line ends, skips comments, names unnamed events message and drops events without data', async () => {
    const stream = ': keep-alive\r\ndata: one\r\ndata:two\r\n\r\nevent: empty\r\n\r\nid: 7\r\nretry: 10\r\ndata\r\n\r\n';
    expect(await collect([stream])).toEqual([
      { type: 'message', data: 'one\ntwo' },
      { type: 'message', data: '' },
    ]);
  });

  it('does not yield an event the stream never finished', async () => {
    expect(await collect(['event: progress\ndata: {"a":1}\n'])).toEqual([]);
  });
});

describe('textChunks', () => {
  it('decodes a body whose multi-byte characters are split across chunks', async () => {
    const bytes = new TextEncoder().encode('énergie ÷ 2');
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (const byte of bytes) controller.enqueue(new Uint8Array([byte]));
        controller.close();
      },
    });
    let text = '';
    for await (const chunk of textChunks(body)) text += chunk;
    expect(text).toBe('énergie ÷ 2');
  });

  it('cancels the body when the reader stops early', async () => {
    let cancelled = false;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        controller.enqueue(new TextEncoder().encode('x'));
      },
      cancel() {
        cancelled = true;
      },
    });
    for await (const chunk of textChunks(body)) {
      expect(chunk).toBe('x');
      break;
    }
    expect(cancelled).toBe(true);
  });
});
