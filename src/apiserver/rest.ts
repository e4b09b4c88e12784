import { qualifiedResource } from '../api/resource.ts';
import { ForbiddenError } from '../lib/errors.ts';
import type { RestContext } from './rest-context.ts';
import { handleGet, handleList, handleWatch } from './rest-read.ts';
import {
  handleCreate,
  handleDelete,
  handleDeleteCollection,
  handlePatch,
  handleUpdate,
} from './rest-write.ts';
import { methodNotAllowed, notFoundStatus } from './status.ts';
import { handleReview, handleSubresource } from './subresources.ts';

/** Authorizes, then runs the verb on the kind through the generic handlers. */
export async function handleResource(ctx: RestContext): Promise<void> {
  const { info, type } = ctx;
  const decision = await ctx.authorizer.authorize({
    user: ctx.user,
    verb: info.verb,
    group: type.group,
    resource: type.plural,
    subresource: info.subresource,
    namespace: info.namespace,
    name: info.name,
  });
  if (!decision.allowed) {
    const where = info.namespace
      ? ` in the namespace "${info.namespace}"`
      : type.namespaced
        ? ''
        : ' at the cluster scope';
    const res = info.subresource ? `${type.plural}/${info.subresource}` : type.plural;
    throw new ForbiddenError(
      `${qualifiedResource(type)}${info.name ? ` "${info.name}"` : ''} is forbidden: User "${ctx.user.name}" cannot ${info.verb} resource "${res}" in API group "${type.group}"${where}${decision.reason ? `: ${decision.reason}` : ''}`,
    );
  }
  if (type.createOnly) {
    if (info.verb !== 'create') throw methodNotAllowed(`${info.verb} is not supported on ${type.plural}`);
    await handleReview(ctx);
    return;
  }
  if (info.subresource) {
    if (!(await handleSubresource(ctx)))
      throw notFoundStatus(`${type.plural}/${info.subresource}`, info.name ?? '');
    return;
  }
  if ((info.verb === 'update' || info.verb === 'patch') && !info.name) {
    throw methodNotAllowed(`${ctx.req.method ?? ''} is not allowed on a collection of ${type.plural}`);
  }
  switch (info.verb) {
    case 'get':
      return handleGet(ctx);
    case 'list':
      return handleList(ctx);
    case 'watch':
      return handleWatch(ctx);
    case 'create':
      return handleCreate(ctx);
    case 'update':
      return handleUpdate(ctx);
    case 'patch':
      return handlePatch(ctx);
    case 'delete':
      return handleDelete(ctx);
    case 'deletecollection':
      return handleDeleteCollection(ctx);
    default:
      throw methodNotAllowed(`the server does not allow this method on the requested resource`);
  }
}
