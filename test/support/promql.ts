/** PromQL words that are not metric names: aggregations, set and vector-matching operators, modifiers. */
const KEYWORDS = new Set([
  'sum', 'avg', 'min', 'max', 'count', 'stddev', 'stdvar', 'topk', 'bottomk', 'quantile', 'count_values', 'group', 'limitk', 'limit_ratio',
  'and', 'or', 'unless', 'bool', 'offset', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'inf', 'nan',
]);

/**
 * The metric names a PromQL expression selects. Good enough for the expressions this repository writes: string
 * literals, label matchers, ranges and label lists are cut out first, then every remaining identifier that is not a
 * function call or a keyword is a metric name. Grafana's `$__rate_interval` and friends sit inside ranges.
 */
export function metricNamesIn(expression: string): string[] {
  const bare = expression
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names = [...bare.matchAll(/(?<![\w:.$])([A-Za-z_:][\w:]*)(?![\w:]|\s*\()/g)].map((match) => match[1]!);
  return [...new Set(names.filter((name) => !KEYWORDS.has(name.toLowerCase())))];
}

/**
 * Every series name a scrape of Prometheus text can hold, from its `# TYPE` lines: a labelled counter nobody
 * incremented yet still has its TYPE line. A histogram also names its _bucket, _sum and _count series; a summary its
 * _sum and _count.
 */
export function seriesNamesIn(exposition: string): Set<string> {
  const names = new Set<string>();
  for (const [, name, type] of exposition.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    names.add(name!);
    if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(name! + suffix);
    if (type === 'summary') for (const suffix of ['_sum', '_count']) names.add(name! + suffix);
  }
  return names;
}
