// One resource's whole life, in confd's order, composed of the pipeline's steps: render in memory
// and compare with the destination (candidate.ts) → (unchanged: stop, no stage file, no commands)
// → stage file (staged-file.ts) → check_cmd against it (check-and-reload.ts) → rename → reload_cmd.
// Any failure leaves the destination as it was (the reload runs after the rename, so a failed
// reload leaves the new file, as in confd).
import type { KeyStore } from '../template/confd/store.js';
import { logChange, redactSecrets } from './audit.js';
import { renderCandidate, writeNoopDiff } from './candidate.js';
import { reloadAfterCommit, renderCheckCmd, runCheck } from './check-and-reload.js';
import { ResourceError, type ProcessOptions, type ResourceStatus, type TemplateResource } from './model.js';
import { StagedFile } from './staged-file.js';

/** Processes one resource against its store. Throws ResourceError with the message confd would log. */
export async function processResource(resource: TemplateResource, store: KeyStore, opts: ProcessOptions): Promise<ResourceStatus> {
  const { log } = opts;
  const dest = resource.dest;
  const candidate = await renderCandidate(resource, store, {
    log,
    maxOutputBytes: opts.maxOutputBytes,
    reportDifferences: true,
    longRunning: opts.commands !== undefined,
  });

  if (opts.noop) {
    log.warning(`Noop mode enabled. ${dest} will not be modified`);
    if (candidate.changed) await writeNoopDiff(candidate, opts);
    return 'noop';
  }
  if (!candidate.changed) {
    log.debug(`Target config ${dest} in sync`);
    return 'unchanged';
  }

  log.info(`Target config ${dest} out of sync`);
  let staged: StagedFile;
  try {
    staged = await StagedFile.write(dest, candidate.rendered, candidate.attrs);
  } catch (e) {
    throw new ResourceError((e as Error).message, 'write');
  }
  try {
    if (!opts.syncOnly && resource.checkCmd !== '') {
      try {
        // nginx -t and its kind quote the lines they reject, which may hold a secret.
        await runCheck(renderCheckCmd(resource.checkCmd, staged.path), resource, opts, (output) => redactSecrets(output, resource, store));
      } catch (e) {
        throw new ResourceError(`Config check failed: ${(e as Error).message}`, 'check');
      }
    }
    log.debug(`Overwriting target config ${dest}`);
    let result;
    try {
      result = await staged.commit({ allowInPlace: resource.inPlace, keepStageFile: opts.keepStageFile, dirSync: opts.dirSync });
    } catch (e) {
      throw new ResourceError((e as Error).message, 'write');
    }
    if (result.inPlace) {
      log.warning(`${result.renameError}: ${dest} is likely a mount point; wrote it in place (not atomic) and verified its content`);
    }
  } finally {
    await staged.discard(opts);
  }
  if (opts.logDiff) await logChange(resource, store, candidate.current?.content, candidate.rendered, opts);

  await reloadAfterCommit([resource], opts);
  log.info(`Target config ${dest} has been updated`);
  return 'updated';
}
