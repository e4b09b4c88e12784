/**
 * What `docker info` and `docker version` report about this engine, in
 * dockerd's shapes (clients parse fields such as CgroupVersion and ApiVersion).
 */
import os from 'node:os';
import type { ContainerManager } from './containers/manager.ts';
import type { ImageStore } from './images/image-store.ts';
import type { Runtime } from './oci/runtime.ts';

export const engineVersion = '0.1.0';

export interface InfoParts {
  containers: ContainerManager;
  images: ImageStore;
  runtime: Runtime;
  cgroupMode: string;
  dataDir: string;
}

export async function engineInfo(p: InfoParts): Promise<Record<string, unknown>> {
  const all = p.containers.records.all();
  const count = (s: string) => all.filter((c) => c.state.status === s).length;
  const rt = await p.runtime.runtimeVersion().catch(() => ({ name: 'crun', version: 'unknown' }));
  return {
    ID: os.hostname(),
    Containers: all.length,
    ContainersRunning: count('running'),
    ContainersPaused: count('paused'),
    ContainersStopped: all.length - count('running') - count('paused'),
    Images: p.images.meta.all().length,
    Driver: 'overlay2',
    DriverStatus: [
      ['Backing Filesystem', 'extfs'],
      ['Supports d_type', 'true'],
      ['Native Overlay Diff', 'true'],
    ],
    Plugins: {
      Volume: ['local'],
      Network: ['bridge', 'host', 'null'],
      Authorization: null,
      Log: ['k8s-file'],
    },
    MemoryLimit: true,
    SwapLimit: true,
    CpuCfsPeriod: true,
    CpuCfsQuota: true,
    CPUShares: true,
    CPUSet: true,
    PidsLimit: true,
    IPv4Forwarding: true,
    Debug: false,
    NFd: 0,
    OomKillDisable: false,
    NGoroutines: 0,
    SystemTime: new Date().toISOString(),
    LoggingDriver: 'k8s-file',
    CgroupDriver: 'cgroupfs',
    CgroupVersion: p.cgroupMode === 'v2' ? '2' : '1',
    NEventsListener: 0,
    KernelVersion: os.release(),
    OperatingSystem: 'Drover',
    OSVersion: '',
    OSType: 'linux',
    Architecture: os.arch() === 'x64' ? 'x86_64' : os.arch(),
    IndexServerAddress: 'https://index.docker.io/v1/',
    RegistryConfig: { IndexConfigs: {}, InsecureRegistryCIDRs: ['127.0.0.0/8'], Mirrors: [] },
    NCPU: os.availableParallelism(),
    MemTotal: os.totalmem(),
    DockerRootDir: p.dataDir,
    HttpProxy: '',
    HttpsProxy: '',
    NoProxy: '',
    Name: os.hostname(),
    Labels: [],
    ExperimentalBuild: false,
    ServerVersion: engineVersion,
    Runtimes: { [rt.name]: { path: p.runtime.runtimePath } },
    DefaultRuntime: rt.name,
    Swarm: {
      NodeID: '',
      NodeAddr: '',
      LocalNodeState: 'inactive',
      ControlAvailable: false,
      Error: '',
      RemoteManagers: null,
    },
    LiveRestoreEnabled: true,
    Isolation: '',
    InitBinary: 'catatonit',
    ContainerdCommit: { ID: '', Expected: '' },
    RuncCommit: { ID: rt.version, Expected: rt.version },
    InitCommit: { ID: '', Expected: '' },
    SecurityOptions: ['name=seccomp,profile=default'],
    Warnings: null,
  };
}

export async function engineVersionReport(runtime: Runtime): Promise<Record<string, unknown>> {
  const rt = await runtime.runtimeVersion().catch(() => ({ name: 'crun', version: 'unknown' }));
  return {
    Platform: { Name: 'Drover Engine' },
    Components: [
      {
        Name: 'Engine',
        Version: engineVersion,
        Details: {
          ApiVersion: '1.41',
          MinAPIVersion: '1.12',
          Arch: process.arch === 'x64' ? 'amd64' : process.arch,
          BuildTime: '',
          Experimental: 'false',
          GitCommit: '',
          GoVersion: `node${process.versions.node}`,
          KernelVersion: os.release(),
          Os: 'linux',
        },
      },
      { Name: rt.name, Version: rt.version, Details: { GitCommit: '' } },
    ],
    Version: engineVersion,
    GitCommit: '',
    GoVersion: `node${process.versions.node}`,
    KernelVersion: os.release(),
    BuildTime: '',
  };
}
