import { EntitySchema } from '@mikro-orm/core';
import { LINK_TOKEN_PURPOSES, type LinkTokenPurpose } from '../../domain/link-token';

/**
 * The one live token behind an emailed link, per purpose and subject (a tenant to verify, a user to reset, an
 * invitation): a new issue replaces the old one, so at most one link of each works. Only the token's SHA-256 is kept;
 * `issueKey` names the issue that made it, so a retried issue or send finds its own token.
 */
export class LinkToken {
  purpose!: LinkTokenPurpose;
  subjectId!: string;
  tenantId?: string | null;
  tokenHash?: string | null;
  issueKey!: string;
  expiresAt!: Date;
  usedAt?: Date | null;
  createdAt: Date = new Date();
}

export const LinkTokenSchema = new EntitySchema<LinkToken>({
  class: LinkToken,
  tableName: 'link_token',
  properties: {
    purpose: { enum: true, items: () => [...LINK_TOKEN_PURPOSES], primary: true },
    subjectId: { type: 'uuid', primary: true },
    tenantId: { type: 'uuid', nullable: true, index: 'link_token_tenant_index' },
    tokenHash: { type: 'string', length: 64, nullable: true, unique: 'link_token_token_hash_unique' },
    issueKey: { type: 'string', length: 200 },
    expiresAt: { type: 'datetime' },
    usedAt: { type: 'datetime', nullable: true },
    createdAt: { type: 'datetime', onCreate: () => new Date(), defaultRaw: 'now()' },
  },
});
