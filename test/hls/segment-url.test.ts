import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cidUrlResolver, DEFAULT_URL_TEMPLATE } from '../../src/hls/index.js';

const cid = 'bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku';

describe('cidUrlResolver', () => {
  test('default: {gateway}/ipfs/{cid} on https://ipfs.io', () => {
    assert.equal(DEFAULT_URL_TEMPLATE, '{gateway}/ipfs/{cid}');
    assert.equal(cidUrlResolver()(cid), `https://ipfs.io/ipfs/${cid}`);
  });

  test('a gateway has its trailing slashes trimmed and may carry a path prefix', () => {
    assert.equal(cidUrlResolver({ gateway: 'https://gw.example/' })(cid), `https://gw.example/ipfs/${cid}`);
    assert.equal(cidUrlResolver({ gateway: 'http://127.0.0.1:8080//' })(cid), `http://127.0.0.1:8080/ipfs/${cid}`);
    assert.equal(cidUrlResolver({ gateway: 'https://host.example/proxy' })(cid), `https://host.example/proxy/ipfs/${cid}`);
  });

  test('templates: absolute, relative, and with {gateway}', () => {
    assert.equal(cidUrlResolver({ template: 'https://gw.example/ipfs-ts/{cid}' })(cid), `https://gw.example/ipfs-ts/${cid}`);
    assert.equal(cidUrlResolver({ template: '{gateway}/ipfs-ts/{cid}', gateway: 'https://gw.example' })(cid), `https://gw.example/ipfs-ts/${cid}`);
    const relative = cidUrlResolver({ template: '/ipfs/{cid}' })(cid);
    assert.equal(relative, `/ipfs/${cid}`);
    // A relative URL in a playlist served by a gateway resolves on that gateway.
    assert.equal(new URL(relative, 'https://gw.example/ipfs/bafyplaylist').href, `https://gw.example/ipfs/${cid}`);
    assert.equal(cidUrlResolver({ template: '{cid}?filename=s.ts' })(cid), `${cid}?filename=s.ts`);
  });

  test('a function of the CID', () => {
    const url = cidUrlResolver({ template: (value) => `https://cdn.example/${value}.ts` });
    assert.equal(url(cid), `https://cdn.example/${cid}.ts`);
  });

  test('bad templates fail when the resolver is built, naming the option', () => {
    assert.throws(() => cidUrlResolver({ template: 'https://gw.example/ipfs/' }), {
      name: 'RangeError',
      message: 'Expected string containing {cid} (and optionally {gateway}) or a function of the CID for urlTemplate but received "https://gw.example/ipfs/"',
    });
    assert.throws(() => cidUrlResolver({ template: 42 as unknown as string, optionName: 'segmentUrl' }), {
      name: 'TypeError',
      message: /for segmentUrl but received 42$/,
    });
    assert.throws(() => cidUrlResolver({ template: 'https://gw.example/{path}/{cid}' }), /with no other \{placeholders\}/);
    assert.throws(() => cidUrlResolver({ template: 'https://gw.example/{cid' }), /urlTemplate/);
    assert.throws(() => cidUrlResolver({ template: 'ftp://gw.example/{cid}' }), /expands to an http\(s\) or relative URL/);
    assert.throws(() => cidUrlResolver({ template: 'https://gw example/{cid}' }), /expands to an http\(s\) or relative URL/);
  });

  test('bad gateways fail, including the old https://ipfs.io/ipfs form', () => {
    assert.throws(() => cidUrlResolver({ gateway: 'https://ipfs.io/ipfs' }), {
      message: 'Expected gateway origin without the /ipfs path, such as https://ipfs.io for gateway but received "https://ipfs.io/ipfs"',
    });
    assert.throws(() => cidUrlResolver({ gateway: 'https://ipfs.io/ipfs-ts/' }), /without the \/ipfs path/);
    assert.throws(() => cidUrlResolver({ gateway: 'ipfs.io' }), /Expected http\(s\) URL such as https:\/\/ipfs.io for gateway but received "ipfs.io"/);
    assert.throws(() => cidUrlResolver({ gateway: 'ftp://ipfs.io' }), /for gateway/);
    assert.throws(() => cidUrlResolver({ gateway: 'https://ipfs.io/?a=1' }), /for gateway/);
    assert.throws(() => cidUrlResolver({ gateway: 5 as unknown as string }), { name: 'TypeError', message: /for gateway but received 5/ });
  });

  test('CIDs and function results are checked on each call', () => {
    const url = cidUrlResolver();
    assert.throws(() => url(''), /CID string of 8 to 128 letters and digits for cid but received ""/);
    assert.throws(() => url('bafy/../x'), /for cid/);
    assert.throws(() => cidUrlResolver({ template: () => '' })(cid), /function returning an http\(s\) or relative URL/);
    assert.throws(() => cidUrlResolver({ template: () => 'a b', optionName: 'playlistUrl' })(cid), /for playlistUrl but received "a b"/);
    assert.throws(() => cidUrlResolver({ template: () => 'javascript:alert(1)' })(cid), /for urlTemplate/);
  });
});
