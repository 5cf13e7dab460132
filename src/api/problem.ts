import type { Response } from 'express';
import { z } from 'zod';

export interface FieldError {
  path: string;
  message: string;
}

/** An RFC 9457 problem a route raises on purpose; the error handler writes it as application/problem+json. */
export class Problem extends Error {
  /** The problem's type URI when the title alone does not name it (a dependency's class under one title). */
  typeUri?: string;

  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail?: string,
    readonly extra: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(detail ?? title);
    this.name = 'Problem';
  }
}

const TYPE_BASE = 'https://control-plane.dev/problems/';

export function problemType(title: string): string {
  return TYPE_BASE + title.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
}

export function sendProblem(response: Response, problem: Problem, instance?: string): void {
  response
    .status(problem.status)
    .set(problem.headers)
    .type('application/problem+json')
    .json({
      type: problem.typeUri ?? problemType(problem.title),
      title: problem.title,
      status: problem.status,
      ...(problem.detail ? { detail: problem.detail } : {}),
      ...(instance ? { instance } : {}),
      ...problem.extra,
    });
}

export function validationProblem(error: z.ZodError, where: 'body' | 'path' | 'query' | 'header' = 'body'): Problem {
  const errors: FieldError[] = error.issues.flatMap((issue) =>
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => ({ path: [...issue.path, key].join('.'), message: 'is not a known field' }))
      : [{ path: issue.path.length > 0 ? issue.path.join('.') : where, message: issue.message }],
  );
  return new Problem(400, 'Validation failed', `The request ${where} is not valid.`, { errors });
}

/** Parses one part of a request with its schema or raises a 400 problem that lists every field at fault. */
export function parseOr400<Schema extends z.ZodType>(schema: Schema, value: unknown, where: 'body' | 'path' | 'query' | 'header' = 'body'): z.infer<Schema> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw validationProblem(parsed.error, where);
  return parsed.data;
}
