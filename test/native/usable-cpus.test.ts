// How abrcast counts the CPUs it may use (native/src/usable-cpus.cc): the cgroup CPU quota, read
// from fake /proc and cgroup trees laid out as cgroup v2, v1 and hybrid hosts and containers
// present them, bounds the affinity count, rounded up, at least 1.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const compiler = ['c++', 'g++', 'clang++'].find((name) => spawnSync(name, ['--version']).status === 0);
const skip = process.platform !== 'linux' ? 'the cgroup files are Linux only' : compiler ? false : 'no C++ compiler (c++, g++ or clang++)';

/** One process's view: its /proc/self/cgroup, its mountinfo, and files below the root. */
interface FakeHost {
  procCgroup: string;
  mountinfo: string[];
  files: Record<string, string>;
}

const v2Mount = '30 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate';
const v1CpuMount = (root: string, at = '/sys/fs/cgroup/cpu,cpuacct'): string =>
  `35 31 0:30 ${root} ${at} rw,nosuid,nodev,noexec,relatime shared:10 - cgroup cgroup rw,cpu,cpuacct`;
const v1MemoryMount = '36 31 0:31 / /sys/fs/cgroup/memory rw,nosuid - cgroup cgroup rw,memory';

describe('the cgroup CPU quota bounds the CPUs abrcast sizes its threads for', { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'abrcast-usable-cpus-'));
  const binary = join(dir, 'usable-cpus-check');
  let hosts = 0;
  after(() => rmSync(dir, { recursive: true, force: true }));

  before(() => {
    execFileSync(compiler!, [
      '-std=c++17', '-O1', '-Wall', '-Wextra', `-I${join(repoRoot, 'native/src')}`,
      join(repoRoot, 'native/src/usable-cpus.cc'), join(repoRoot, 'test/native/usable-cpus-check.cc'), '-o', binary,
    ]);
  });

  /** [quota in CPUs, usable CPUs for `affinity`, the file that set it]. */
  function check(host: FakeHost, affinity: number): [number, number, string] {
    const root = join(dir, `host-${++hosts}`);
    const files = { '/proc/self/cgroup': host.procCgroup, '/proc/self/mountinfo': `${host.mountinfo.join('\n')}\n`, ...host.files };
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), text);
    }
    const [quota, cpus, ...where] = execFileSync(binary, [root, String(affinity)], { encoding: 'utf8' }).trim().split(' ');
    return [Number(quota), Number(cpus), where.join(' ').replace(root, '')];
  }

  test('cgroup v2, in a container (its own cgroup at the mount): cpu.max 150000 100000 is 1.5 CPUs, so 2 of 64', () => {
    const [quota, cpus, where] = check({ procCgroup: '0::/\n', mountinfo: [v2Mount], files: { '/sys/fs/cgroup/cpu.max': '150000 100000\n' } }, 64);
    assert.equal(quota, 1.5);
    assert.equal(cpus, 2);
    assert.equal(where, 'cgroup v2 cpu.max 150000 100000 (/sys/fs/cgroup)');
  });

  test('cgroup v2, a systemd service: a parent slice limit binds the service below it; the tighter of the two wins', () => {
    const procCgroup = '0::/app.slice/render.service\n';
    const [quota, cpus, where] = check({
      procCgroup, mountinfo: [v2Mount], files: {
        '/sys/fs/cgroup/app.slice/render.service/cpu.max': 'max 100000\n',
        '/sys/fs/cgroup/app.slice/cpu.max': '400000 100000\n',
      },
    }, 64);
    assert.deepEqual([quota, cpus, where], [4, 4, 'cgroup v2 cpu.max 400000 100000 (/sys/fs/cgroup/app.slice)']);
    const [leafQuota, leafCpus] = check({
      procCgroup, mountinfo: [v2Mount], files: {
        '/sys/fs/cgroup/app.slice/render.service/cpu.max': '250000 100000\n',
        '/sys/fs/cgroup/app.slice/cpu.max': '400000 100000\n',
      },
    }, 64);
    assert.deepEqual([leafQuota, leafCpus], [2.5, 3]);
  });

  test('cgroup v2 with no limit ("max") leaves the affinity count; a quota above it does not raise it', () => {
    assert.deepEqual(check({ procCgroup: '0::/\n', mountinfo: [v2Mount], files: { '/sys/fs/cgroup/cpu.max': 'max 100000\n' } }, 8).slice(0, 2), [0, 8]);
    assert.deepEqual(check({ procCgroup: '0::/\n', mountinfo: [v2Mount], files: { '/sys/fs/cgroup/cpu.max': '1600000 100000\n' } }, 2).slice(0, 2), [16, 2]);
  });

  test('a quota under one CPU still gives 1', () => {
    assert.deepEqual(check({ procCgroup: '0::/\n', mountinfo: [v2Mount], files: { '/sys/fs/cgroup/cpu.max': '20000 100000\n' } }, 4).slice(0, 2), [0.2, 1]);
  });

  test('cgroup v1, Docker without a cgroup namespace: the mount shows the container\'s own cgroup, its path the same', () => {
    const [quota, cpus, where] = check({
      procCgroup: '12:memory:/docker/abc\n4:cpu,cpuacct:/docker/abc\n1:name=systemd:/docker/abc\n',
      mountinfo: [v1MemoryMount, v1CpuMount('/docker/abc')],
      files: { '/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us': '250000\n', '/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us': '100000\n' },
    }, 32);
    assert.deepEqual([quota, cpus], [2.5, 3]);
    assert.equal(where, 'cgroup v1 cpu.cfs_quota_us 250000 / cpu.cfs_period_us 100000 (/sys/fs/cgroup/cpu,cpuacct)');
  });

  test('cgroup v1 on the host: the process\'s cgroup below the mount, and -1 (no quota) above it', () => {
    const [quota, cpus] = check({
      procCgroup: '4:cpu,cpuacct:/batch/job7\n',
      mountinfo: [v1CpuMount('/')],
      files: {
        '/sys/fs/cgroup/cpu,cpuacct/batch/job7/cpu.cfs_quota_us': '100000\n', '/sys/fs/cgroup/cpu,cpuacct/batch/job7/cpu.cfs_period_us': '50000\n',
        '/sys/fs/cgroup/cpu,cpuacct/batch/cpu.cfs_quota_us': '-1\n', '/sys/fs/cgroup/cpu,cpuacct/batch/cpu.cfs_period_us': '100000\n',
        '/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us': '-1\n', '/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us': '100000\n',
      },
    }, 16);
    assert.deepEqual([quota, cpus], [2, 2]);
  });

  test('a hybrid host (v2 mounted beside v1, cpu in v1) reads the v1 quota; a mount point with a space is unescaped', () => {
    const [quota, cpus, where] = check({
      procCgroup: '4:cpu,cpuacct:/\n0::/user.slice\n',
      mountinfo: ['41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw', v1CpuMount('/', '/sys/fs/cgroup/cpu\\040acct')],
      files: { '/sys/fs/cgroup/cpu acct/cpu.cfs_quota_us': '300000\n', '/sys/fs/cgroup/cpu acct/cpu.cfs_period_us': '100000\n' },
    }, 8);
    assert.deepEqual([quota, cpus], [3, 3]);
    assert.match(where, /^cgroup v1 .*\(\/sys\/fs\/cgroup\/cpu acct\)$/);
  });

  test('no cgroup files at all (another OS layout, a locked-down sandbox): no quota, the affinity count', () => {
    assert.deepEqual(check({ procCgroup: '', mountinfo: [], files: {} }, 6).slice(0, 2), [0, 6]);
    assert.deepEqual(check({ procCgroup: '0::/\n', mountinfo: [v2Mount], files: {} }, 6).slice(0, 2), [0, 6]);
  });
});
