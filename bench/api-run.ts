// One benchmark run against a fresh Aqueduct with default options and the
// test scenario's echo servers, stopped whatever happens: the frame the API
// benchmarks share.
import { apiClient, type ApiCall } from '../test/helpers/api.js';
import { apiUp, startAqueductProcess, type RunningAqueduct } from '../test/helpers/aqueduct.js';
import { scenario, type Scenario } from '../test/helpers/scenario.js';

export interface ApiRun {
  s: Scenario;
  aq: RunningAqueduct;
  api: ApiCall;
}

export async function withAqueduct(run: (r: ApiRun) => Promise<void>): Promise<void> {
  const s = await scenario();
  const aq = await startAqueductProcess();
  try {
    await apiUp(aq);
    await run({ s, aq, api: apiClient(aq.api) });
  } finally {
    await aq.stop();
    await s.close();
  }
}
