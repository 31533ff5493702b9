// axe-core's findings on a page, short enough to read in a failure
// message: each rule with its help text and the nodes it flags.
import { Page } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';

export async function violations(page: Page) {
  const results = await new AxeBuilder({ page }).analyze();
  return results.violations.map((v) => ({
    id: v.id,
    help: v.help,
    nodes: v.nodes.map((n) => `${n.target.join(' ')} ${n.failureSummary ?? ''}`.slice(0, 300)),
  }));
}
