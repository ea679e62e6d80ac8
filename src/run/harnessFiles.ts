// Where the Python harness lives next to this code: dist/harness in the bundle, src/harness in a checkout.
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export const HARNESS_MODULE = 'efficientllm_harness';

export function findHarnessRoot(): string {
  const candidates = [
    join(__dirname, 'harness'),
    join(__dirname, '..', 'harness'),
    join(__dirname, '..', '..', 'src', 'harness'),
  ];
  const found = candidates.find((dir) => existsSync(join(dir, HARNESS_MODULE, '__main__.py')));
  if (!found)
    throw new Error(`the harness package ${HARNESS_MODULE} is missing beside ${__dirname}; run "npm run build"`);
  return found;
}
