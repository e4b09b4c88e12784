import { parseSchedule, validTimeZone } from '../../lib/cron.ts';
import type { ResourceType } from '../resource.ts';
import {
  age,
  ageColumn,
  col,
  containersAndImages,
  formatSelector,
  humanDuration,
  nameColumn,
  num,
  sinceTime,
  str,
} from '../table-format.ts';
import { asArray, ensurePath, getPath, isObject, type KubeObject, setDefault, specOf } from '../types.ts';
import { invalid, notSupported, required, validateMeta, validateWorkloadSelector } from '../validation.ts';
import { defaultPodSpec, validatePodSpec } from './pod.ts';

function defaultJobSpec(spec: Record<string, unknown>): void {
  if (spec.parallelism === undefined && spec.completions === undefined) spec.completions = 1;
  setDefault(spec, 'parallelism', 1);
  setDefault(spec, 'backoffLimit', 6);
  setDefault(spec, 'completionMode', 'NonIndexed');
  setDefault(spec, 'suspend', false);
  setDefault(spec, 'podReplacementPolicy', 'TerminatingOrFailed');
  const podSpec = getPath(spec, ['template', 'spec']);
  if (isObject(podSpec)) {
    setDefault(podSpec, 'restartPolicy', 'Never');
    defaultPodSpec(podSpec);
  }
}

function validateJobSpec(spec: unknown, path: string) {
  const podSpec = getPath(spec, ['template', 'spec']);
  const out = validatePodSpec(podSpec, `${path}.template.spec`);
  const rp = getPath(podSpec, ['restartPolicy']);
  if (rp !== undefined && rp !== 'Never' && rp !== 'OnFailure')
    out.push(notSupported(`${path}.template.spec.restartPolicy`, rp, ['OnFailure', 'Never']));
  return out;
}

function jobStatus(o: KubeObject): string {
  const conds = asArray(getPath(o, ['status', 'conditions']));
  const isTrue = (t: string) => conds.some((c) => c.type === t && c.status === 'True');
  if (isTrue('Complete')) return 'Complete';
  if (isTrue('Failed')) return 'Failed';
  if (getPath(o, ['metadata', 'deletionTimestamp'])) return 'Terminating';
  if (isTrue('Suspended')) return 'Suspended';
  if (isTrue('FailureTarget')) return 'FailureTarget';
  if (isTrue('SuccessCriteriaMet')) return 'SuccessCriteriaMet';
  return 'Running';
}

const jobWide = (o: KubeObject, p: string[]) => containersAndImages(o, p);

export const job: ResourceType = {
  group: 'batch',
  version: 'v1',
  kind: 'Job',
  plural: 'jobs',
  singular: 'job',
  namespaced: true,
  categories: ['all'],
  statusSubresource: true,
  tracksGeneration: true,
  strategy: {
    defaults(obj) {
      defaultJobSpec(specOf(obj));
    },
    prepareForCreate(obj) {
      // The server owns the selector unless manualSelector is set.
      const spec = specOf(obj);
      const uid = obj.metadata.uid ?? '';
      if (spec.manualSelector !== true) {
        spec.selector = { matchLabels: { 'batch.kubernetes.io/controller-uid': uid } };
        const labels = ensurePath(spec, ['template', 'metadata', 'labels']);
        Object.assign(labels, {
          'batch.kubernetes.io/controller-uid': uid,
          'batch.kubernetes.io/job-name': obj.metadata.name ?? '',
          'controller-uid': uid,
          'job-name': obj.metadata.name ?? '',
        });
      }
      obj.status = {};
    },
    validate(obj) {
      const out = [...validateMeta(obj, 'subdomain'), ...validateJobSpec(obj.spec, 'spec')];
      for (const f of ['completions', 'parallelism', 'backoffLimit']) {
        const c = getPath(obj, ['spec', f]);
        if (c !== undefined && c !== null && (typeof c !== 'number' || c < 0))
          out.push(invalid(`spec.${f}`, c, 'must be greater than or equal to 0'));
      }
      // Generated or given (manualSelector), the selector must select the template's pods.
      out.push(...validateWorkloadSelector(obj.spec));
      return out;
    },
    table: {
      columns: [
        nameColumn,
        col('Status'),
        col('Completions'),
        col('Duration'),
        ageColumn,
        col('Containers', 1),
        col('Images', 1),
        col('Selector', 1),
      ],
      row(o, now) {
        const completions = getPath(o, ['spec', 'completions']);
        const succeeded = num(getPath(o, ['status', 'succeeded']));
        const start = getPath(o, ['status', 'startTime']);
        const done = getPath(o, ['status', 'completionTime']);
        const duration =
          typeof start === 'string'
            ? humanDuration((typeof done === 'string' ? Date.parse(done) : now) - Date.parse(start))
            : '';
        return [
          o.metadata.name ?? '',
          jobStatus(o),
          completions === undefined || completions === null
            ? `${succeeded}/1 of ${num(getPath(o, ['spec', 'parallelism']))}`
            : `${succeeded}/${String(completions)}`,
          duration,
          age(o, now),
          ...jobWide(o, ['spec', 'template', 'spec']),
          formatSelector(getPath(o, ['spec', 'selector'])),
        ];
      },
    },
  },
};

export const cronJob: ResourceType = {
  group: 'batch',
  version: 'v1',
  kind: 'CronJob',
  plural: 'cronjobs',
  singular: 'cronjob',
  namespaced: true,
  shortNames: ['cj'],
  categories: ['all'],
  statusSubresource: true,
  tracksGeneration: true,
  strategy: {
    defaults(obj) {
      const spec = specOf(obj);
      setDefault(spec, 'concurrencyPolicy', 'Allow');
      setDefault(spec, 'suspend', false);
      setDefault(spec, 'successfulJobsHistoryLimit', 3);
      setDefault(spec, 'failedJobsHistoryLimit', 1);
      const jobSpec = getPath(spec, ['jobTemplate', 'spec']);
      if (isObject(jobSpec)) defaultJobSpec(jobSpec);
    },
    prepareForCreate(obj) {
      obj.status = {};
    },
    validate(obj) {
      const out = validateMeta(obj, 'subdomain');
      const sched = getPath(obj, ['spec', 'schedule']);
      if (typeof sched !== 'string' || sched.trim() === '') out.push(required('spec.schedule'));
      else {
        try {
          parseSchedule(sched);
        } catch (err) {
          // The parser's message names the fault ("... minute 61 out of range ..."), as upstream's does.
          out.push(
            invalid(
              'spec.schedule',
              sched,
              (err as Error).message.replace(/^parsing cron schedule "[^"]*": /, ''),
            ),
          );
        }
      }
      const tz = getPath(obj, ['spec', 'timeZone']);
      if (typeof tz === 'string' && !validTimeZone(tz))
        out.push(invalid('spec.timeZone', tz, 'unknown time zone ' + tz));
      out.push(...validateJobSpec(getPath(obj, ['spec', 'jobTemplate', 'spec']), 'spec.jobTemplate.spec'));
      if ((obj.metadata.name ?? '').length > 52)
        out.push(invalid('metadata.name', obj.metadata.name, 'must be no more than 52 characters'));
      return out;
    },
    table: {
      columns: [
        nameColumn,
        col('Schedule'),
        col('Timezone'),
        col('Suspend', 0, 'boolean'),
        col('Active', 0, 'integer'),
        col('Last Schedule'),
        ageColumn,
        col('Containers', 1),
        col('Images', 1),
        col('Selector', 1),
      ],
      row: (o, now) => [
        o.metadata.name ?? '',
        str(getPath(o, ['spec', 'schedule']), ''),
        str(getPath(o, ['spec', 'timeZone'])),
        getPath(o, ['spec', 'suspend']) === true ? 'True' : 'False',
        asArray(getPath(o, ['status', 'active'])).length,
        getPath(o, ['status', 'lastScheduleTime'])
          ? sinceTime(getPath(o, ['status', 'lastScheduleTime']), now)
          : '<none>',
        age(o, now),
        ...jobWide(o, ['spec', 'jobTemplate', 'spec', 'template', 'spec']),
        formatSelector(getPath(o, ['spec', 'jobTemplate', 'spec', 'selector'])),
      ],
    },
  },
};
