/** Preparing a container's mounts at start: tmpfs options and Docker's volume copy-up. */
import { cp, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { PlannedMount } from './create-config.ts';
import type { ContainerRecord } from './record.ts';

/** Mount options of a tmpfs at `dest`, from --tmpfs or a tmpfs --mount. */
export function tmpfsOptions(rec: ContainerRecord, dest: string): string[] {
  const opts = rec.hostConfig.Tmpfs?.[dest];
  if (opts) return opts.split(',').filter((o) => o && o !== 'ro' && o !== 'rw');
  const m = rec.hostConfig.Mounts?.find((x) => x.Type === 'tmpfs' && x.Target === dest);
  const out: string[] = [];
  if (m?.TmpfsOptions?.SizeBytes) out.push(`size=${m.TmpfsOptions.SizeBytes}`);
  if (m?.TmpfsOptions?.Mode) out.push(`mode=${m.TmpfsOptions.Mode.toString(8)}`);
  return out;
}

/** Docker copies the image's content at a volume's mount point into a new, empty volume. */
export async function copyUpIfEmpty(rootfs: string, m: PlannedMount): Promise<void> {
  const entries = await readdir(m.Source).catch(() => ['?']);
  if (entries.length > 0) return;
  const from = join(rootfs, m.Destination);
  const inImage = await readdir(from).catch(() => [] as string[]);
  if (inImage.length === 0) return;
  await cp(from, m.Source, { recursive: true, preserveTimestamps: true, verbatimSymlinks: true });
}
