/**
 * Alerts and the dashboard as code. promtool validates ops/prometheus/alerts.yml and runs its unit tests
 * (alerts.test.yml: each alert fed series that make it fire and series that must not); every alert has a P1-P4
 * severity and a playbook of its own name in docs/runbook.md; and every metric that an alert or a dashboard panel names
 * is one the product exports, read from the /metrics of a control plane started as `npm start` starts it, the
 * Temporal SDK's worker metrics included. A renamed metric fails here, not silently in production.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'yaml';
import { fleetToolsReady } from '../support/fleet-tools';
import { metricNamesIn, seriesNamesIn } from '../support/promql';
import { startControlPlaneProcess, type StartedControlPlane } from '../support/started-process';
import { waitFor } from '../support/wait';

const ROOT = path.resolve(__dirname, '../..');
const PROMTOOL = path.join(ROOT, '.tools', 'promtool', 'promtool');
const RULES = path.join(ROOT, 'ops', 'prometheus', 'alerts.yml');
const RULE_TESTS = path.join(ROOT, 'ops', 'prometheus', 'alerts.test.yml');
const DASHBOARD = path.join(ROOT, 'ops', 'grafana', 'control-plane.json');
const RUNBOOK = path.join(ROOT, 'docs', 'runbook.md');
/** Series Prometheus makes itself for every target, not the product. */
const PROMETHEUS_OWN = ['up'];

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface RuleTestCase {
  alertname: string;
  exp_alerts?: unknown[];
}
interface Panel {
  id: number;
  type: string;
  title: string;
  targets?: Array<{ expr: string }>;
}

function promtool(...args: string[]): Promise<{ exitCode: number; output: string }> {
  return new Promise((resolve) => {
    execFile(PROMTOOL, args, { cwd: ROOT }, (error, stdout, stderr) => {
      resolve({ exitCode: typeof error?.code === 'number' ? error.code : error ? -1 : 0, output: `${stdout}${stderr}` });
    });
  });
}

const rulesOf = async (): Promise<Rule[]> => (parse(await readFile(RULES, 'utf8')) as { groups: Array<{ rules: Rule[] }> }).groups.flatMap((group) => group.rules);
const alertsOf = async () => (await rulesOf()).filter((rule): rule is Rule & { alert: string } => rule.alert !== undefined);
const panelsOf = async () => (JSON.parse(await readFile(DASHBOARD, 'utf8')) as { panels: Panel[] }).panels;

/** Names the expressions select that are neither exported nor recorded by the rules nor Prometheus's own. */
function unknownNames(expressions: Array<{ where: string; expr: string }>, exported: Set<string>, recorded: string[]): string[] {
  const known = new Set([...exported, ...recorded, ...PROMETHEUS_OWN]);
  return expressions.flatMap(({ where, expr }) => metricNamesIn(expr).filter((name) => !known.has(name)).map((name) => `${where}: ${name}`));
}

describe('alert rules', () => {
  // `npm test` builds promtool in the background while the other tests run (test/support/sequencer.js runs this last).
  beforeAll(() => fleetToolsReady(), 30 * 60_000);

  it('pass `promtool check rules`', async () => {
    const checked = await promtool('check', 'rules', RULES);
    expect({ exitCode: checked.exitCode, output: checked.exitCode === 0 ? '' : checked.output }).toEqual({ exitCode: 0, output: '' });
    expect(checked.output).toMatch(/SUCCESS: \d+ rules found/);
  });

  it('pass their unit tests (`promtool test rules`)', async () => {
    const tested = await promtool('test', 'rules', RULE_TESTS);
    expect({ exitCode: tested.exitCode, output: tested.exitCode === 0 ? '' : tested.output }).toEqual({ exitCode: 0, output: '' });
    expect(tested.output).toContain('SUCCESS');
  });

  it('are each tested firing and not firing', async () => {
    const cases = (parse(await readFile(RULE_TESTS, 'utf8')) as { tests: Array<{ alert_rule_test?: RuleTestCase[] }> }).tests.flatMap((test) => test.alert_rule_test ?? []);
    const untested = (await alertsOf()).flatMap(({ alert }) => {
      const ofAlert = cases.filter((testCase) => testCase.alertname === alert);
      return [
        ...(ofAlert.some((testCase) => (testCase.exp_alerts ?? []).length > 0) ? [] : [`${alert} never expected to fire`]),
        ...(ofAlert.some((testCase) => (testCase.exp_alerts ?? []).length === 0) ? [] : [`${alert} never expected to stay quiet`]),
      ];
    });
    expect(untested).toEqual([]);
  });

  it('carry a P1-P4 severity and a playbook of their own name in docs/runbook.md', async () => {
    const runbook = await readFile(RUNBOOK, 'utf8');
    const playbooks = new Set([...runbook.matchAll(/^### (\S+)$/gm)].map((match) => match[1]!));
    const alerts = await alertsOf();
    expect(alerts.length).toBeGreaterThan(10);
    const faults = alerts.flatMap(({ alert, labels, annotations }) => [
      ...(/^P[1-4]$/.test(labels?.severity ?? '') ? [] : [`${alert}: severity ${labels?.severity}`]),
      ...(playbooks.has(alert) ? [] : [`${alert}: no "### ${alert}" in docs/runbook.md`]),
      ...(annotations?.runbook_url === `docs/runbook.md#${alert.toLowerCase()}` ? [] : [`${alert}: runbook_url ${annotations?.runbook_url}`]),
      ...(annotations?.summary ? [] : [`${alert}: no summary`]),
    ]);
    expect(faults).toEqual([]);
    // Each playbook opens with the alert's severity, so the page and the rule cannot disagree.
    const mismatched = alerts.filter(({ alert, labels }) => !new RegExp(`^### ${alert}\\n\\n${labels?.severity}\\. `, 'm').test(runbook)).map(({ alert }) => alert);
    expect(mismatched).toEqual([]);
  });
});

describe('the Grafana dashboard', () => {
  it('parses, with distinct panel ids and a query on every panel', async () => {
    const panels = await panelsOf();
    expect(panels.length).toBeGreaterThan(10);
    expect(new Set(panels.map((panel) => panel.id)).size).toBe(panels.length);
    const empty = panels.filter((panel) => panel.type !== 'row' && !(panel.targets ?? []).some((target) => target.expr?.trim())).map((panel) => panel.title);
    expect(empty).toEqual([]);
  });
});

describe('metrics the rules and the dashboard name', () => {
  let plane: StartedControlPlane;
  let exported: Set<string>;
  let recorded: string[];
  let ruleExpressions: Array<{ where: string; expr: string }>;
  let panelExpressions: Array<{ where: string; expr: string }>;

  beforeAll(async () => {
    const rules = await rulesOf();
    recorded = rules.flatMap((rule) => (rule.record ? [rule.record] : []));
    ruleExpressions = rules.map((rule) => ({ where: rule.alert ?? rule.record!, expr: rule.expr }));
    panelExpressions = (await panelsOf()).flatMap((panel) => (panel.targets ?? []).map((target) => ({ where: `panel "${panel.title}"`, expr: target.expr })));
    const wanted = new Set([...ruleExpressions, ...panelExpressions].flatMap(({ expr }) => metricNamesIn(expr)));

    plane = await startControlPlaneProcess();
    // The SDK's worker metrics join /metrics once its pollers run: wait for those named, within a deadline.
    const wantedFromWorker = [...wanted].filter((name) => name.startsWith('temporal_'));
    exported = new Set();
    await waitFor(
      async () => {
        exported = seriesNamesIn(await (await fetch(`${plane.url}/metrics`)).text());
        return wantedFromWorker.every((name) => exported.has(name));
      },
      { timeoutMs: 30_000, intervalMs: 500 },
    ).catch(() => {
      // The comparison below names what never appeared.
    });
  });

  afterAll(async () => {
    await plane?.stop();
  });

  it('reads the service registry and the Temporal worker metrics from one /metrics', () => {
    expect([...exported].filter((name) => name.startsWith('temporal_')).length).toBeGreaterThan(5);
    for (const own of ['http_request_duration_seconds_bucket', 'provisions_total', 'active_tenants', 'process_resident_memory_bytes']) expect(exported.has(own)).toBe(true);
  });

  it('are all exported: no alert names a metric that does not exist', () => {
    expect(unknownNames(ruleExpressions, exported, recorded)).toEqual([]);
  });

  it('are all exported: no dashboard panel names a metric that does not exist', () => {
    expect(unknownNames(panelExpressions, exported, recorded)).toEqual([]);
  });

  it('would catch a misspelt metric in an alert', () => {
    const misspelt = [{ where: 'ProvisioningRollbackFailed', expr: 'sum(increase(provision_total{outcome="rollback_failed"}[15m])) > 0' }];
    expect(unknownNames(misspelt, exported, recorded)).toEqual(['ProvisioningRollbackFailed: provision_total']);
  });
});
