import { retentionFloorProblem } from '../../src/domain/lifecycle';
import { publicSignupProgress, type ProvisioningOutcome } from '../../src/domain/signup-progress';

describe('public signup progress', () => {
  it('reads a decoy, and a saga that failed on a registered address, exactly as an active signup', () => {
    const active = publicSignupProgress({ outcome: 'active' });
    expect(publicSignupProgress({ outcome: 'existing_account_notified' })).toEqual(active);
    expect(publicSignupProgress({ outcome: 'failed', failure: { type: 'EmailRegistered' } })).toEqual(active);
  });

  it('says only running, active or failed, never a step or a failure type', () => {
    const outcomes: ProvisioningOutcome[] = ['running', 'rolling_back', 'active', 'failed', 'rollback_failed', 'existing_account_notified'];
    for (const outcome of outcomes) {
      const view = publicSignupProgress({ outcome, failure: { type: 'Internal' } });
      expect(Object.keys(view).sort()).toEqual(['detail', 'outcome']);
      expect(['running', 'active', 'failed']).toContain(view.outcome);
    }
    expect(publicSignupProgress({ outcome: 'failed', failure: { type: 'SlugTaken' } })).toEqual({ outcome: 'failed', detail: expect.stringMatching(/name is taken/) });
  });
});

describe('retention floor', () => {
  it('refuses an ops operator a retention below the floor, naming it, and lets a founder (who may terminate) through', () => {
    expect(retentionFloorProblem({ retentionDays: 6, floorDays: 7, operatorRole: 'ops' })).toMatch(/7 days/);
    expect(retentionFloorProblem({ retentionDays: 1, floorDays: 7, operatorRole: 'founder' })).toBeUndefined();
  });

  it('allows the floor itself, anything above it, and a soft delete that names no retention', () => {
    expect(retentionFloorProblem({ retentionDays: 7, floorDays: 7, operatorRole: 'ops' })).toBeUndefined();
    expect(retentionFloorProblem({ retentionDays: 30, floorDays: 7, operatorRole: 'ops' })).toBeUndefined();
    expect(retentionFloorProblem({ retentionDays: undefined, floorDays: 7, operatorRole: 'ops' })).toBeUndefined();
  });
});
