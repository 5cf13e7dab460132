/** Failure types raised as non-retryable ApplicationFailures; the API maps each to words a user can act on. */
export const ProvisioningFailure = {
  SlugTaken: 'SlugTaken',
  EmailRegistered: 'EmailRegistered',
  InjectedFault: 'InjectedFault',
  Internal: 'Internal',
  RollbackIncomplete: 'RollbackIncomplete',
} as const;
export type ProvisioningFailureType = (typeof ProvisioningFailure)[keyof typeof ProvisioningFailure];
