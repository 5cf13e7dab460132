import { USER_ACTOR_SQL_PATTERN } from '../domain/four-eyes';

/**
 * The member an API key is owned by now: its creator, or the member an owner re-owned it to
 * (api_key.created_by_user_id); null for a key no user made. A select-list expression over the api_key row aliased
 * `alias`, with its bound parameters.
 */
export function keyOwnerUserIdSql(alias: string): { sql: string; params: unknown[] } {
  return { sql: `${alias}.created_by_user_id`, params: [] };
}

/**
 * The user who created an API key, read from its `created_by` actor (`user:<uuid>`), which re-owning never changes;
 * null for a key any other actor created. A select-list expression over the api_key row aliased `alias`, with its
 * bound parameters.
 */
export function keyCreatorUserIdSql(alias: string): { sql: string; params: unknown[] } {
  // The case guards the cast: only a well-formed actor is ever cast to uuid.
  return { sql: `case when ${alias}.created_by ~ ? then substr(${alias}.created_by, 6)::uuid end`, params: [USER_ACTOR_SQL_PATTERN] };
}
