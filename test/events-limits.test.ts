// Proves the event paths hold up against heavy or hostile peers: a stream with a backlog of many
// megabytes catches up in order and then goes live, and the server still shuts down; a webhook
// receiver that answers with an endless body cannot make the platform hold it in memory; a caller
// cannot open streams without bound.
import { createServer, request as httpRequest, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { PlatformCommand } from '../src/platform/types.ts';
import { onboardBank, openWallet, startPlatform } from './support/platform.ts';

function openStream(base: string, key: string): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(`${base}/v1/events/stream`, { headers: { authorization: `Bearer ${key}` } }, resolve);
    request.on('error', reject);
    request.end();
  });
}

describe('an event stream with a long backlog', () => {
  it('delivers every event in order, then live ones, and does not hold the server open', async () => {
    const server = await startPlatform();
    let closed = false;
    try {
      const bankKey = await onboardBank(server, 'backlog', 'BKLGKZKA', { reserves: 10_000_000n, issue: 1_000_000n });
      const holder = await openWallet(server, bankKey);
      // 12,000 events of about 300 bytes: several megabytes, far beyond one catch-up step.
      const credits: PlatformCommand[] = Array.from({ length: 12_000 }, (_, i) => ({ kind: 'x.credit_account', id: `backlog-${i}`, wallet: holder.id, amount: 1n }));
      const results = await server.sequencer.submit(credits);
      expect(results.every((result) => result.ok)).toBe(true);
      const last = (await server.call<{ last: number }>('GET', '/v1/events?limit=1', undefined, bankKey)).json.last;
      expect(last).toBeGreaterThan(12_000);

      const stream = await openStream(server.base, bankKey);
      expect(stream.statusCode).toBe(200);
      const seen: number[] = [];
      let text = '';
      const reached = (seq: number) =>
        new Promise<void>((resolve) => {
          const check = (): void => {
            if (seen.at(-1) !== undefined && seen.at(-1)! >= seq) resolve();
            else setTimeout(check, 20);
          };
          check();
        });
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        text += chunk;
        let end: number;
        while ((end = text.indexOf('\n\n')) >= 0) {
          const frame = text.slice(0, end);
          text = text.slice(end + 2);
          const id = /^id: backlog:(\d+)$/m.exec(frame);
          if (id !== null) seen.push(Number(id[1]));
        }
      });
      await reached(last);
      expect(seen).toEqual(Array.from({ length: last }, (_, i) => i + 1));
      // Now live.
      expect((await server.call('POST', `/v1/wallets/${holder.id}/bank-account/credit`, { amount: '5' }, bankKey)).status).toBe(200);
      await reached(last + 1);
      expect(seen.at(-1)).toBe(last + 1);
      // Shutting down ends the open stream instead of waiting for the client.
      await server.close();
      closed = true;
    } finally {
      if (!closed) await server.close();
    }
  });

  it('refuses a ninth concurrent stream of one caller with 429 too_many_streams', async () => {
    const server = await startPlatform();
    const streams: IncomingMessage[] = [];
    try {
      const bankKey = await onboardBank(server, 'streams', 'STRMKZKA');
      for (let i = 0; i < 8; i++) {
        const stream = await openStream(server.base, bankKey);
        expect(stream.statusCode).toBe(200);
        streams.push(stream);
      }
      const ninth = await server.call<{ code: string }>('GET', '/v1/events/stream', undefined, bankKey);
      expect(ninth.status).toBe(429);
      expect(ninth.json.code).toBe('too_many_streams');
    } finally {
      for (const stream of streams) stream.destroy();
      await server.close();
    }
  });
});

describe('a webhook receiver that answers with an endless body', () => {
  it('gets its events, and the platform does not read the body', async () => {
    let bytesSent = 0;
    const received: string[] = [];
    const receiver = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        received.push(String(request.headers['tengri-event-id']));
        response.writeHead(200, { 'content-type': 'application/octet-stream' });
        const chunk = Buffer.alloc(64 * 1024, 120);
        const pump = (): void => {
          // At most 256 MiB: enough to notice a reader that keeps reading, bounded for the test.
          while (bytesSent < 256 * 1024 * 1024 && response.write(chunk)) bytesSent += chunk.length;
          if (bytesSent < 256 * 1024 * 1024) response.once('drain', pump);
          else response.end();
        };
        pump();
        response.on('close', () => undefined);
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const port = (receiver.address() as AddressInfo).port;
    const server = await startPlatform();
    try {
      const bankKey = await onboardBank(server, 'hooked', 'HOOKKZKA');
      expect((await server.call('PUT', '/v1/webhook', { url: `http://127.0.0.1:${port}/events` }, bankKey)).status).toBe(200);
      await openWallet(server, bankKey);
      await openWallet(server, bankKey);
      const deadline = Date.now() + 20_000;
      while (received.length < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      expect(received).toEqual(['hooked:2', 'hooked:3']);
      // The receiver could send far more than it managed to: the platform stopped reading.
      expect(bytesSent).toBeLessThan(64 * 1024 * 1024);
    } finally {
      await server.close();
      receiver.closeAllConnections();
      await new Promise((resolve) => receiver.close(resolve));
    }
  });
});
