import type { ResourceType, TablePrinter } from '../resource.ts';
import { age, ageColumn, col, nameColumn } from '../table-format.ts';
import { asArray, getPath, type KubeObject } from '../types.ts';
import { immutable, required, validateMeta } from '../validation.ts';

const group = 'rbac.authorization.k8s.io';

const createdAt: TablePrinter = {
  columns: [nameColumn, { name: 'Created At', type: 'date', description: 'creation time' }],
  row: (o) => [o.metadata.name ?? '', o.metadata.creationTimestamp ?? ''],
};

function subjects(o: KubeObject, kind: string): string {
  return asArray(o.subjects)
    .filter((s) => s.kind === kind)
    .map((s) =>
      kind === 'ServiceAccount' ? `${String(s.namespace ?? '')}/${String(s.name)}` : String(s.name),
    )
    .join(', ');
}

const bindingTable: TablePrinter = {
  columns: [nameColumn, col('Role'), ageColumn, col('Users', 1), col('Groups', 1), col('ServiceAccounts', 1)],
  row: (o, now) => [
    o.metadata.name ?? '',
    `${String(getPath(o, ['roleRef', 'kind']))}/${String(getPath(o, ['roleRef', 'name']))}`,
    age(o, now),
    subjects(o, 'User'),
    subjects(o, 'Group'),
    subjects(o, 'ServiceAccount'),
  ],
};

function bindingValidate(o: KubeObject, old?: KubeObject) {
  const out = validateMeta(o, 'path');
  if (!getPath(o, ['roleRef', 'name'])) out.push(required('roleRef.name'));
  if (!getPath(o, ['roleRef', 'kind'])) out.push(required('roleRef.kind'));
  if (old) out.push(...immutable(old.roleRef, o.roleRef, 'roleRef'));
  return out;
}

function rbac(kind: string, plural: string, namespaced: boolean, binding: boolean): ResourceType {
  return {
    group,
    version: 'v1',
    kind,
    plural,
    singular: kind.toLowerCase(),
    namespaced,
    strategy: binding
      ? { validate: bindingValidate, table: bindingTable }
      : { validate: (o) => validateMeta(o, 'path'), table: createdAt },
  };
}

export const role = rbac('Role', 'roles', true, false);
export const clusterRole = rbac('ClusterRole', 'clusterroles', false, false);
export const roleBinding = rbac('RoleBinding', 'rolebindings', true, true);
export const clusterRoleBinding = rbac('ClusterRoleBinding', 'clusterrolebindings', false, true);
