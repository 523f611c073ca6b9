import { EnterpriseInstances } from './enterprise-instances.js'
import { PersonalInstances } from './personal-instances.js'
import { RegionList } from './region-list.js'

/** Regions and endpoint kinds, Enterprise instances and new Personal Edition instances. */
export function RegionsPanel() {
  return (
    <div className="panel-stack">
      <RegionList />
      <EnterpriseInstances />
      <PersonalInstances />
    </div>
  )
}
