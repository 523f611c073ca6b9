import { useRef, type KeyboardEvent, type ReactNode } from 'react'

export interface TabItem<Id extends string> {
  readonly id: Id
  readonly label: string
}

/**
 * A WAI-ARIA tab list: one tab in the tab order (roving tabindex), arrow keys / Home / End move and select,
 * the panel is labelled by its tab. Only the selected panel is rendered.
 */
export function Tabs<Id extends string>(props: {
  readonly label: string
  readonly items: readonly TabItem<Id>[]
  readonly selected: Id
  readonly onSelect: (id: Id) => void
  readonly children: ReactNode
}) {
  const { label, items, selected, onSelect, children } = props
  const refs = useRef(new Map<Id, HTMLButtonElement>())

  function move(event: KeyboardEvent<HTMLButtonElement>, index: number) {
    let next: number
    if (event.key === 'ArrowRight' || event.key === 'ArrowDown') next = (index + 1) % items.length
    else if (event.key === 'ArrowLeft' || event.key === 'ArrowUp') next = (index - 1 + items.length) % items.length
    else if (event.key === 'Home') next = 0
    else if (event.key === 'End') next = items.length - 1
    else return
    event.preventDefault()
    const item = items[next]
    if (item === undefined) return
    onSelect(item.id)
    refs.current.get(item.id)?.focus()
  }

  return (
    <div className="tabs">
      <div role="tablist" aria-label={label} className="tab-list">
        {items.map((item, index) => (
          <button
            key={item.id}
            ref={(el) => {
              if (el === null) refs.current.delete(item.id)
              else refs.current.set(item.id, el)
            }}
            type="button"
            role="tab"
            id={`tab-${item.id}`}
            aria-selected={item.id === selected}
            // Only the selected panel exists, so only its tab points at it.
            aria-controls={item.id === selected ? `panel-${item.id}` : undefined}
            tabIndex={item.id === selected ? 0 : -1}
            className="tab"
            onClick={() => onSelect(item.id)}
            onKeyDown={(event) => move(event, index)}
          >
            {item.label}
          </button>
        ))}
      </div>
      <div role="tabpanel" id={`panel-${selected}`} aria-labelledby={`tab-${selected}`} tabIndex={0} className="tab-panel">
        {children}
      </div>
    </div>
  )
}
