/**
 * Requests Node's HTTP parser refuses before Express runs still get RFC 9457 problem+json, on a server started the way
 * `npm start` starts it (startControlPlane).
 */
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { problemType } from '../../src/api/problem';
import { startControlPlane, type RunningControlPlane } from '../../src/control-plane';
import { createLogger } from '../../src/observability/logger';
import { freePort } from '../support/ports';
import { testConfig, testDatabaseUrl, uniqueTaskQueue } from '../support/stack';

let api: RunningControlPlane;
let port: number;

beforeAll(async () => {
  port = await freePort();
  const config = testConfig({ PROCESS_ROLES: 'api', API_PORT: String(port), TEMPORAL_TASK_QUEUE: uniqueTaskQueue('client-errors') });
  api = await startControlPlane(config, testDatabaseUrl(), createLogger('silent'));
});
afterAll(() => api.stop());

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Sends bytes as they are (no client to tidy them up) and reads the reply until the server closes the connection. */
function sendRaw(bytes: string): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(bytes));
    const chunks: Buffer[] = [];
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const [head = '', ...rest] = Buffer.concat(chunks).toString('utf8').split('\r\n\r\n');
      const [statusLine = '', ...headerLines] = head.split('\r\n');
      const headers = Object.fromEntries(headerLines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]));
      resolve({ status: Number(statusLine.split(' ')[1]), headers, body: rest.join('\r\n\r\n') });
    });
  });
}

/** Node's own HTTP client, as a real caller would send it. */
function get(path: string, headers: Record<string, string>): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest({ host: '127.0.0.1', port, path, headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers as Record<string, string>, body: Buffer.concat(chunks).toString('utf8') }));
    });
    outgoing.on('error', reject);
    outgoing.end();
  });
}

describe('requests the HTTP parser refuses', () => {
  it('answer a 20 KB Authorization header with 431 problem+json, and the server keeps serving', async () => {
    const response = await get('/api/v1/admin/tenants', { Authorization: `Bearer ${'x'.repeat(20 * 1024)}` });

    expect(response.status).toBe(431);
    expect(response.headers['content-type']).toBe('application/problem+json');
    expect(response.headers.connection).toBe('close');
    expect(Number(response.headers['content-length'])).toBe(Buffer.byteLength(response.body));
    expect(JSON.parse(response.body)).toEqual({
      type: problemType('Request header fields too large'),
      title: 'Request header fields too large',
      status: 431,
      detail: expect.any(String),
    });
    expect((await get('/healthz', {})).status).toBe(200);
  });

  it('answer a malformed header line with 400 problem+json and close the connection', async () => {
    const response = await sendRaw('GET /healthz HTTP/1.1\r\nHost: localhost\r\nthis line has no colon\r\n\r\n');

    expect(response.status).toBe(400);
    expect(response.headers['content-type']).toBe('application/problem+json');
    expect(response.headers.connection).toBe('close');
    expect(Number(response.headers['content-length'])).toBe(Buffer.byteLength(response.body));
    expect(JSON.parse(response.body)).toEqual({ type: problemType('Bad request'), title: 'Bad request', status: 400, detail: expect.any(String) });
  });
});
