import { describe, expect, it } from 'vitest'
import { cachingLookup } from '../../../electron/core/relay/lookup-cache.js'
import type { ResolvedAddress } from '../../../electron/core/relay/types.js'

const v4 = (address: string): ResolvedAddress => ({ address, family: 4 })

/** A resolver whose answers the test settles by hand, and a clock the test moves. */
function harness(ttlMs = 5_000, maxNames?: number) {
  let time = 1_000
  const calls: string[] = []
  const pending: { name: string; resolve: (answer: readonly ResolvedAddress[]) => void; reject: (error: Error) => void }[] = []
  const lookup = cachingLookup(
    (name) =>
      new Promise((resolve, reject) => {
        calls.push(name)
        pending.push({ name, resolve, reject })
      }),
    { ttlMs, now: () => time, ...(maxNames === undefined ? {} : { maxNames }) },
  )
  const settle = async (answer: readonly ResolvedAddress[] | Error): Promise<void> => {
    const next = pending.shift()
    if (next === undefined) throw new Error('no lookup is waiting')
    if (answer instanceof Error) next.reject(answer)
    else next.resolve(answer)
    await new Promise((resolve) => setImmediate(resolve))
  }
  return { lookup, calls, settle, advance: (ms: number) => void (time += ms) }
}

describe('cachingLookup', () => {
  it('reuses an answer until ttlMs after it arrived, then asks the resolver again', async () => {
    const h = harness(5_000)
    const first = h.lookup('registry-vpc.cn-beijing.aliyuncs.com')
    await h.settle([v4('10.0.0.7')])
    expect(await first).toEqual([v4('10.0.0.7')])

    h.advance(4_999)
    expect(await h.lookup('registry-vpc.cn-beijing.aliyuncs.com')).toEqual([v4('10.0.0.7')])
    expect(h.calls).toHaveLength(1)

    h.advance(1)
    const again = h.lookup('registry-vpc.cn-beijing.aliyuncs.com')
    expect(h.calls).toHaveLength(2)
    await h.settle([v4('10.0.0.8')])
    expect(await again).toEqual([v4('10.0.0.8')])
  })

  it('keeps each name apart', async () => {
    const h = harness()
    const a = h.lookup('a.aliyuncs.com')
    const b = h.lookup('b.aliyuncs.com')
    await h.settle([v4('10.0.0.1')])
    await h.settle([v4('10.0.0.2')])
    expect([await a, await b]).toEqual([[v4('10.0.0.1')], [v4('10.0.0.2')]])
    expect(await h.lookup('b.aliyuncs.com')).toEqual([v4('10.0.0.2')])
    expect(h.calls).toEqual(['a.aliyuncs.com', 'b.aliyuncs.com'])
  })

  it('lets lookups of one name that overlap share one resolver call, however long it takes', async () => {
    const h = harness(5_000)
    const first = h.lookup('oss.aliyuncs.com')
    h.advance(60_000) // a slow resolver: the answer is not there yet, so it cannot have expired
    const second = h.lookup('oss.aliyuncs.com')
    expect(h.calls).toHaveLength(1)
    await h.settle([v4('100.118.58.1')])
    expect(await first).toEqual([v4('100.118.58.1')])
    expect(await second).toEqual([v4('100.118.58.1')])
  })

  it('does not keep a failure: the next lookup asks again', async () => {
    const h = harness()
    const failed = h.lookup('gone.aliyuncs.com')
    const sharing = h.lookup('gone.aliyuncs.com')
    await h.settle(Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' }))
    await expect(failed).rejects.toThrow('ENOTFOUND')
    await expect(sharing).rejects.toThrow('ENOTFOUND')
    const retried = h.lookup('gone.aliyuncs.com')
    expect(h.calls).toHaveLength(2)
    await h.settle([v4('10.0.0.9')])
    expect(await retried).toEqual([v4('10.0.0.9')])
  })

  it('keeps at most maxNames names, dropping the one stored longest ago', async () => {
    const h = harness(5_000, 2)
    for (const name of ['a.aliyuncs.com', 'b.aliyuncs.com', 'c.aliyuncs.com']) {
      const answer = h.lookup(name)
      await h.settle([v4('10.0.0.1')])
      await answer
    }
    await h.lookup('c.aliyuncs.com')
    await h.lookup('b.aliyuncs.com')
    expect(h.calls).toHaveLength(3)
    const dropped = h.lookup('a.aliyuncs.com')
    expect(h.calls).toEqual(['a.aliyuncs.com', 'b.aliyuncs.com', 'c.aliyuncs.com', 'a.aliyuncs.com'])
    await h.settle([v4('10.0.0.1')])
    await dropped
  })
})
