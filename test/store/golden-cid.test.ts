// Same bytes -> same CID from Kubo's RPC, the embedded Helia store, Kubo's own CLI
// with the profile's flags, and a Kubo repo set up with Kubo's own unixfs-v1-2025 profile.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { create, type KuboRPCClient } from 'kubo-rpc-client';
import { CID } from 'multiformats/cid';
import { HeliaStore, KuboStore, UNIXFS_V1_2025, type UnixfsProfile } from '../../src/store/index.js';
import { findKuboBinary, startKubo, type KuboHandle } from '../support/kubo.js';
import { pseudoRandomBytes } from './pseudo-random-bytes.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const RAW_CODEC = 0x55;
const DAG_PB_CODEC = 0x70;

const cases = [
  { name: 'empty file', length: 0 },
  { name: '100 KiB (below 256 KiB)', length: 100 * KiB },
  { name: '600 KiB (between 256 KiB and 1 MiB)', length: 600 * KiB + 7 },
  { name: 'exactly 1 MiB', length: MiB },
  { name: '3.5 MiB (four chunks)', length: 3.5 * MiB },
];

function cliFlags(profile: UnixfsProfile): string[] {
  return [
    `--cid-version=${profile.cidVersion}`,
    '--raw-leaves',
    `--hash=${profile.hashAlg}`,
    `--chunker=size-${profile.chunkSize}`,
    `--max-file-links=${profile.maxLinksPerNode}`,
  ];
}

describe('golden CIDs: KuboStore, HeliaStore and the Kubo CLI agree', () => {
  let kubo: KuboHandle;
  let rpc: KuboRPCClient;
  let heliaDir: string;
  let profileRepo: string;
  let kuboStore: KuboStore;
  let heliaStore: HeliaStore;

  // Kubo's CLI, offline, in a repo whose Import config is Kubo's own unixfs-v1-2025 profile.
  const addWithKuboProfile = (bytes: Uint8Array): string => {
    const result = spawnSync(findKuboBinary(), ['add', '--offline', '--only-hash', '-Q'], {
      env: { ...process.env, IPFS_PATH: profileRepo },
      input: bytes,
    });
    assert.equal(result.status, 0, result.stderr?.toString());
    return result.stdout.toString().trim();
  };

  before(async () => {
    kubo = await startKubo();
    rpc = create({ url: kubo.apiUrl });
    heliaDir = mkdtempSync(join(tmpdir(), 'abrcast-helia-'));
    profileRepo = mkdtempSync(join(tmpdir(), 'abrcast-kubo-profile-'));
    const init = spawnSync(findKuboBinary(), ['init', '--profile=test,unixfs-v1-2025', '--empty-repo'], {
      env: { ...process.env, IPFS_PATH: profileRepo },
    });
    assert.equal(init.status, 0, init.stderr?.toString());
    kuboStore = new KuboStore({ url: kubo.apiUrl });
    heliaStore = new HeliaStore({ dir: heliaDir });
  });

  after(async () => {
    await heliaStore?.close();
    await kuboStore?.close();
    await kubo?.stop();
    if (heliaDir) rmSync(heliaDir, { recursive: true, force: true });
    if (profileRepo) rmSync(profileRepo, { recursive: true, force: true });
  });

  for (const [index, { name, length }] of cases.entries()) {
    test(name, async () => {
      const bytes = pseudoRandomBytes(length, 0x5eed + index);
      const kuboCid = await kuboStore.add(bytes);
      const heliaCid = await heliaStore.add(bytes);
      const cliCid = kubo.cli(['add', '--only-hash', '-Q', ...cliFlags(UNIXFS_V1_2025)], bytes).trim();
      const profileCid = addWithKuboProfile(bytes);

      assert.equal(heliaCid, kuboCid, 'HeliaStore vs KuboStore');
      assert.equal(cliCid, kuboCid, 'ipfs add --only-hash with the profile flags vs KuboStore');
      assert.equal(profileCid, kuboCid, 'Kubo repo with the unixfs-v1-2025 profile vs KuboStore');

      const cid = CID.parse(kuboCid);
      assert.equal(cid.version, 1);
      assert.ok(kuboCid.startsWith('b'), 'base32 string form');
      assert.equal(cid.multihash.code, 0x12, 'sha2-256');
      // Up to one chunk the file is one raw block; beyond, a dag-pb node over 1 MiB raw leaves.
      assert.equal(cid.code, length <= MiB ? RAW_CODEC : DAG_PB_CODEC);
      if (length > MiB) {
        const { value } = await rpc.dag.get(cid);
        const links = (value as { Links: Array<{ Hash: CID; Tsize: number }> }).Links;
        assert.equal(links.length, Math.ceil(length / MiB));
        assert.deepEqual(links.map((link) => link.Hash.code), links.map(() => RAW_CODEC));
        assert.deepEqual(links.slice(0, -1).map((link) => link.Tsize), links.slice(0, -1).map(() => MiB));
      }
    });
  }

  test('the max-links setting reaches both stores (deep tree from a small profile)', async () => {
    // 1 KiB chunks, 4 links per node: 40 leaves need three levels of dag-pb nodes.
    const small: UnixfsProfile = { ...UNIXFS_V1_2025, name: 'small-test', chunkSize: 1024, maxLinksPerNode: 4 };
    const bytes = pseudoRandomBytes(40 * 1024 - 100, 77);
    const kuboCid = await new KuboStore({ url: kubo.apiUrl, profile: small }).add(bytes);
    const heliaCid = await new HeliaStore({ dir: heliaDir, profile: small }).add(bytes);
    const cliCid = kubo.cli(['add', '--only-hash', '-Q', ...cliFlags(small)], bytes).trim();
    const unlimitedCid = kubo.cli(['add', '--only-hash', '-Q', ...cliFlags({ ...small, maxLinksPerNode: 174 })], bytes).trim();

    assert.equal(heliaCid, kuboCid);
    assert.equal(cliCid, kuboCid);
    assert.notEqual(unlimitedCid, kuboCid, 'max links must change the DAG, else this test proves nothing');
    const { value: root } = await rpc.dag.get(CID.parse(kuboCid));
    const rootLinks = (root as { Links: unknown[] }).Links;
    assert.ok(rootLinks.length <= 4, `root has ${rootLinks.length} links`);
  });
});
