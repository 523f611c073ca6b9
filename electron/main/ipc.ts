// The ONE way a channel gets a handler: check the sender, validate the payload, call the implementation, answer a
// Result. Nothing is thrown across IPC (Electron would keep only the message of a thrown error).

import { err, ok, type Result, type SerializedError } from '../common/result.js'
import type { InvokeChannel, InvokeRequest, InvokeResponse } from '../common/ipc-contract.js'
import { isBridgeError, serializeError } from '../core/errors.js'
import type { Logger } from '../core/logger.js'
import type { IpcMainInvokeEventLike, IpcMainLike } from './electron-surface.js'
import { redact } from './redact.js'

export type Validator<T> = (input: unknown) => T
export type Implementation<C extends InvokeChannel> = (request: InvokeRequest<C>) => Promise<InvokeResponse<C>> | InvokeResponse<C>

export interface HandleContext {
  readonly ipcMain: IpcMainLike
  /** The sender check (see sender.ts): false answers FORBIDDEN and runs nothing. */
  readonly isTrusted: (event: IpcMainInvokeEventLike) => boolean
  readonly logger: Logger
}

export const forbidden: SerializedError = {
  code: 'FORBIDDEN',
  message: 'This request did not come from the ACR Bridge window.',
}

export function handle<C extends InvokeChannel>(
  context: HandleContext,
  channel: C,
  validate: Validator<InvokeRequest<C>>,
  impl: Implementation<C>,
): void {
  context.ipcMain.handle(channel, (event, ...args) => invokeSafely(context, channel, validate, impl, event, args))
}

/** The body of every handler; exported for tests that drive it without an ipcMain. */
export async function invokeSafely<C extends InvokeChannel>(
  context: Pick<HandleContext, 'isTrusted' | 'logger'>,
  channel: C,
  validate: Validator<InvokeRequest<C>>,
  impl: Implementation<C>,
  event: IpcMainInvokeEventLike,
  args: readonly unknown[],
): Promise<Result<InvokeResponse<C>>> {
  let trusted = false
  try {
    trusted = context.isTrusted(event)
  } catch {
    trusted = false
  }
  if (!trusted) {
    context.logger.warn(`[ipc] ${channel}: refused a call from ${describeSender(event)}`)
    return err(forbidden)
  }
  return invokeValidated(context.logger, channel, validate, impl, args)
}

/**
 * What every channel does once its caller passed the sender check: validate the payload, call the implementation,
 * answer a Result. Exported for a caller that checks its sender another way (the test host checks the HTTP origin).
 */
export async function invokeValidated<C extends InvokeChannel>(
  logger: Logger,
  channel: C,
  validate: Validator<InvokeRequest<C>>,
  impl: Implementation<C>,
  args: readonly unknown[],
): Promise<Result<InvokeResponse<C>>> {
  const context = { logger }
  if (args.length > 1) {
    return err({ code: 'USAGE', message: `${channel} takes at most one argument, got ${args.length}.` })
  }
  let request: InvokeRequest<C>
  try {
    request = validate(args[0])
  } catch (error) {
    const serialized = isBridgeError(error)
      ? serializeError(error)
      : { code: 'USAGE', message: `The ${channel} request is not valid: ${errorMessage(error)}` }
    context.logger.warn(`[ipc] ${channel}: rejected payload: ${serialized.message}`)
    return err(serialized)
  }
  try {
    return ok(await impl(request))
  } catch (error) {
    if (isBridgeError(error)) {
      context.logger.info(`[ipc] ${channel}: ${error.code}: ${error.message}`)
      return err(serializeError(error))
    }
    context.logger.error(`[ipc] ${channel} failed`, error)
    return err({ code: 'INTERNAL', message: redact(errorMessage(error)), hint: 'This is a bug; the log file has the details.' })
  }
}

function describeSender(event: IpcMainInvokeEventLike): string {
  const frame = event.senderFrame
  if (frame === null || frame === undefined) return 'a frame that no longer exists'
  let where: string
  try {
    const url = new URL(frame.url)
    where = url.protocol === 'file:' ? 'a local file' : url.origin
  } catch {
    where = 'an unparsable URL'
  }
  return `${frame.parent === null ? 'top frame' : 'subframe'} at ${where}`
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
