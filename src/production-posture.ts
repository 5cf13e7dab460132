/**
 * What NODE_ENV=production refuses to run on (issue 22): the one-machine stand-ins the start command would otherwise
 * start, links in mail that cannot reach a user, secrets a guess or an example can reproduce, public signup on a
 * development default, and a Node.js outside the supported LTS. Pure: config.ts hands it the parsed environment.
 */
import type { Config } from './config';
import { secretWeaknesses } from './domain/secret-strength';
import { SUPPORTED_NODE_MAJOR, isSupportedNode } from './runtime';

export interface PostureProblem {
  /** The variable to change (or `node` for the runtime), so a report can name it and skip one already reported. */
  variable: string;
  message: string;
}

export interface PostureInput {
  config: Config;
  /** Variables the operator set, as opposed to ones left to their defaults. */
  explicitlySet: ReadonlySet<string>;
  nodeVersion: string;
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]', '0.0.0.0']);

/** Every problem, in a fixed order; empty when production may start. */
export function productionProblems({ config, explicitlySet, nodeVersion }: PostureInput): PostureProblem[] {
  const problems: PostureProblem[] = [];
  const problem = (variable: string, message: string) => problems.push({ variable, message });

  if (config.DATABASE_URL === undefined) problem('DATABASE_URL', 'is unset: the start command would run an embedded Postgres on this machine\'s disk; name the production database');
  if (config.TEMPORAL_ADDRESS === undefined) problem('TEMPORAL_ADDRESS', 'is unset: the start command would run the Temporal dev server (SQLite); name the Temporal cluster');
  if (config.SMTP_URL === undefined) {
    problem('SMTP_URL', 'is unset: the start command would run Mailpit, where no user ever reads a verification mail (and unverified signups are offboarded)');
  }

  if (config.PUBLIC_BASE_URL === undefined) problem('PUBLIC_BASE_URL', 'is unset: links in mail and the OpenAPI server would name this process\'s own address; set the https URL clients reach');
  else problems.push(...linkTargetProblems('PUBLIC_BASE_URL', config.PUBLIC_BASE_URL));
  if (config.APP_BASE_URL !== undefined) problems.push(...linkTargetProblems('APP_BASE_URL', config.APP_BASE_URL));

  if (config.AUTH_TOKEN_SECRET === undefined) {
    problem('AUTH_TOKEN_SECRET', 'is unset: each process would sign tokens with its own key, lost on restart; set one random value of 32 or more characters for every process');
  } else {
    for (const weakness of secretWeaknesses(config.AUTH_TOKEN_SECRET)) problem('AUTH_TOKEN_SECRET', `${weakness}; use a random value (openssl rand -base64 32)`);
  }
  for (const operator of config.OPERATOR_TOKENS) {
    for (const weakness of secretWeaknesses(operator.token)) problem('OPERATOR_TOKENS', `the token of ${operator.name} ${weakness}`);
  }

  // SIGNUP_RATE_LIMIT_PER_HOUR always has a value; what production must not do is serve public signup on the default
  // nobody chose for this deployment.
  if (config.HOSTED_MODE && !config.DISABLE_SIGNUP && !explicitlySet.has('SIGNUP_RATE_LIMIT_PER_HOUR')) {
    problem('SIGNUP_RATE_LIMIT_PER_HOUR', `is not set while HOSTED_MODE serves public signup: choose the signups per client address per hour (the default ${config.SIGNUP_RATE_LIMIT_PER_HOUR} is a development value)`);
  }

  if (!isSupportedNode(nodeVersion)) {
    problem('node', `Node.js ${nodeVersion} is not the supported runtime (Node ${SUPPORTED_NODE_MAJOR} LTS, package.json engines): start through npm, which runs the pinned one (docs/deploy.md)`);
  }
  return problems;
}

/** A link in a mail must reach the user over TLS, from outside this machine. */
function linkTargetProblems(variable: string, url: string): PostureProblem[] {
  const parsed = new URL(url);
  const problems: PostureProblem[] = [];
  if (parsed.protocol !== 'https:') problems.push({ variable, message: `is ${parsed.protocol} but links in mail carry sign-in tokens: it must be https:` });
  if (LOOPBACK_HOSTS.has(parsed.hostname)) problems.push({ variable, message: `names ${parsed.hostname}, which no user's browser reaches` });
  return problems;
}
