import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { billingTrialWorkflowId, emailVerificationWorkflowId, provisioningWorkflowId, tenantLifecycleWorkflowId } from '../../src/temporal/workflow-ids';

const SCREENSHOTS = path.resolve(__dirname, '../../test-results');
// Without the background-networking flags Chromium keeps dialling hosts this machine cannot reach.
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export const launchBrowser = (): Promise<Browser> => chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });

export interface UiTenant {
  tenantId: string;
  slug: string;
}

/**
 * What an operator does in the Web UI: filter by `TenantId="…"` and see exactly the tenant's provisioning, lifecycle,
 * trial and email-verification workflows, then narrow by `TenantLifecycleState`. Fails if another tenant's workflow
 * matches.
 */
export async function expectTenantFilterInWebUi(browser: Browser, uiUrl: string, tenant: UiTenant, otherTenant: UiTenant, screenshotPrefix: string): Promise<void> {
  const page = await browser.newPage();
  try {
    const query = encodeURIComponent(`TenantId="${tenant.tenantId}"`);
    await page.goto(`${uiUrl}/namespaces/default/workflows?query=${query}`);
    const tenantWorkflows = [
      provisioningWorkflowId(tenant.slug),
      tenantLifecycleWorkflowId(tenant.tenantId),
      billingTrialWorkflowId(tenant.tenantId),
      emailVerificationWorkflowId(tenant.tenantId),
    ];
    for (const workflowId of tenantWorkflows) await page.getByText(workflowId).first().waitFor({ timeout: 30_000 });
    await page.getByText(`${tenantWorkflows.length} Workflows`, { exact: true }).waitFor({ timeout: 10_000 });
    expect(await page.getByText(provisioningWorkflowId(otherTenant.slug)).count()).toBe(0);
    expect(await page.getByText(tenantLifecycleWorkflowId(otherTenant.tenantId)).count()).toBe(0);
    await mkdir(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: path.join(SCREENSHOTS, `${screenshotPrefix}-tenant-filter.png`), fullPage: true });

    // Operators find tenants by lifecycle state: the lifecycle workflow carries TenantLifecycleState.
    const byState = encodeURIComponent(`TenantId="${tenant.tenantId}" AND TenantLifecycleState="active"`);
    await page.goto(`${uiUrl}/namespaces/default/workflows?query=${byState}`);
    await page.getByText(tenantLifecycleWorkflowId(tenant.tenantId)).first().waitFor({ timeout: 30_000 });
    await page.getByText('1 Workflow', { exact: true }).waitFor({ timeout: 10_000 });
    await page.screenshot({ path: path.join(SCREENSHOTS, `${screenshotPrefix}-lifecycle-state-filter.png`), fullPage: true });
  } finally {
    await page.close();
  }
}
