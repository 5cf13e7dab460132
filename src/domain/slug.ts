/** Names a tenant may not take: they collide with routes, hosts or operator vocabulary. */
export const RESERVED_SLUGS = new Set([
  'admin', 'api', 'app', 'www', 'system', 'default', 'root', 'support', 'help', 'status', 'docs', 'mail',
  'static', 'assets', 'internal', 'platform', 'ops', 'billing', 'login', 'signup', 'auth', 'metrics', 'health',
]);

export const SLUG_MIN_LENGTH = 3;
export const SLUG_MAX_LENGTH = 63;

/** Turns a display name into a path-safe slug: lower case ASCII letters, digits and single dashes. */
export function slugify(orgName: string): string {
  return orgName
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

/** Why a slug cannot be used, or undefined when it can. */
export function slugProblem(slug: string): string | undefined {
  if (slug.length < SLUG_MIN_LENGTH) return `must give a name of at least ${SLUG_MIN_LENGTH} letters or digits`;
  if (slug.length > SLUG_MAX_LENGTH) return `must give a name of at most ${SLUG_MAX_LENGTH} letters or digits`;
  if (RESERVED_SLUGS.has(slug)) return `"${slug}" is a reserved name`;
  return undefined;
}
