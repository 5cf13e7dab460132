import type { Browser } from 'playwright-core';
import type { Orm } from '../../src/db/orm';
import { provisioningWorkflowId } from '../../src/temporal/workflow-ids';
import { provisionInput } from '../support/provisioning';
import { connectToDevServer, startWorker, testOrm, uniqueTaskQueue, type DevServerHarness } from '../support/stack';
import { expectTenantFilterInWebUi, launchBrowser } from '../support/web-ui';
import { TENANT_ID } from '../../src/temporal/search-attributes';

let temporal: DevServerHarness;
let orm: Orm;
let browser: Browser;
beforeAll(async () => {
  temporal = await connectToDevServer();
  orm = await testOrm();
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await temporal.close();
  await orm.close(true);
});

describe('the Temporal Web UI as the operators console', () => {
  it("filters workflows by TenantId and shows the tenant's provisioning, lifecycle and trial workflows, and only those", async () => {
    const uiUrl = process.env.TEST_TEMPORAL_UI_URL;
    if (!uiUrl) throw new Error('TEST_TEMPORAL_UI_URL is unset: the global setup starts the dev server with its UI');
    const taskQueue = uniqueTaskQueue('web-ui');
    const [input, otherTenant] = [provisionInput(), provisionInput()];
    const worker = await startWorker({ connection: temporal.connection, taskQueue, orm });
    await worker.runUntil(
      Promise.all(
        [input, otherTenant].map((tenant) =>
          temporal.client.workflow.execute('provisionTenant', {
            taskQueue,
            workflowId: provisioningWorkflowId(tenant.slug),
            args: [tenant],
            typedSearchAttributes: [{ key: TENANT_ID, value: tenant.tenantId }],
          }),
        ),
      ),
    );
    await expectTenantFilterInWebUi(browser, uiUrl, input, otherTenant, 'web-ui');
  });
});
