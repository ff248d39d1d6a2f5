// The host answers the models.* requests through its handler table, with
// responses that pass the contract's own validation.
import * as assert from 'node:assert/strict';
import { test } from 'node:test';

import { checkResponse } from '../../../../common/contract';
import { stories } from '../../../support/repo';
import { startHost } from '../support';

test('models.import, models.list and models.recommended through the host', async (t) => {
  const { host } = await startHost(t, { model: null }, {});
  const entry = checkResponse('models.import', await host.handlers['models.import']({ path: stories() }, undefined));
  assert.equal(entry.facts?.architecture, 'llama');
  const listing = checkResponse('models.list', await host.handlers['models.list']({}, undefined));
  assert.deepEqual(
    listing.models.map((m) => [m.name, m.origin, m.source, m.sha256, m.selected]),
    [['stories260K', 'imported', stories(), entry.sha256, false]],
  );
  assert.deepEqual(listing.downloads, []);
  const recommended = checkResponse('models.recommended', await host.handlers['models.recommended']({}, undefined));
  assert.ok(recommended.models.length >= 5);
  await assert.rejects(async () => host.handlers['models.download.pause']({ id: 'nope' }, undefined), /no download with id 'nope'/);
});
