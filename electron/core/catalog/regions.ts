// Every region of ACR-FACTS.md §1. Chinese names use full-width brackets （） throughout.
//
// Status rules, decided here:
// - `closed`: ACR cannot be used there. Sydney and Mumbai are decommissioned; cn-beijing-finance-1 has no ACR API
//   endpoint and na-south-1 has no ACR evidence at all, so both are treated as closed (unavailable) too, with
//   `unconfirmed` set because that is an inference, not a statement of Alibaba's.
// - `closing`: the local regions Nanjing and Fuzhou, which Alibaba is winding down.
// - `unconfirmed`: ACR availability itself lacks a source (not in the ACR region list excerpt, or a finance /
//   partner region). Per-edition support is unconfirmed for every row, which the listing states once.

import type { Region } from './types.js'

export const regions: readonly Region[] = [
  { id: 'cn-qingdao', nameEn: 'China (Qingdao)', nameZh: '华北1（青岛）', status: 'available' },
  { id: 'cn-beijing', nameEn: 'China (Beijing)', nameZh: '华北2（北京）', status: 'available' },
  {
    id: 'cn-zhangjiakou', nameEn: 'China (Zhangjiakou)', nameZh: '华北3（张家口）', status: 'available',
    note: 'Public auth uses the hyphenated host dockerauth-cn-zhangjiakou.aliyuncs.com; selecting dockerauth adds it.',
  },
  {
    id: 'cn-huhehaote', nameEn: 'China (Hohhot)', nameZh: '华北5（呼和浩特）', status: 'available',
    note: 'No cr-vpc OpenAPI endpoint (matters only for API calls over VPC).',
  },
  {
    id: 'cn-wulanchabu', nameEn: 'China (Ulanqab)', nameZh: '华北6（乌兰察布）', status: 'available',
    note: 'No cr-vpc OpenAPI endpoint (matters only for API calls over VPC).',
  },
  {
    id: 'cn-hangzhou', nameEn: 'China (Hangzhou)', nameZh: '华东1（杭州）', status: 'available',
    note: 'Personal Edition bucket is plain "aliregistry"; the legacy alias registry.aliyuncs.com is not generated (add it to extraHosts if you use it).',
  },
  {
    id: 'cn-shanghai', nameEn: 'China (Shanghai)', nameZh: '华东2（上海）', status: 'available',
    note: 'Personal Edition authenticates in Hangzhou: dockerauth also maps dockerauth.cn-hangzhou.aliyuncs.com (dockerauth-vpc maps dockerauth-vpc.cn-hangzhou, unconfirmed).',
  },
  {
    id: 'cn-nanjing', nameEn: 'China (Nanjing – Local Region)', nameZh: '华东5（南京-本地地域）', status: 'closing',
    unconfirmed: true, note: 'Local region being closed down; not in the ACR region list excerpt (an ACR API endpoint exists).',
  },
  {
    id: 'cn-fuzhou', nameEn: 'China (Fuzhou – Local Region)', nameZh: '华东6（福州-本地地域）', status: 'closing',
    unconfirmed: true, note: 'Local region being decommissioned; not in the ACR region list excerpt (an ACR API endpoint exists).',
  },
  {
    id: 'cn-wuhan-lr', nameEn: 'China (Wuhan – Local Region)', nameZh: '华中1（武汉-本地地域）', status: 'available',
    unconfirmed: true, note: 'Not in the ACR region list excerpt; an ACR API endpoint exists.',
  },
  { id: 'cn-shenzhen', nameEn: 'China (Shenzhen)', nameZh: '华南1（深圳）', status: 'available' },
  {
    id: 'cn-heyuan', nameEn: 'China (Heyuan)', nameZh: '华南2（河源）', status: 'available',
    note: 'No cr-vpc OpenAPI endpoint (matters only for API calls over VPC).',
  },
  {
    id: 'cn-guangzhou', nameEn: 'China (Guangzhou)', nameZh: '华南3（广州）', status: 'available',
    note: 'New Personal Edition instances authenticate at the hyphenated host dockerauth-cn-guangzhou.aliyuncs.com; selecting dockerauth adds it.',
  },
  { id: 'cn-chengdu', nameEn: 'China (Chengdu)', nameZh: '西南1（成都）', status: 'available' },
  { id: 'cn-hongkong', nameEn: 'China (Hong Kong)', nameZh: '中国香港', status: 'available' },
  {
    id: 'cn-zhengzhou-jva', nameEn: 'Zhengzhou (China Unicom JV)', nameZh: '郑州（联通合营）', status: 'available',
    unconfirmed: true, note: 'Not in the ACR region list excerpt; an ACR API endpoint exists.',
  },
  { id: 'ap-northeast-1', nameEn: 'Japan (Tokyo)', nameZh: '日本（东京）', status: 'available' },
  {
    id: 'ap-northeast-2', nameEn: 'South Korea (Seoul)', nameZh: '韩国（首尔）', status: 'available',
    note: 'Personal Edition (legacy registry.<region>) hosts not observed; unconfirmed.',
  },
  { id: 'ap-southeast-1', nameEn: 'Singapore', nameZh: '新加坡', status: 'available' },
  {
    id: 'ap-southeast-2', nameEn: 'Australia (Sydney)', nameZh: '澳大利亚（悉尼）', status: 'closed',
    note: 'Region closed (decommissioned).',
  },
  { id: 'ap-southeast-3', nameEn: 'Malaysia (Kuala Lumpur)', nameZh: '马来西亚（吉隆坡）', status: 'available' },
  { id: 'ap-southeast-5', nameEn: 'Indonesia (Jakarta)', nameZh: '印度尼西亚（雅加达）', status: 'available' },
  {
    id: 'ap-southeast-6', nameEn: 'Philippines (Manila)', nameZh: '菲律宾（马尼拉）', status: 'available',
    note: 'Personal Edition (legacy registry.<region>) hosts not observed; unconfirmed.',
  },
  {
    id: 'ap-southeast-7', nameEn: 'Thailand (Bangkok)', nameZh: '泰国（曼谷）', status: 'available',
    note: 'Personal Edition (legacy registry.<region>) hosts not observed; unconfirmed.',
  },
  {
    id: 'ap-south-1', nameEn: 'India (Mumbai)', nameZh: '印度（孟买）', status: 'closed',
    note: 'Region closed (deactivated).',
  },
  { id: 'us-west-1', nameEn: 'US (Silicon Valley)', nameZh: '美国（硅谷）', status: 'available' },
  { id: 'us-east-1', nameEn: 'US (Virginia)', nameZh: '美国（弗吉尼亚）', status: 'available' },
  { id: 'eu-central-1', nameEn: 'Germany (Frankfurt)', nameZh: '德国（法兰克福）', status: 'available' },
  { id: 'eu-west-1', nameEn: 'UK (London)', nameZh: '英国（伦敦）', status: 'available' },
  { id: 'me-east-1', nameEn: 'UAE (Dubai)', nameZh: '阿联酋（迪拜）', status: 'available' },
  {
    id: 'me-central-1', nameEn: 'SAU (Riyadh – Partner Region)', nameZh: '沙特（利雅得）', status: 'available',
    note: 'Partner-operated region: use may require a support ticket. Personal Edition hosts not observed; unconfirmed.',
  },
  {
    id: 'cn-hangzhou-finance', nameEn: 'China East 1 Finance', nameZh: '华东1 金融云', status: 'available',
    unconfirmed: true, note: 'Finance cloud: ACR listing unconfirmed; OSS uses the region name cn-hzfinance (oss-cn-hzfinance[-internal]), unconfirmed.',
  },
  {
    id: 'cn-shanghai-finance-1', nameEn: 'China East 2 Finance', nameZh: '华东2 金融云', status: 'available',
    unconfirmed: true, note: 'Finance cloud: ACR listing unconfirmed; Enterprise Edition domains seen. OSS host names unconfirmed.',
  },
  {
    id: 'cn-shenzhen-finance-1', nameEn: 'China South 1 Finance', nameZh: '华南1 金融云', status: 'available',
    unconfirmed: true, note: 'Finance cloud: ACR listing unconfirmed; registry-vpc and Enterprise Edition VPC domains seen. OSS host names unconfirmed.',
  },
  {
    id: 'cn-beijing-finance-1', nameEn: 'China North 2 Finance (invitational)', nameZh: '华北2 金融云（邀测）', status: 'closed',
    unconfirmed: true, note: 'ACR is treated as unavailable here: the region has no ACR API endpoint.',
  },
  {
    id: 'na-south-1', nameEn: 'Mexico', nameZh: '墨西哥', status: 'closed',
    unconfirmed: true, note: 'ACR is treated as unavailable here: OSS only, no evidence of ACR. Chinese name unconfirmed.',
  },
]

const byId = new Map(regions.map((region) => [region.id, region]))

/** The catalog region with exactly this id (ids are lower case), or undefined. */
export function findRegion(id: string): Region | undefined {
  return byId.get(id)
}

/** Regions whose OSS endpoints use another name than the region id (ACR-FACTS.md §2.3). */
const ossRegionNames: ReadonlyMap<string, string> = new Map([['cn-hangzhou-finance', 'cn-hzfinance']])

/** The region name inside OSS host names: `oss-<this>[-internal].aliyuncs.com`. */
export function ossRegionName(regionId: string): string {
  return ossRegionNames.get(regionId) ?? regionId
}

/** OSS host names in finance regions come from a third-party transcription (ACR-FACTS.md §2.3). */
export function ossNamesUnconfirmed(regionId: string): string | undefined {
  return regionId.includes('finance') ? 'finance-cloud OSS host names come from a third-party transcription' : undefined
}

/** Regions whose public auth is (also) the hyphenated `dockerauth-<region>.aliyuncs.com` (ACR-FACTS.md §2.5). */
export const hyphenAuthRegions: ReadonlySet<string> = new Set(['cn-zhangjiakou', 'cn-guangzhou'])

/** Regions whose Personal Edition authenticates in another region (ACR-FACTS.md §0.1): cn-shanghai → cn-hangzhou. */
export const crossRegionAuth: ReadonlyMap<string, string> = new Map([['cn-shanghai', 'cn-hangzhou']])
