// Script sections for the network steps of a privileged run (issue 6): loopback aliases and port redirects.
// Linux: an nft table of our own (`table ip acr_bridge`, one nat chain on the output hook) and `ip addr … dev lo`.
// macOS: a pf anchor of our own under Apple's `com.apple/*` anchor point (see docs/platforms.md for why that name),
// one pf enable reference (`pfctl -E` / `-X TOKEN`), and `ifconfig lo0 alias`.
//
// The ONLY variable parts are IPv4 addresses (checked with net.isIP and re-printed canonically), integer ports and
// a pf token made of digits, all of which the app generated. Anything else is a bug and throws. Rule text is given
// to nft/pfctl on stdin through a quoted here-document, so the shell expands nothing inside it.

import { assertCanonicalIpv4, assertPort } from '../platform/addresses.js'
import type { LoopbackAliasStep, PortRedirect, PortRedirectAddStep, PortRedirectRemoveStep } from './types.js'

/** Our nft table (Linux): created on apply, deleted as a whole on revert. */
export const nftTableName = 'acr_bridge'
/** Our pf anchor (macOS), evaluated through the stock `rdr-anchor "com.apple/*"` of /etc/pf.conf. */
export const pfAnchorName = 'com.apple/acr-bridge'
/** The file a macOS apply leaves its pf token in, next to its script in the staging folder. */
export const pfTokenFileName = 'pf-token'
/** Exit code when the tool a step needs is missing (EX_UNAVAILABLE). */
export const toolMissingExitCode = 69
/** Exit code when pf's main ruleset has no `rdr-anchor "com.apple/*"` hook, so our anchor would never be evaluated. */
export const pfHookMissingExitCode = 78

function assertPfToken(token: unknown): string {
  if (typeof token !== 'string' || !/^[0-9]{1,20}$/.test(token)) {
    throw new Error(`privileged script: refusing pf token ${JSON.stringify(token)}: not a decimal number`)
  }
  return token
}

function checkedRedirects(redirects: readonly PortRedirect[]): { address: string; port: string; toPort: string }[] {
  if (redirects.length === 0) throw new Error('privileged script: a port-redirect-add step needs at least one redirect')
  return redirects.map((redirect) => ({
    address: assertCanonicalIpv4(redirect.address, 'redirect address'),
    port: assertPort(redirect.port, 'redirect port'),
    toPort: assertPort(redirect.toPort, 'redirect target port'),
  }))
}

/** The nft ruleset one apply loads (pure; also what the golden files show). Replaces our table atomically. */
export function renderNftRuleset(redirects: readonly PortRedirect[]): string[] {
  const rules = checkedRedirects(redirects).map(
    // `redirect` in the output hook sends locally made connections to 127.0.0.1:toPort (netfilter's rule for
    // locally generated packets), where the tunnel listens.
    (r) => `\t\tip daddr ${r.address} tcp dport ${r.port} redirect to :${r.toPort}`,
  )
  return [
    // Declaring then deleting the table makes the load replace an earlier one in the same transaction.
    `table ip ${nftTableName}`,
    `delete table ip ${nftTableName}`,
    `table ip ${nftTableName} {`,
    '\tchain output {',
    '\t\ttype nat hook output priority -100; policy accept;',
    ...rules,
    '\t}',
    '}',
  ]
}

/** The pf rules one apply loads into our anchor (pure). */
export function renderPfRules(redirects: readonly PortRedirect[]): string[] {
  return checkedRedirects(redirects).map(
    // Locally made connections to an address of this Mac travel over lo0, where rdr rewrites them to the same
    // address on the tunnel's unprivileged port.
    (r) => `rdr pass on lo0 inet proto tcp from any to ${r.address} port ${r.port} -> ${r.address} port ${r.toPort}`,
  )
}

function linuxAlias(step: LoopbackAliasStep): string[] {
  const address = assertCanonicalIpv4(step.address, 'alias address')
  const present = `"$(ip -o -4 addr show dev lo to ${address}/32)"`
  const guard = [`if ! command -v ip >/dev/null 2>&1; then echo 'acr-bridge: ip (iproute2) is not installed' >&2; exit ${toolMissingExitCode}; fi`]
  if (step.action === 'add') {
    return [
      `# loopback-alias add: ${address}/32 on lo (removed on revert; a restart removes it too)`,
      ...guard,
      `if [ -z ${present} ]; then`,
      `  ip addr add ${address}/32 dev lo`,
      'fi',
    ]
  }
  return [
    `# loopback-alias remove: ${address}/32 from lo, if it is there`,
    ...guard,
    `if [ -n ${present} ]; then`,
    `  ip addr del ${address}/32 dev lo`,
    'fi',
  ]
}

function darwinAlias(step: LoopbackAliasStep): string[] {
  const address = assertCanonicalIpv4(step.address, 'alias address')
  // `ifconfig lo0` prints one `inet A netmask M` line per address; -F: the dots are not a pattern.
  const present = `ifconfig lo0 | grep -F -q -- 'inet ${address} '`
  if (step.action === 'add') {
    return [
      `# loopback-alias add: ${address} on lo0 (removed on revert; a restart removes it too)`,
      `if ! ${present}; then`,
      `  ifconfig lo0 alias ${address} netmask 255.255.255.255`,
      'fi',
    ]
  }
  return [
    `# loopback-alias remove: ${address} from lo0, if it is there`,
    `if ${present}; then`,
    `  ifconfig lo0 -alias ${address}`,
    'fi',
  ]
}

function linuxRedirectAdd(step: PortRedirectAddStep): string[] {
  return [
    `# port-redirect-add: our own nft table ip ${nftTableName} (replaced as a whole; revert deletes it)`,
    `if ! command -v nft >/dev/null 2>&1; then echo 'acr-bridge: nft (nftables) is not installed' >&2; exit ${toolMissingExitCode}; fi`,
    "nft -f - <<'ACR_BRIDGE_NFT'",
    ...renderNftRuleset(step.redirects),
    'ACR_BRIDGE_NFT',
  ]
}

function linuxRedirectRemove(): string[] {
  return [
    `# port-redirect-remove: delete our nft table ip ${nftTableName}, if it is there`,
    `if command -v nft >/dev/null 2>&1 && nft list table ip ${nftTableName} >/dev/null 2>&1; then`,
    `  nft delete table ip ${nftTableName}`,
    'fi',
  ]
}

function darwinRedirectAdd(step: PortRedirectAddStep): string[] {
  const release = step.releasePfToken === undefined ? [] : [`pfctl -X ${assertPfToken(step.releasePfToken)} >/dev/null 2>&1 || true`]
  return [
    `# port-redirect-add: rdr rules in our own pf anchor ${pfAnchorName}, and one pf enable reference`,
    // Without the stock hook (a custom /etc/pf.conf) our anchor would load but never be evaluated: say so.
    "if ! pfctl -s nat 2>/dev/null | grep -F -q 'rdr-anchor \"com.apple/*\"'; then",
    "  echo 'acr-bridge: pf-hook-missing' >&2",
    `  exit ${pfHookMissingExitCode}`,
    'fi',
    `pfctl -q -a ${pfAnchorName} -f - <<'ACR_BRIDGE_PF'`,
    ...renderPfRules(step.redirects),
    'ACR_BRIDGE_PF',
    // -E enables pf by reference (never -e/-d: they would override other users of pf, such as the firewall).
    'pf_out=$(pfctl -E 2>&1)',
    "pf_token=$(printf '%s\\n' \"$pf_out\" | sed -n 's/^Token : *\\([0-9][0-9]*\\).*$/\\1/p')",
    // Next to this script, in the app's staging folder: found by the next revert if the app dies before recording it.
    `printf '%s\\n' "$pf_token" > "\${0%/*}/${pfTokenFileName}"`,
    `chmod 644 "\${0%/*}/${pfTokenFileName}"`,
    'echo "acr-bridge: pf-token=$pf_token"',
    // An earlier apply's reference goes only now, so pf never drops to zero references in between.
    ...release,
  ]
}

function darwinRedirectRemove(step: PortRedirectRemoveStep): string[] {
  const release = (step.pfTokens ?? []).map((token) => `pfctl -X ${assertPfToken(token)} >/dev/null 2>&1 || true`)
  return [
    `# port-redirect-remove: empty our pf anchor ${pfAnchorName} (anchor-scoped: other rules and states stay)`,
    `pfctl -q -a ${pfAnchorName} -F nat >/dev/null 2>&1 || true`,
    `pfctl -q -a ${pfAnchorName} -F rules >/dev/null 2>&1 || true`,
    ...release,
  ]
}

/** The POSIX sh section for one network step. */
export function posixNetworkStep(
  platform: 'linux' | 'darwin',
  step: LoopbackAliasStep | PortRedirectAddStep | PortRedirectRemoveStep,
): string[] {
  switch (step.kind) {
    case 'loopback-alias':
      return platform === 'linux' ? linuxAlias(step) : darwinAlias(step)
    case 'port-redirect-add':
      return platform === 'linux' ? linuxRedirectAdd(step) : darwinRedirectAdd(step)
    case 'port-redirect-remove':
      return platform === 'linux' ? linuxRedirectRemove() : darwinRedirectRemove(step)
  }
}

/** Parses `acr-bridge: pf-token=N` from a run's stdout (macOS apply); undefined when pf printed no token. */
export function parsePfToken(stdout: string): string | undefined {
  const match = /^acr-bridge: pf-token=([0-9]{1,20})$/m.exec(stdout)
  return match?.[1]
}
