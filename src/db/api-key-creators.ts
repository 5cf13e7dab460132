/**
 * The person behind an API key: the user who created it, or the member an owner re-owned it to
 * (api_key.created_by_user_id); null for a key no user made. A select-list expression over the api_key row aliased
 * `alias`, with its bound parameters.
 */
export function keyCreatorUserIdSql(alias: string): { sql: string; params: unknown[] } {
  return { sql: `${alias}.created_by_user_id`, params: [] };
}
