import { EntitySchema } from '@mikro-orm/core';

export class User {
  id!: string;
  /** Stored lower-cased so uniqueness is case-insensitive. */
  email!: string;
  passwordHash!: string;
  /** The signup that created this user; only that signup's rollback may remove it. */
  createdByTenantId?: string | null;
  /** When the person proved they read this address (a verification, reset or invitation link); null until then. */
  emailVerifiedAt?: Date | null;
  createdAt: Date = new Date();
}

export const UserSchema = new EntitySchema<User>({
  class: User,
  tableName: 'app_user',
  properties: {
    id: { type: 'uuid', primary: true },
    email: { type: 'string', length: 320, unique: 'app_user_email_unique' },
    passwordHash: { type: 'text', lazy: true },
    createdByTenantId: { type: 'uuid', nullable: true },
    emailVerifiedAt: { type: 'datetime', nullable: true },
    createdAt: { type: 'datetime', onCreate: () => new Date() },
  },
});
