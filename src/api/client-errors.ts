import { STATUS_CODES, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { problemType } from './problem';

interface ClientErrorProblem {
  status: number;
  title: string;
  detail: string;
}

/** Node's own parse and timeout errors, by code, as the problem the client is told; any other parse error is a 400. */
const PROBLEM_BY_ERROR_CODE: Record<string, ClientErrorProblem> = {
  HPE_HEADER_OVERFLOW: { status: 431, title: 'Request header fields too large', detail: 'The request header fields together exceed the size this server accepts.' },
  HPE_CHUNK_EXTENSIONS_OVERFLOW: { status: 413, title: 'Content too large', detail: 'The chunk extensions of the request body exceed the size this server accepts.' },
  ERR_HTTP_REQUEST_TIMEOUT: { status: 408, title: 'Request timeout', detail: 'The request was not received in time.' },
};
const BAD_REQUEST: ClientErrorProblem = { status: 400, title: 'Bad request', detail: 'The request is not valid HTTP/1.1.' };

/** A complete HTTP/1.1 response carrying the problem in the same shape as sendProblem's; the connection closes after it. */
function rawProblemResponse(problem: ClientErrorProblem): string {
  const body = JSON.stringify({ type: problemType(problem.title), title: problem.title, status: problem.status, detail: problem.detail });
  return [
    `HTTP/1.1 ${problem.status} ${STATUS_CODES[problem.status] ?? problem.title}`,
    'Content-Type: application/problem+json',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Connection: close',
    '',
    body,
  ].join('\r\n');
}

/**
 * Requests Node refuses before Express ever runs (an oversized header block, unparseable HTTP) get problem+json like
 * every other refusal, instead of Node's bare status line.
 */
export function answerClientErrorsWithProblems(server: Server): void {
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    // A reset peer cannot read an answer, and a response already under way must not get a second status line.
    if (error.code === 'ECONNRESET' || !socket.writable || responseUnderWay(socket)) {
      socket.destroy();
      return;
    }
    const problem = PROBLEM_BY_ERROR_CODE[error.code ?? ''] ?? BAD_REQUEST;
    // Destroyed once flushed: the parser is dead, so nothing else would ever close this connection.
    socket.end(rawProblemResponse(problem), () => socket.destroy());
  });
}

/** The same guard Node's default handler applies, on the field Node keeps the socket's current response in. */
function responseUnderWay(socket: Duplex): boolean {
  return (socket as Duplex & { _httpMessage?: ServerResponse })._httpMessage?.headersSent === true;
}
