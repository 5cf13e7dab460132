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
