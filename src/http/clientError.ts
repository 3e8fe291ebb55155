import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { HttpProblem } from './problems.ts';

/**
 * Answers what never became a request (malformed HTTP, oversized headers, a client too slow
 * to send) with problem details too, then closes the connection as Node does.
 */
export function writeClientErrorProblem(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const problem =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? new HttpProblem('invalid-request', 'headers: too large', { status: 431 })
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? new HttpProblem('invalid-request', 'the request was not received in time', { status: 408 })
        : new HttpProblem('invalid-request', 'not a valid HTTP request');
  const body = JSON.stringify(problem.toDocument());
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${problem.status} ${STATUS_CODES[problem.status]}\r\nContent-Type: application/problem+json\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}
