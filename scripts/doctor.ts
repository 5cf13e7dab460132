/**
 * `npm run doctor`: the configuration report the start command acts on, printed without starting anything, for any
 * NODE_ENV. Exit 0: nothing to fix; 1: NODE_ENV=production would refuse to start; 2: a variable's value is invalid
 * (the start command refuses that in every environment). Prints variable names and reasons, never their values.
 */
import { ConfigError, inspectConfig, PRODUCTION_REFUSAL_HEADING } from '../src/config';

const report = inspectConfig();
const lines = [`Configuration check: NODE_ENV=${report.nodeEnv}, Node.js ${report.nodeVersion}`];
if (report.invalid.length > 0) lines.push(new ConfigError(report.invalid).message);
if (report.production.length > 0) {
  if (report.nodeEnv !== 'production') lines.push('Not production-ready: with NODE_ENV=production the start command would refuse, as it would print:');
  lines.push(new ConfigError(report.production, PRODUCTION_REFUSAL_HEADING).message);
} else {
  lines.push('Production-ready: nothing NODE_ENV=production refuses.');
}
const exitCode = report.invalid.length > 0 ? 2 : report.production.length > 0 ? 1 : 0;
(exitCode === 0 ? console.log : console.error)(lines.join('\n'));
process.exitCode = exitCode;
