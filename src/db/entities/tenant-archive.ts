import { EntitySchema } from '@mikro-orm/core';

/**
 * A terminated tenant's data, exported by offboarding before anything is dropped: one row per tenant. The payload is
 * kept as the exact JSON text that was hashed, so `sha256(payload) = checksum` can be checked at any time.
 * No foreign key: the archive outlives the rows it describes.
 */
export class TenantArchive {
  tenantId!: string;
  payload!: string;
  /** Hex SHA-256 of `payload`. */
  checksum!: string;
  byteSize!: number;
  createdAt: Date = new Date();
}

export const TenantArchiveSchema = new EntitySchema<TenantArchive>({
  class: TenantArchive,
  tableName: 'tenant_archive',
  properties: {
    tenantId: { type: 'uuid', primary: true },
    payload: { type: 'text', lazy: true },
    checksum: { type: 'string', length: 64 },
    byteSize: { type: 'integer' },
    createdAt: { type: 'datetime', onCreate: () => new Date() },
  },
});
