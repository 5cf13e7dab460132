import type { Express } from 'express';
import { declaredRequirement, type AuthRequirement } from '../../src/api/auth';

export interface RouteEntry {
  method: string;
  path: string;
  /** Undefined when nothing in front of the route declares who may call it. */
  requirement: AuthRequirement | undefined;
  /** Where the declaration sits: on the route itself (first handler) or a router-level guard in front of it. */
  declaredBy: 'route' | 'router' | 'none';
  /** Declarations on the route after the first handler: a guard that runs late guards nothing before it. */
  lateDeclarations: number;
}

interface Layer {
  handle: unknown;
  rawPath?: unknown;
  route?: { path: string; methods: Record<string, boolean>; stack: Array<{ handle: unknown }> };
}

const joinPath = (prefix: string, path: string) => (`${prefix}/${path}`.replace(/\/+/g, '/').replace(/(.)\/$/, '$1'));

/**
 * Every route of the app, with the auth requirement in front of it, read from Express 5's router stack (`app.router`).
 * A `use` layer whose middleware declares a requirement covers the routes after it in the same router.
 */
export function routeTable(app: Express): RouteEntry[] {
  const entries: RouteEntry[] = [];
  const walk = (stack: Layer[], prefix: string, inherited: AuthRequirement | undefined) => {
    let covering = inherited;
    for (const layer of stack) {
      if (layer.route) {
        const [first, ...rest] = layer.route.stack;
        const own = declaredRequirement(first?.handle);
        for (const method of Object.keys(layer.route.methods).filter((name) => layer.route!.methods[name])) {
          entries.push({
            method: method.toUpperCase(),
            path: joinPath(prefix, layer.route.path),
            requirement: own ?? covering,
            declaredBy: own ? 'route' : covering ? 'router' : 'none',
            lateDeclarations: rest.filter((handler) => declaredRequirement(handler.handle) !== undefined).length,
          });
        }
        continue;
      }
      const nested = (layer.handle as { stack?: Layer[] }).stack;
      const mountPath = typeof layer.rawPath === 'string' ? layer.rawPath : '/';
      if (Array.isArray(nested)) {
        walk(nested, joinPath(prefix, mountPath), covering);
        continue;
      }
      const declared = declaredRequirement(layer.handle);
      if (declared) covering = declared;
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack, '', undefined);
  return entries;
}
