// Drives a running Gatehouse with StackStorm's own JavaScript client (npm
// st2client, unchanged) holding a token it did not log in for: one from
// single sign-on (gatehouse login --sso). The token is set as st2client.js
// sets the one authenticate returns, then used to manage an API key.
//
// Usage: GATEHOUSE_URL=http://127.0.0.1:9100 ST2_USER=alice ST2_TOKEN=… node check-token.js
'use strict';

const assert = require('assert');
const st2client = require('st2client');

async function main() {
  const base = process.env.GATEHOUSE_URL;
  const api = st2client({ api: `${base}/api`, auth: `${base}/auth` });
  api.setToken({ token: process.env.ST2_TOKEN, user: process.env.ST2_USER });

  const created = await api.apikeys.create({ metadata: { used_by: 'st2client.js sso' } });
  assert.ok(/^[0-9A-Za-z]{86}$/.test(created.key), `bad key ${created.key}`);
  assert.strictEqual(created.user, process.env.ST2_USER);
  const list = await api.apikeys.list();
  assert.ok(list.some((k) => k.id === created.id), 'created key not listed');
  await api.apikeys.delete(created.id);
  console.log('st2client.js with a single sign-on token: all checks passed');
}

main().then(() => process.exit(0), (err) => {
  console.error('st2client.js check failed:', err && (err.stack || JSON.stringify(err)));
  process.exit(1);
});
