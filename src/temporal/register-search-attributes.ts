import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { CUSTOM_SEARCH_ATTRIBUTES } from './search-attributes';

const INDEXED_VALUE_TYPE: Record<string, temporal.api.enums.v1.IndexedValueType> = {
  KEYWORD: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  BOOL: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_BOOL,
  TEXT: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_TEXT,
  INT: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_INT,
  DATETIME: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
};

/** Registers the project's search attributes that the namespace lacks; calling it again changes nothing. */
export async function registerSearchAttributes(client: Client, namespace: string): Promise<string[]> {
  const known = await registeredSearchAttributes(client, namespace);
  const missing = CUSTOM_SEARCH_ATTRIBUTES.filter((key) => !known.has(key.name));
  if (missing.length === 0) return [];
  await client.connection.operatorService.addSearchAttributes({
    namespace,
    searchAttributes: Object.fromEntries(missing.map((key) => [key.name, INDEXED_VALUE_TYPE[key.type]])),
  });
  return missing.map((key) => key.name);
}

const GRPC_UNIMPLEMENTED = 12;

/**
 * Names already registered. Temporal's Java time-skipping server implements AddSearchAttributes but not
 * ListSearchAttributes: there a fresh server has none of ours, so every one is added.
 */
async function registeredSearchAttributes(client: Client, namespace: string): Promise<Set<string>> {
  try {
    const existing = await client.connection.operatorService.listSearchAttributes({ namespace });
    return new Set(Object.keys(existing.customAttributes ?? {}));
  } catch (error) {
    if ((error as { code?: number }).code === GRPC_UNIMPLEMENTED) return new Set();
    throw error;
  }
}
