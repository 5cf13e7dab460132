/**
 * Postgres errors that no retry can cure: the same statement with the same data fails the same way again. Class 22
 * (data exception: a NUL byte, an invalid value for a column's type, a number out of range) and class 23 (integrity
 * constraint violation). Everything else (connection loss, serialization failures, deadlocks, timeouts) may pass on a
 * later attempt.
 */
const DETERMINISTIC_SQLSTATE_CLASSES: Record<string, string> = {
  '22': 'InvalidData',
  '23': 'ConstraintViolation',
};

/** A NUL in a bound parameter never reaches SQL: the server refuses the protocol message itself. */
const DETERMINISTIC_SQLSTATES: Record<string, string> = { '08P01': 'InvalidData' };

export interface DeterministicDatabaseFailure {
  type: string;
  /** SQLSTATE and Postgres's detail, never the statement: its parameters may hold secrets such as password hashes. */
  message: string;
}

/** What to report for an error that will fail every retry, or undefined for one that may not. */
export function deterministicDatabaseFailure(error: unknown): DeterministicDatabaseFailure | undefined {
  const { code, detail } = (error ?? {}) as { code?: unknown; detail?: unknown };
  if (typeof code !== 'string' || !/^[0-9A-Z]{5}$/.test(code)) return undefined;
  const type = DETERMINISTIC_SQLSTATES[code] ?? DETERMINISTIC_SQLSTATE_CLASSES[code.slice(0, 2)];
  if (!type) return undefined;
  return { type, message: `database refused the write (SQLSTATE ${code})${typeof detail === 'string' && detail ? `: ${detail}` : ''}` };
}

/**
 * Errors that say the database could not be reached or did not answer in time, not that the statement was wrong:
 * sockets refused, reset or unreachable, the server shutting down or refusing connections (57P01-57P03, 53300), a
 * connection failure (class 08, but 08P01, a protocol message the server refused, is the caller's data), a statement
 * the server cancelled at its statement_timeout (57014), and the client's own bounds (pg's query and connect timeouts,
 * knex's pool acquisition timeout).
 */
const UNREACHABLE_SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);
const UNAVAILABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '57014', '53300']);
// knex puts the statement in front of the driver's message: matched anywhere, not anchored.
const UNAVAILABLE_MESSAGES = [
  /Query read timeout/,
  /timeout expired/,
  /Connection terminated/,
  /Client has encountered a connection error and is not queryable/,
  /Timeout acquiring a connection/,
  // knex hands MikroORM a transaction before its BEGIN is answered; when the BEGIN fails (a timeout, a lost
  // connection), the transaction's first statement reports this instead of the BEGIN's own error.
  /Transaction query already complete/,
];

export function isDatabaseUnavailable(error: unknown): boolean {
  // Drivers and the ORM wrap each other (MikroORM's DriverException copies pg's fields; knex and others set `cause`).
  for (let current = error, depth = 0; current && depth < 5; current = (current as { cause?: unknown }).cause, depth++) {
    const { code, name, message } = current as { code?: unknown; name?: unknown; message?: unknown };
    if (name === 'KnexTimeoutError' || name === 'ConnectionException') return true;
    if (typeof code === 'string') {
      if (UNREACHABLE_SOCKET_CODES.has(code) || UNAVAILABLE_SQLSTATES.has(code)) return true;
      if (code.startsWith('08') && code !== '08P01') return true;
    }
    if (typeof message === 'string' && UNAVAILABLE_MESSAGES.some((pattern) => pattern.test(message))) return true;
  }
  return false;
}
