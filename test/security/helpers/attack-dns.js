// Test-only, preloaded into the attacked app with `node --require`: a few host names under
// .attack.test resolve to the addresses an attacker would point a name at (and hooks.test to
// the local receiver); every other name goes to the real resolver. It stands in for a DNS zone
// the attacker controls. Plain JavaScript, since it is preloaded as is.
'use strict';

const dns = require('node:dns');

const NAMES = {
  'intranet.attack.test': [{ address: '10.1.2.3', family: 4 }],
  'loopback.attack.test': [{ address: '127.0.0.1', family: 4 }],
  'metadata.attack.test': [{ address: '169.254.169.254', family: 4 }],
  'ula.attack.test': [{ address: 'fd00::1', family: 6 }],
  // One public address and one private: any forbidden address refuses the name.
  'mixed.attack.test': [
    { address: '93.184.216.34', family: 4 },
    { address: '10.1.2.3', family: 4 },
  ],
  'hooks.test': [{ address: '127.0.0.1', family: 4 }],
};

function answer(hostname, options) {
  const found = NAMES[String(hostname).toLowerCase().replace(/\.$/, '')];
  if (!found) return undefined;
  const all = typeof options === 'object' && options !== null && options.all;
  return all ? found : found[0];
}

const lookup = dns.lookup;
dns.lookup = function (hostname, options, callback) {
  const done = typeof options === 'function' ? options : callback;
  const found = answer(hostname, typeof options === 'function' ? {} : options);
  if (!found) return lookup.apply(this, arguments);
  process.nextTick(() =>
    Array.isArray(found) ? done(null, found) : done(null, found.address, found.family),
  );
  return {};
};

const promisesLookup = dns.promises.lookup;
dns.promises.lookup = function (hostname, options) {
  const found = answer(hostname, options);
  return found ? Promise.resolve(found) : promisesLookup.apply(this, arguments);
};
