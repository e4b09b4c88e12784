/**
 * Which Ingresses are ours: those naming one of our IngressClasses (by
 * spec.ingressClassName or the legacy kubernetes.io/ingress.class
 * annotation), and those naming none while the cluster's default class is
 * ours (or no class is marked default, so nobody else claims them).
 */
import type { KubeObject } from '../client/index.ts';
import { controllerName, defaultClassAnnotation, type Ingress, legacyClassAnnotation } from './model.ts';

export function className(ing: Ingress): string | undefined {
  return ing.spec?.ingressClassName ?? ing.metadata.annotations?.[legacyClassAnnotation];
}

export function isOurs(ing: Ingress, classes: readonly KubeObject[]): boolean {
  const ours = new Set(
    classes.filter((c) => c.spec?.controller === controllerName).map((c) => c.metadata.name ?? ''),
  );
  const name = className(ing);
  if (name !== undefined) return ours.has(name);
  const defaults = classes.filter((c) => c.metadata.annotations?.[defaultClassAnnotation] === 'true');
  if (defaults.length === 0) return true;
  return defaults.some((c) => ours.has(c.metadata.name ?? ''));
}
