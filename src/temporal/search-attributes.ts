import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** Custom search attributes: registered by the start command, used by operators to filter in the Web UI. */
export const TENANT_ID = defineSearchAttributeKey('TenantId', SearchAttributeType.KEYWORD);
export const TENANT_LIFECYCLE_STATE = defineSearchAttributeKey('TenantLifecycleState', SearchAttributeType.KEYWORD);
export const PROVISIONING_STEP = defineSearchAttributeKey('ProvisioningStep', SearchAttributeType.KEYWORD);
export const RUN_PHASE = defineSearchAttributeKey('RunPhase', SearchAttributeType.KEYWORD);
export const RUN_DEGRADED = defineSearchAttributeKey('RunDegraded', SearchAttributeType.BOOL);

export const CUSTOM_SEARCH_ATTRIBUTES = [TENANT_ID, TENANT_LIFECYCLE_STATE, PROVISIONING_STEP, RUN_PHASE, RUN_DEGRADED];
