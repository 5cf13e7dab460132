import pino, { type Logger } from 'pino';

export type { Logger };

/** JSON logs; anything that could hold a secret is redacted by path before it is written. */
export function createLogger(level: string, name = 'control-plane'): Logger {
  return pino({
    name,
    level,
    redact: { paths: ['password', '*.password', 'passwordHash', '*.passwordHash', 'req.headers.authorization', 'headers.authorization'], censor: '[redacted]' },
  });
}
