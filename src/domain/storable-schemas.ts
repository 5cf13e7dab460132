import { z } from 'zod';
import { isStorableText, jsonFault, UNSTORABLE_TEXT_MESSAGE, type JsonBounds, type JsonValue } from './storable-text';

/**
 * The one string schema for input: every string a client sends may reach Postgres, so none may carry a character
 * `text` or `jsonb` cannot hold. Chain `.trim()`, `.min()`, `.max()`, `.regex()` on it as on `z.string()`; the lint
 * forbids a bare `z.string()` in request schemas.
 */
export const text = () => z.string().refine(isStorableText, { message: UNSTORABLE_TEXT_MESSAGE, abort: true });

/**
 * Free-form JSON from a client, bounded in depth and size and storable at every key and value. Checked without
 * recursion, so a deeply nested body is a 400 and never a stack overflow.
 */
export const jsonValue = (bounds: JsonBounds) =>
  z
    .custom<JsonValue>()
    .superRefine((value, ctx) => {
      const fault = jsonFault(value, bounds);
      if (fault) ctx.addIssue({ code: 'custom', path: fault.path, message: fault.message });
    })
    .meta({ description: `Any JSON value, at most ${bounds.maxDepth} levels deep and ${bounds.maxBytes} bytes serialised` });
