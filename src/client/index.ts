/**
 * The public surface of client/: what the scheduler, controllers and agent
 * import. See README.md for the picture.
 */
export type { Client, GetOptions } from './client.ts';
export { keyOf, splitKey } from './client.ts';
export type { Clock } from './clock.ts';
export { FakeClock, realClock, sleep } from './clock.ts';
export { errorFromStatus, GoneError, isRetryable, StatusCause, statusOf } from './errors.ts';
export type { EventRecorderOptions } from './event-recorder.ts';
export { EventRecorder } from './event-recorder.ts';
export type { Action, Reactor } from './fake-client.ts';
export { FakeClient } from './fake-client.ts';
export { HttpClient, type HttpClientOptions } from './http-client.ts';
export type { EventHandler, InformerOptions } from './informer.ts';
export { Informer, stripManagedFields } from './informer.ts';
export type { InformerFactoryOptions, InformerScope } from './informer-factory.ts';
export { InformerFactory } from './informer-factory.ts';
export type { Connection } from './kubeconfig.ts';
export { connectionFromKubeconfig, loadKubeconfig } from './kubeconfig.ts';
export type { LeaderElectionOptions } from './leader-election.ts';
export { LeaderElector } from './leader-election.ts';
export type * from './objects.ts';
export type { RateLimiter } from './rate-limiter.ts';
export {
  BucketRateLimiter,
  defaultControllerRateLimiter,
  ExponentialRateLimiter,
  MaxOfRateLimiter,
} from './rate-limiter.ts';
export { type ResourceName, resources } from './resources.ts';
export { compileSelector, type Selector } from './selectors.ts';
export type { IndexFunc } from './store.ts';
export { namespaceIndex, nodeNameIndex, Store } from './store.ts';
export type { Clientset } from './typed.ts';
export { clientset, PodClient, ResourceClient, ScalableClient } from './typed.ts';
export type * from './types.ts';
export { apiVersionOf, resourceKey } from './types.ts';
export type { RunWorkersOptions, WorkqueueOptions } from './workqueue.ts';
export { runWorkers, Workqueue } from './workqueue.ts';
