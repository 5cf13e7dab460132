import { timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { OPERATOR_ROLES, type OperatorRole } from '../domain/permissions';
import { secretHash } from './secret-hash';

export const OPERATOR_TOKEN_MIN_LENGTH = 32;

const operatorTokenEntrySchema = z.strictObject({
  name: z.string().regex(/^[a-z][a-z0-9._-]{0,63}$/, { message: 'must be a lower-case name (letters, digits, . _ -)' }),
  role: z.enum(OPERATOR_ROLES),
  token: z
    .string()
    .min(OPERATOR_TOKEN_MIN_LENGTH, { message: `must be at least ${OPERATOR_TOKEN_MIN_LENGTH} characters` })
    .regex(/^[\x21-\x7e]+$/, { message: 'must be printable ASCII without spaces' })
    // A token shaped like our other credentials would be read as one of them and never reach the operator check.
    .refine((token) => !token.startsWith('cp_') && token.split('.').length !== 3, { message: 'must not look like an API key or a JWT' }),
});

export type OperatorTokenEntry = z.infer<typeof operatorTokenEntrySchema>;

/** `name:role:token` entries split on the first two colons, so a token may itself contain colons. */
function parseCompact(text: string): unknown[] {
  return text
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '')
    .map((entry) => {
      const first = entry.indexOf(':');
      const second = first < 0 ? -1 : entry.indexOf(':', first + 1);
      if (second < 0) return { name: entry, role: undefined, token: undefined };
      return { name: entry.slice(0, first), role: entry.slice(first + 1, second), token: entry.slice(second + 1) };
    });
}

/**
 * OPERATOR_TOKENS: `name:role:token,...` or a JSON array of `{name, role, token}`. Empty means no operator can sign
 * in. Names and tokens must be unique, so an audit actor always names one person or system.
 */
export const operatorTokensSchema = z
  .string()
  .optional()
  .transform((text, ctx) => {
    const trimmed = (text ?? '').trim();
    if (trimmed === '') return [];
    if (!trimmed.startsWith('[')) return parseCompact(trimmed);
    try {
      return JSON.parse(trimmed) as unknown;
    } catch {
      ctx.addIssue({ code: 'custom', message: 'is neither name:role:token,... nor a JSON array' });
      return z.NEVER;
    }
  })
  .pipe(
    z
      .array(operatorTokenEntrySchema)
      .superRefine((entries, ctx) => {
        const names = entries.map((entry) => entry.name);
        if (new Set(names).size !== names.length) ctx.addIssue({ code: 'custom', message: 'operator names must be unique' });
        const tokens = entries.map((entry) => entry.token);
        if (new Set(tokens).size !== tokens.length) ctx.addIssue({ code: 'custom', message: 'operator tokens must be unique' });
      }),
  );

export interface OperatorIdentity {
  name: string;
  role: OperatorRole;
}

/** Matches a presented token against every configured one in constant time, so timing says nothing about near misses. */
export function createOperatorRegistry(entries: OperatorTokenEntry[]) {
  const known = entries.map((entry) => ({ name: entry.name, role: entry.role, hash: Buffer.from(secretHash(entry.token), 'hex') }));
  return {
    identify(token: string): OperatorIdentity | undefined {
      const presented = Buffer.from(secretHash(token), 'hex');
      let match: OperatorIdentity | undefined;
      for (const entry of known) {
        if (timingSafeEqual(presented, entry.hash) && match === undefined) match = { name: entry.name, role: entry.role };
      }
      return match;
    },
  };
}

export type OperatorRegistry = ReturnType<typeof createOperatorRegistry>;
