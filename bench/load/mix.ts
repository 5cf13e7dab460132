import { performance } from 'node:perf_hooks';
import type { Request as CannonRequest } from 'autocannon';
import { LOAD_PASSWORD, loadEmail, runPlan, type LoadTenant } from './tenants';

/**
 * The hosted traffic mix, by weight per 40 requests: mostly reads by tenants and operators, token refreshes, some run
 * submissions, few logins and signups (the two that pay a scrypt hash, about 125 ms of CPU each).
 */
export const ROUTE_WEIGHTS = {
  'GET /api/v1/runs/{runId}': 15,
  'POST /api/v1/auth/refresh': 7,
  'POST /api/v1/runs': 4,
  'GET /api/v1/admin/tenants/{tenantId}': 4,
  'GET /api/v1/admin/events': 3,
  'GET /api/v1/admin/runs/{runId}/audit': 3,
  'POST /api/v1/auth/login': 2,
  'POST /api/v1/signup': 1,
  'GET /api/v1/signup/{workflowId}': 1,
} as const;

export type Route = keyof typeof ROUTE_WEIGHTS;
export const ROUTES = Object.keys(ROUTE_WEIGHTS) as Route[];

/** What one route answered during one step. */
export interface RouteTally {
  latenciesMs: number[];
  statuses: Record<number, number>;
}

interface InFlight {
  route?: Route;
  startedAt?: number;
  tenant?: LoadTenant;
}

const REFRESH_POOL_MAX = 1_000;
const RUNS_KEPT_PER_TENANT = 50;

/**
 * One autocannon request that picks its route at random by weight each time it is built (autocannon builds it right
 * before sending it, and answers `onResponse` before building the next one on the same connection), so every
 * connection carries the whole mix and the per-connection context times the one request in flight.
 */
export function createMix(options: { tenants: LoadTenant[]; refreshTokens: string[]; operatorToken: string; prefix: string }) {
  const { tenants, refreshTokens, operatorToken } = options;
  const signupWorkflowIds = tenants.map((tenant) => tenant.signupWorkflowId);
  let tallies = emptyTallies();
  let sequence = 0;
  const cumulative: Array<[Route, number]> = [];
  let total = 0;
  for (const route of ROUTES) cumulative.push([route, (total += ROUTE_WEIGHTS[route])]);

  const pick = <T>(items: T[]): T => items[Math.floor(Math.random() * items.length)]!;
  const drawRoute = (): Route => {
    const draw = Math.random() * total;
    const route = cumulative.find(([, upTo]) => draw < upTo)![0];
    // Every refresh token is used once (rotation); with none left, the draw becomes a read.
    return route === 'POST /api/v1/auth/refresh' && refreshTokens.length === 0 ? 'GET /api/v1/runs/{runId}' : route;
  };
  const json = (body: unknown) => ({ headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

  const build = (route: Route, tenant: LoadTenant): Pick<CannonRequest, 'method' | 'path' | 'headers' | 'body'> => {
    const id = `${options.prefix}-${++sequence}`;
    switch (route) {
      case 'GET /api/v1/runs/{runId}':
        return { method: 'GET', path: `/api/v1/runs/${pick(tenant.runIds)}`, headers: bearer(tenant.accessToken) };
      case 'POST /api/v1/auth/refresh':
        return { method: 'POST', path: '/api/v1/auth/refresh', ...json({ refreshToken: refreshTokens.pop()! }) };
      case 'POST /api/v1/runs': {
        const body = json(runPlan(id));
        return { method: 'POST', path: '/api/v1/runs', body: body.body, headers: { ...body.headers, ...bearer(tenant.apiKey), 'idempotency-key': id } };
      }
      case 'GET /api/v1/admin/tenants/{tenantId}':
        return { method: 'GET', path: `/api/v1/admin/tenants/${tenant.tenantId}`, headers: bearer(operatorToken) };
      case 'GET /api/v1/admin/events':
        return { method: 'GET', path: `/api/v1/admin/events?tenantId=${tenant.tenantId}&limit=20`, headers: bearer(operatorToken) };
      case 'GET /api/v1/admin/runs/{runId}/audit':
        return { method: 'GET', path: `/api/v1/admin/runs/${pick(tenant.runIds)}/audit`, headers: bearer(operatorToken) };
      case 'POST /api/v1/auth/login':
        return { method: 'POST', path: '/api/v1/auth/login', ...json({ email: tenant.email, password: LOAD_PASSWORD }) };
      case 'POST /api/v1/signup':
        return { method: 'POST', path: '/api/v1/signup', ...json({ email: loadEmail(id), password: LOAD_PASSWORD, orgName: `Load Org ${id}` }) };
      case 'GET /api/v1/signup/{workflowId}':
        return { method: 'GET', path: `/api/v1/signup/${pick(signupWorkflowIds)}` };
    }
  };

  const parse = (body: string): Record<string, unknown> => {
    try {
      return JSON.parse(body) as Record<string, unknown>;
    } catch {
      return {};
    }
  };

  /** What a successful answer hands on to later requests: sessions, refresh tokens, run ids, signups to follow. */
  const learn = (route: Route, tenant: LoadTenant | undefined, body: Record<string, unknown>) => {
    switch (route) {
      case 'POST /api/v1/auth/login':
      case 'POST /api/v1/auth/refresh': {
        if (typeof body.refreshToken === 'string' && refreshTokens.length < REFRESH_POOL_MAX) refreshTokens.unshift(body.refreshToken);
        const owner = tenants.find((candidate) => candidate.tenantId === body.tenantId);
        if (owner && typeof body.accessToken === 'string') owner.accessToken = body.accessToken;
        return;
      }
      case 'POST /api/v1/runs':
        if (tenant && typeof body.runId === 'string') {
          if (tenant.runIds.length < RUNS_KEPT_PER_TENANT) tenant.runIds.push(body.runId);
          else tenant.runIds[Math.floor(Math.random() * RUNS_KEPT_PER_TENANT)] = body.runId;
        }
        return;
      case 'POST /api/v1/signup':
        if (typeof body.workflowId === 'string') signupWorkflowIds.push(body.workflowId);
        return;
      default:
        return;
    }
  };

  const request: CannonRequest = {
    setupRequest: (defaults, context) => {
      const inFlight = context as InFlight;
      const tenant = pick(tenants);
      const route = drawRoute();
      const built = build(route, tenant);
      inFlight.route = route;
      inFlight.tenant = tenant;
      inFlight.startedAt = performance.now();
      return { ...defaults, ...built, headers: { ...built.headers } };
    },
    onResponse: (status, body, context) => {
      const inFlight = context as InFlight;
      if (!inFlight.route || inFlight.startedAt === undefined) return;
      const tally = tallies[inFlight.route];
      tally.latenciesMs.push(performance.now() - inFlight.startedAt);
      tally.statuses[status] = (tally.statuses[status] ?? 0) + 1;
      if (status >= 200 && status < 300) learn(inFlight.route, inFlight.tenant, parse(body));
      inFlight.route = undefined;
    },
  };

  return {
    request,
    /** This step's tallies, and fresh ones for the next. */
    takeTallies(): Record<Route, RouteTally> {
      const taken = tallies;
      tallies = emptyTallies();
      return taken;
    },
  };
}

function emptyTallies(): Record<Route, RouteTally> {
  return Object.fromEntries(ROUTES.map((route): [Route, RouteTally] => [route, { latenciesMs: [], statuses: {} }])) as Record<Route, RouteTally>;
}
