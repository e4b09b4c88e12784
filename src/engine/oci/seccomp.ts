/**
 * The default seccomp profile: a short deny-list, not Docker's allow-list.
 *
 * Why: crun compiles the profile into BPF on every create. Docker's ~350-name
 * allow-list costs ~13 ms CPU per start here (see bench/oci-seccomp.ts and the
 * folder README), more than the whole bare `crun run`. A deny-list of the
 * syscalls Docker's profile keeps from unprivileged containers costs well under
 * a millisecond and blocks the same kernel attack surface that capabilities do
 * not already cover (keyrings, bpf, userfaultfd, perf, ptrace-ish, personality
 * quirks, namespace creation). Syscalls that a granted capability legitimately
 * needs (mount with CAP_SYS_ADMIN, ptrace with CAP_SYS_PTRACE ...) stay allowed,
 * as in Docker's profile. `seccomp: 'unconfined'` disables seccomp entirely.
 */
import type { OciSeccomp, OciSeccompSyscall } from './oci-spec.ts';

const EPERM = 1;

/** Always denied (Docker denies them regardless of capabilities, or they are obsolete). */
const alwaysDenied = [
  'add_key',
  'keyctl',
  'request_key',
  'get_kernel_syms',
  'query_module',
  'create_module',
  'nfsservctl',
  'uselib',
  'ustat',
  'sysfs',
  '_sysctl',
  'vm86',
  'vm86old',
  'kexec_file_load',
  'kexec_load',
  'userfaultfd',
  'move_pages',
  'get_mempolicy',
  'set_mempolicy',
  'mbind',
];

/** Denied unless the container holds the capability that gates them in Docker's profile. */
const deniedWithoutCap: Record<string, string[]> = {
  CAP_SYS_ADMIN: [
    'bpf',
    'clone3',
    'fanotify_init',
    'fsconfig',
    'fsmount',
    'fsopen',
    'fspick',
    'lookup_dcookie',
    'mount',
    'mount_setattr',
    'move_mount',
    'name_to_handle_at',
    'open_tree',
    'perf_event_open',
    'pivot_root',
    'quotactl',
    'quotactl_fd',
    'setdomainname',
    'sethostname',
    'setns',
    'swapoff',
    'swapon',
    'umount',
    'umount2',
    'unshare',
  ],
  CAP_SYS_BOOT: ['reboot'],
  CAP_SYS_MODULE: ['delete_module', 'finit_module', 'init_module'],
  CAP_SYS_PACCT: ['acct'],
  CAP_SYS_PTRACE: ['kcmp', 'process_madvise', 'process_vm_readv', 'process_vm_writev', 'ptrace'],
  CAP_SYS_RAWIO: ['ioperm', 'iopl'],
  CAP_SYS_TIME: ['clock_adjtime', 'clock_settime', 'settimeofday', 'stime'],
  CAP_SYS_NICE: [],
  CAP_SYSLOG: ['syslog'],
};

/** The default profile for a container holding `capabilities` (`CAP_...` names). */
export function defaultSeccompProfile(capabilities: readonly string[]): OciSeccomp {
  const held = new Set(capabilities);
  const names = [...alwaysDenied];
  for (const [cap, calls] of Object.entries(deniedWithoutCap)) if (!held.has(cap)) names.push(...calls);
  const syscalls: OciSeccompSyscall[] = [{ names, action: 'SCMP_ACT_ERRNO', errnoRet: EPERM }];
  // clone3 returns ENOSYS rather than EPERM so that glibc falls back to clone (as Docker does).
  const clone3 = names.indexOf('clone3');
  if (clone3 >= 0) {
    names.splice(clone3, 1);
    syscalls.push({ names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 });
  }
  return {
    defaultAction: 'SCMP_ACT_ALLOW',
    architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
    syscalls,
  };
}
