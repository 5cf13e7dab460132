import path from 'node:path';
import { z } from 'zod';
import { operatorTokensSchema } from './auth/operator-tokens';
import { productionProblems } from './production-posture';

/** Environment flags arrive as strings; only these spellings are accepted so a typo fails loudly. */
const flag = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'])
    .optional()
    .transform((value) => (value === undefined ? fallback : ['true', '1', 'yes', 'on'].includes(value)));

const port = (fallback: number) => z.coerce.number().int().min(1).max(65535).default(fallback);
const optionalText = z
  .string()
  .optional()
  .transform((value) => (value === undefined || value.trim() === '' ? undefined : value));

const ROOT_DIR = path.resolve(__dirname, '..');

const environmentSchema = z
  .object({
    NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    DATA_DIR: z.string().default(path.join(ROOT_DIR, '.data')),

    API_HOST: z.string().default('127.0.0.1'),
    API_PORT: port(3000),
    /** Where clients reach the API (behind a proxy, a path prefix); /openapi.json names it. Unset: the URL a request came to. */
    PUBLIC_BASE_URL: optionalText.pipe(z.url({ protocol: /^https?$/ }).transform((url) => url.replace(/\/+$/, '')).optional()),
    /** Which parts this process runs: the start command runs both; a scaled-out deployment splits them. */
    PROCESS_ROLES: z
      .string()
      .default('api,worker')
      .transform((value) => value.split(',').map((role) => role.trim()))
      .pipe(z.array(z.enum(['api', 'worker'])).min(1)),
    /** Where the Temporal SDK exports the worker's metrics, on loopback; /metrics appends them. */
    WORKER_METRICS_PORT: port(9464),
    /** A worker-only process serves /metrics, /healthz and /readyz here (an API process serves them on API_PORT). */
    WORKER_HTTP_PORT: port(9465),
    /** Reverse proxies in front of the API: per-IP limits key on the address they forward, not theirs. */
    TRUST_PROXY_HOPS: z.coerce.number().int().min(0).max(10).default(0),
    /**
     * The longest any API request takes to be answered: past it, 503 with Retry-After. Temporal calls made for a request
     * share this budget (their gRPC deadline is a second before it), so a dead or frozen dependency is named, not waited on.
     */
    REQUEST_DEADLINE_SECONDS: z.coerce.number().int().min(2).max(300).default(10),

    DATABASE_URL: optionalText.pipe(z.url({ protocol: /^postgres(ql)?$/ }).optional()),
    DATABASE_POOL_MAX: z.coerce.number().int().min(2).max(200).default(10),
    EMBEDDED_PG_PORT: port(5433),
    /**
     * Client-side bounds on Postgres: waiting for a pooled connection, opening one, and one statement's answer. A frozen
     * server never enforces its own statement_timeout, so the client must; a request's transaction (its statement and
     * the rollback) fits inside REQUEST_DEADLINE_SECONDS at the default.
     */
    DATABASE_QUERY_TIMEOUT_SECONDS: z.coerce.number().int().min(1).max(300).default(3),

    TEMPORAL_ADDRESS: optionalText,
    TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
    TEMPORAL_TASK_QUEUE: z.string().min(1).default('control-plane'),
    TEMPORAL_TLS: flag(false),
    TEMPORAL_TLS_CERT_PATH: optionalText,
    TEMPORAL_TLS_KEY_PATH: optionalText,
    TEMPORAL_TLS_CA_PATH: optionalText,
    TEMPORAL_TLS_SERVER_NAME: optionalText,
    TEMPORAL_API_KEY: optionalText,
    TEMPORAL_DEV_PORT: port(7233),
    TEMPORAL_UI_PORT: port(8233),

    HOSTED_MODE: flag(false),
    SIGNUP_RATE_LIMIT_PER_HOUR: z.coerce.number().int().min(1).max(100000).default(5),

    /** HS256 key of access tokens, at least 32 characters; required and checked for strength in production (elsewhere a per-process one is made). */
    AUTH_TOKEN_SECRET: optionalText.pipe(z.string().min(32, { message: 'must be at least 32 characters' }).optional()),
    ACCESS_TOKEN_TTL_SECONDS: z.coerce.number().int().min(60).max(3600).default(900),
    REFRESH_TOKEN_TTL_DAYS: z.coerce.number().int().min(1).max(90).default(30),
    LOGIN_FAILURE_WINDOW_MINUTES: z.coerce.number().int().min(1).max(1440).default(15),
    LOGIN_FAILURES_PER_ACCOUNT: z.coerce.number().int().min(1).max(1000).default(5),
    LOGIN_FAILURES_PER_IP: z.coerce.number().int().min(1).max(100000).default(30),
    /** Platform operators: `name:role:token,...` or a JSON array; roles founder and ops. Never from a tenant membership. */
    OPERATOR_TOKENS: operatorTokensSchema,

    /** How long a billing state read is reused before the store is asked again. */
    BILLING_CACHE_TTL_SECONDS: z.coerce.number().int().min(0).max(3600).default(60),
    /** How old a cached billing state may be and still be used while the store is down (fail open, bounded). */
    BILLING_MAX_STALENESS_SECONDS: z.coerce.number().int().min(0).max(7 * 24 * 3600).default(3600),

    /** Per-tenant abuse ceilings, whatever the plan allows. */
    TENANT_RUN_BURST_PER_MINUTE: z.coerce.number().int().min(1).max(100000).default(60),
    TENANT_RUN_CEILING_PER_DAY: z.coerce.number().int().min(1).max(10_000_000).default(200_000),
    TENANT_CONCURRENT_RUN_CEILING: z.coerce.number().int().min(1).max(10000).default(200),

    /** Kill switches: environment only, changed by redeploying, never through the API (docs/runbook/kill-switches.md). */
    DISABLE_SIGNUP: flag(false),
    DISABLE_RUN_EXECUTION: flag(false),
    READ_ONLY_MODE: flag(false),
    /** Requests per minute the deployment serves across all clients and API processes (counted in Postgres); 0 turns it off. */
    GLOBAL_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(0).max(10_000_000).default(6000),
    /** Days a soft-deleted tenant waits before offboarding, when the operator names none. */
    TENANT_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
    /** Hours an onboarding may rest in one state before the watch list calls it stalled. */
    ONBOARDING_STALL_HOURS: z.coerce.number().int().min(1).max(8760).default(72),
    /** How often the Temporal Schedule runs the run-audit reconciler. */
    RECONCILER_INTERVAL_SECONDS: z.coerce.number().int().min(10).max(86_400).default(300),

    /** Outgoing mail (verification, password reset, invitations): `smtp://user:pass@host:587`. Unset, `npm start` runs Mailpit. */
    SMTP_URL: optionalText.pipe(z.url({ protocol: /^smtps?$/ }).optional()),
    MAIL_FROM: z.string().min(3).default('Control Plane <no-reply@control-plane.localhost>'),
    /** The product's name in every mail. */
    PRODUCT_NAME: z.string().min(1).max(100).default('Control Plane'),
    /** Where links in mails point (the web app that posts their token to the API); unset, PUBLIC_BASE_URL or the API's own address. */
    APP_BASE_URL: optionalText.pipe(z.url({ protocol: /^https?$/ }).transform((url) => url.replace(/\/+$/, '')).optional()),
    /** The local mail catcher `npm start` runs when SMTP_URL is unset: its SMTP port and its web UI. */
    MAILPIT_SMTP_PORT: port(1025),
    MAILPIT_UI_PORT: port(8025),
    /** Email verification of a signup: a reminder after this many hours, offboarding of the unverified signup after these days. */
    VERIFICATION_REMINDER_HOURS: z.coerce.number().int().min(1).max(24 * 30).default(48),
    UNVERIFIED_SIGNUP_DAYS: z.coerce.number().int().min(1).max(365).default(7),
    /** What an unverified tenant may do: live API keys, and runs per day. */
    UNVERIFIED_API_KEYS: z.coerce.number().int().min(0).max(50).default(0),
    UNVERIFIED_RUNS_PER_DAY: z.coerce.number().int().min(0).max(100_000).default(10),
    /** Password reset requests per client address and per account per hour; verification resends per tenant per hour. */
    PASSWORD_RESET_PER_IP_PER_HOUR: z.coerce.number().int().min(1).max(100_000).default(20),
    PASSWORD_RESET_PER_ACCOUNT_PER_HOUR: z.coerce.number().int().min(1).max(1000).default(3),
    VERIFICATION_RESENDS_PER_HOUR: z.coerce.number().int().min(1).max(1000).default(3),
    /** Invitations: days until one expires, and hours before its reminder. */
    INVITATION_EXPIRY_DAYS: z.coerce.number().int().min(1).max(90).default(7),
    INVITATION_REMINDER_HOURS: z.coerce.number().int().min(1).max(24 * 90).default(72),

    /** Benchmarks only (npm run bench:*): how many workflows, and how many in flight at once. */
    BENCH_N: z.coerce.number().int().min(1).max(100_000).default(100),
    BENCH_CONCURRENCY: z.coerce.number().int().min(1).max(1_000).default(8),
    BENCH_ROUNDS: z.coerce.number().int().min(1).max(20).default(3),
  })
  .superRefine((env, ctx) => {
    if (env.DATABASE_QUERY_TIMEOUT_SECONDS >= env.REQUEST_DEADLINE_SECONDS) {
      ctx.addIssue({ code: 'custom', path: ['DATABASE_QUERY_TIMEOUT_SECONDS'], message: 'must be shorter than REQUEST_DEADLINE_SECONDS (a request waits on at least one statement)' });
    }
    if (Boolean(env.TEMPORAL_TLS_CERT_PATH) !== Boolean(env.TEMPORAL_TLS_KEY_PATH)) {
      ctx.addIssue({
        code: 'custom',
        path: ['TEMPORAL_TLS_KEY_PATH'],
        message: 'TEMPORAL_TLS_CERT_PATH and TEMPORAL_TLS_KEY_PATH go together (mTLS client pair)',
      });
    }
  });

export type Config = z.infer<typeof environmentSchema>;

export class ConfigError extends Error {
  constructor(
    readonly problems: string[],
    heading = 'Invalid configuration',
  ) {
    super(`${heading}:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** What the environment says, checked as the start command checks it (`npm run doctor` prints it). */
export interface ConfigReport {
  nodeEnv: Config['NODE_ENV'];
  nodeVersion: string;
  /** Undefined when the environment does not parse. */
  config?: Config;
  /** Variables with values the schema refuses, in every environment. */
  invalid: string[];
  /** What NODE_ENV=production refuses (src/production-posture.ts), whatever NODE_ENV this environment names. */
  production: string[];
}

export const PRODUCTION_REFUSAL_HEADING = 'NODE_ENV=production refuses to start';

/**
 * Every problem at once: an operator fixing a deployment at 3 a.m. should not meet them one restart at a time. A
 * variable the schema refuses is reported as such, and the production rules still judge the others.
 */
export function inspectConfig(environment: NodeJS.ProcessEnv = process.env, nodeVersion: string = process.version): ConfigReport {
  const parsed = environmentSchema.safeParse(environment);
  const invalid = parsed.success ? [] : parsed.error.issues.map((issue) => `${issue.path.join('.') || '(environment)'}: ${issue.message}`);
  const refused = new Set(parsed.success ? [] : parsed.error.issues.map((issue) => String(issue.path[0] ?? '')));
  // Without the refused variables the rest still parses (each one falls back to its default or to unset).
  const judged = parsed.success ? parsed : environmentSchema.safeParse(Object.fromEntries(Object.entries(environment).filter(([name]) => !refused.has(name))));
  const explicitlySet = new Set(Object.entries(environment).filter(([, value]) => value !== undefined && value.trim() !== '').map(([name]) => name));
  const production = judged.success
    ? productionProblems({ config: judged.data, explicitlySet, nodeVersion })
        .filter((problem) => !refused.has(problem.variable))
        .map((problem) => `${problem.variable}: ${problem.message}`)
    : [];
  return {
    nodeEnv: judged.success ? judged.data.NODE_ENV : environment.NODE_ENV === 'production' ? 'production' : 'development',
    nodeVersion,
    config: parsed.success ? parsed.data : undefined,
    invalid,
    production,
  };
}

/** The only reader of process.env: everything else receives the parsed Config. */
export function loadConfig(environment: NodeJS.ProcessEnv = process.env, nodeVersion: string = process.version): Config {
  const report = inspectConfig(environment, nodeVersion);
  if (report.nodeEnv === 'production' && (report.invalid.length > 0 || report.production.length > 0)) {
    throw new ConfigError([...report.invalid, ...report.production], PRODUCTION_REFUSAL_HEADING);
  }
  if (!report.config) throw new ConfigError(report.invalid);
  return report.config;
}

/** Whether the start command must run its own Temporal dev server and Postgres. */
export const usesLocalTemporal = (config: Config) => config.TEMPORAL_ADDRESS === undefined;
export const usesEmbeddedPostgres = (config: Config) => config.DATABASE_URL === undefined;
export const usesLocalMail = (config: Config) => config.SMTP_URL === undefined;
export const temporalAddress = (config: Config) => config.TEMPORAL_ADDRESS ?? `127.0.0.1:${config.TEMPORAL_DEV_PORT}`;
