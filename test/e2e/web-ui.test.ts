import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import type { Orm } from '../../src/db/orm';
import { billingTrialWorkflowId, provisioningWorkflowId, tenantLifecycleWorkflowId } from '../../src/temporal/workflow-ids';
import { provisionInput } from '../support/provisioning';
import { connectToDevServer, startWorker, testOrm, uniqueTaskQueue, type DevServerHarness } from '../support/stack';
import { TENANT_ID } from '../../src/temporal/search-attributes';

const SCREENSHOTS = path.resolve(__dirname, '../../test-results');
// Without the background-networking flags Chromium keeps dialling hosts this machine cannot reach.
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

let temporal: DevServerHarness;
let orm: Orm;
let browser: Browser;
beforeAll(async () => {
  temporal = await connectToDevServer();
  orm = await testOrm();
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
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

    const page = await browser.newPage();
    const query = encodeURIComponent(`TenantId="${input.tenantId}"`);
    await page.goto(`${uiUrl}/namespaces/default/workflows?query=${query}`);
    for (const workflowId of [provisioningWorkflowId(input.slug), tenantLifecycleWorkflowId(input.tenantId), billingTrialWorkflowId(input.tenantId)]) {
      await page.getByText(workflowId).first().waitFor({ timeout: 30_000 });
    }
    await page.getByText('3 Workflows', { exact: true }).waitFor({ timeout: 10_000 });
    // The other tenant's workflow must not match the filter.
    expect(await page.getByText(provisioningWorkflowId(otherTenant.slug)).count()).toBe(0);
    expect(await page.getByText(tenantLifecycleWorkflowId(otherTenant.tenantId)).count()).toBe(0);
    await mkdir(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: path.join(SCREENSHOTS, 'web-ui-tenant-filter.png'), fullPage: true });

    // Operators find tenants by lifecycle state: the lifecycle workflow carries TenantLifecycleState.
    const byState = encodeURIComponent(`TenantId="${input.tenantId}" AND TenantLifecycleState="active"`);
    await page.goto(`${uiUrl}/namespaces/default/workflows?query=${byState}`);
    await page.getByText(tenantLifecycleWorkflowId(input.tenantId)).first().waitFor({ timeout: 30_000 });
    await page.getByText('1 Workflow', { exact: true }).waitFor({ timeout: 10_000 });
    await page.screenshot({ path: path.join(SCREENSHOTS, 'web-ui-lifecycle-state-filter.png'), fullPage: true });
  });
});
