// Inline validation with the config's own rules (DESIGN.md "Config"): the form refuses what the core would refuse,
// so nothing invalid is ever sent. The core still validates; its INVALID_CONFIG errors are shown at the field too.
import type { MessageKey } from '../../i18n/en.js'

export const instanceNamePattern = /^[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$/
export const instanceIdPattern = /^cri-[a-z0-9]{1,40}$/
/** The part of a new Personal Edition id after `crpi-`. */
export const personalIdPattern = /^[a-z0-9]{1,40}$/

export function validateInstanceName(name: string): MessageKey | undefined {
  if (name.length === 0) return 'validate.nameRequired'
  return instanceNamePattern.test(name) ? undefined : 'validate.nameInvalid'
}

/** The instance id is optional: empty is fine. */
export function validateInstanceId(id: string): MessageKey | undefined {
  if (id.length === 0) return undefined
  return instanceIdPattern.test(id) ? undefined : 'validate.instanceIdInvalid'
}

/** Accepts `crpi-abc` or `abc`; returns the part after `crpi-`, as the config stores it. */
export function normalizePersonalId(input: string): string {
  const trimmed = input.trim()
  return trimmed.startsWith('crpi-') ? trimmed.slice('crpi-'.length) : trimmed
}

export function validatePersonalId(input: string): MessageKey | undefined {
  const id = normalizePersonalId(input)
  if (input.trim().length === 0) return 'validate.crpiRequired'
  return personalIdPattern.test(id) ? undefined : 'validate.crpiInvalid'
}

export function validateRegionChoice(region: string): MessageKey | undefined {
  return region.length === 0 ? 'validate.regionRequired' : undefined
}

const ipv4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/
const ipv6 = /^[0-9a-f:.]+$/i
const dnsName = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*\.?$/i

/** An IPv4 or IPv6 literal or a DNS name: nothing with spaces, `#`, newlines or shell characters. */
export function validateHost(host: string): MessageKey | undefined {
  if (host.length === 0) return 'validate.hostRequired'
  if (ipv4.test(host)) return undefined
  if (host.includes(':')) return ipv6.test(host) && host.split(':').length <= 9 ? undefined : 'validate.hostInvalid'
  return dnsName.test(host) ? undefined : 'validate.hostInvalid'
}

/** A port typed as text: a whole number from 1 to 65535. */
export function parsePort(text: string): number | undefined {
  if (!/^\d{1,5}$/.test(text.trim())) return undefined
  const port = Number(text.trim())
  return port >= 1 && port <= 65535 ? port : undefined
}

export function validatePort(text: string, options: { readonly optional?: boolean } = {}): MessageKey | undefined {
  if (text.trim().length === 0) return options.optional === true ? undefined : 'validate.port'
  return parsePort(text) === undefined ? 'validate.port' : undefined
}
