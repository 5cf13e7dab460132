import { ProvisioningFailure, type ProvisioningFailureType } from './provisioning-failure';

/** What a person who signed up can do about each failure; never a stack trace, never a secret. */
export const PROVISIONING_FAILURE_MESSAGES: Record<ProvisioningFailureType, string> = {
  [ProvisioningFailure.SlugTaken]: 'The organisation name is taken. Choose another name and sign up again.',
  [ProvisioningFailure.EmailRegistered]: 'An account with this email already exists. Sign in instead.',
  [ProvisioningFailure.InjectedFault]: 'Setup failed on our side and was undone. Try again later.',
  [ProvisioningFailure.Internal]: 'Setup failed on our side and was undone. Try again later.',
  [ProvisioningFailure.RollbackIncomplete]: 'Setup failed on our side; our operators have been alerted and will finish cleaning up.',
};

export function provisioningFailureType(type: string | undefined): ProvisioningFailureType {
  return type !== undefined && type in PROVISIONING_FAILURE_MESSAGES
    ? (type as ProvisioningFailureType)
    : ProvisioningFailure.Internal;
}
