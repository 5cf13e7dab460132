import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import type { Orm } from '../../src/db/orm';
import type { ActivityFaults } from '../../tools/fixtures/activity-faults';

export const HISTORIES_DIRECTORY = path.resolve(__dirname, '../../test/replay/histories');

/**
 * Writes recorded histories, and keeps every one already on disk: a history recorded by older code is what proves
 * that workflows started by that code still replay. `--force` (all) or `--force=<name>,<name>` records again.
 */
export class HistoryRecorder {
  constructor(private readonly force: 'all' | ReadonlySet<string>) {}

  static fromArguments(argv: string[]): HistoryRecorder {
    const flag = argv.find((argument) => argument === '--force' || argument.startsWith('--force='));
    if (flag === undefined) return new HistoryRecorder(new Set());
    return new HistoryRecorder(flag === '--force' ? 'all' : new Set(flag.slice('--force='.length).split(',')));
  }

  /** True when any of these histories is missing or forced: the scenario that makes them must run. */
  wants(...names: string[]): boolean {
    return names.some((name) => this.force === 'all' || this.force.has(name) || !existsSync(path.join(HISTORIES_DIRECTORY, `${name}.json`)));
  }

  async save(name: string, history: unknown): Promise<void> {
    if (!this.wants(name)) return;
    await writeFile(path.join(HISTORIES_DIRECTORY, `${name}.json`), JSON.stringify(history, null, 1));
    console.log(`recorded ${name}`);
  }
}

/** Where scenarios run: a worker of the product on `taskQueue`, with test faults a scenario may plan by workflow id. */
export interface RecordingRig {
  client: Client;
  orm: Orm;
  taskQueue: string;
  faults: ActivityFaults;
}

/** One family of workflows: records its scenarios. */
export type HistoryFamily = (rig: RecordingRig, recorder: HistoryRecorder) => Promise<void>;
