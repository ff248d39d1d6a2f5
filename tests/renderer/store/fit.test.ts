// The memory plan in one line: all formats fit, none does, or some do (named).
import * as assert from 'node:assert/strict';
import { test } from 'node:test';

import { fitSummary } from '../../../renderer/store/fit';

const fit = (need_mb: number, fits: boolean, where: 'gpu' | 'cpu' = 'gpu') => ({ fits, need_mb, have_mb: 8192, where });

test('the fit in one line', () => {
  assert.equal(fitSummary({ native: fit(700, true), f16: fit(1400, true) }), 'Fits in every format: needs 700.0 MiB–1.37 GiB of 8.00 GiB GPU memory');
  assert.equal(fitSummary({ native: fit(9000, false, 'cpu') }), 'Too big in every format: needs 8.79 GiB of 8.00 GiB RAM');
  assert.equal(
    fitSummary({ f16: fit(14_000, false), fp8: fit(7900, true), int4: fit(4800, true) }),
    'Fits as fp8, int4 (4.69 GiB–7.71 GiB of 8.00 GiB GPU memory); too big as f16',
  );
  assert.equal(fitSummary({}), 'No memory plan');
});
