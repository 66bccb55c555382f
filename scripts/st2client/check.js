// Drives a running Gatehouse with StackStorm's own JavaScript client
// (npm st2client, unchanged), as a new user would: log in, call with the
// token, and manage API keys. Exits non-zero at the first surprise.
//
// Usage: GATEHOUSE_URL=http://127.0.0.1:9100 ST2_USER=admin ST2_PASSWORD=… node check.js
'use strict';

const assert = require('assert');
const st2client = require('st2client');

const base = process.env.GATEHOUSE_URL;
const user = process.env.ST2_USER;
const password = process.env.ST2_PASSWORD;

async function rejects(promise, status, what) {
  try {
    await promise;
  } catch (err) {
    assert.strictEqual(err.status, status, `${what}: status ${err.status}, want ${status}: ${err.message}`);
    return err;
  }
  throw new Error(`${what}: succeeded, want ${status}`);
}

async function main() {
  // The layout of st2client.js's own integration config: api at /api, auth at /auth.
  const api = st2client({ api: `${base}/api`, auth: `${base}/auth` });

  await rejects(api.authenticate(user, password + 'x'), 401, 'wrong password');
  await rejects(api.authenticate('no-such-user', password), 401, 'unknown user');

  const tok = await api.authenticate(user, password);
  for (const k of ['id', 'user', 'token', 'expiry']) assert.ok(tok[k], `token body lacks ${k}`);
  assert.strictEqual(tok.user, user);
  assert.ok(new Date(tok.expiry) > new Date(), 'expiry is not in the future');

  const created = await api.apikeys.create({ metadata: { used_by: 'st2client.js' } });
  assert.ok(/^[0-9A-Za-z]{86}$/.test(created.key), `bad key ${created.key}`);
  assert.strictEqual(created.user, user);

  const list = await api.apikeys.list();
  assert.ok(list.some((k) => k.id === created.id), 'created key not listed');
  assert.ok(list.every((k) => k.key_hash === '********'), 'list is not masked');

  const got = await api.apikeys.get(created.id);
  assert.strictEqual(got.enabled, true);
  got.enabled = false;
  const edited = await api.apikeys.edit(got);
  assert.strictEqual(edited.enabled, false);
  assert.strictEqual((await api.apikeys.get(created.id)).enabled, false);

  // A second client that knows only the key.
  const byKey = st2client({ api: `${base}/api`, auth: `${base}/auth` });
  byKey.setKey({ key: created.key });
  await rejects(byKey.apikeys.list(), 401, 'disabled key');
  got.enabled = true;
  await api.apikeys.edit(got);
  assert.ok(Array.isArray(await byKey.apikeys.list()), 'enabled key refused');

  await api.apikeys.delete(created.id);
  await rejects(api.apikeys.get(created.id), 404, 'deleted key');
  await rejects(byKey.apikeys.list(), 401, 'deleted key used');

  // Same again with auth on the bare st2auth port layout (POST /tokens).
  const bare = st2client({ api: base, auth: base });
  const t2 = await bare.authenticate(user, password);
  assert.ok(t2.token, 'no token from bare layout');
  console.log('st2client.js: all checks passed');
}

// st2client.js arms a timer for the token's expiry event, which would keep
// node alive for a day: exit explicitly.
main().then(() => process.exit(0), (err) => {
  console.error('st2client.js check failed:', err && (err.stack || JSON.stringify(err)));
  process.exit(1);
});
