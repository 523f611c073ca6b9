import type { InputHTMLAttributes } from 'react'

/**
 * A labelled input whose error, when there is one, sits right under it and is wired to it with aria-invalid and
 * aria-describedby, so a screen reader reads the error with the field.
 */
export function TextField(props: {
  readonly id: string
  readonly label: string
  readonly value: string
  readonly onChange: (value: string) => void
  readonly error?: string | undefined
  readonly type?: 'text' | 'password' | 'number' | 'search'
  readonly inputMode?: InputHTMLAttributes<HTMLInputElement>['inputMode']
  readonly placeholder?: string
  readonly autoComplete?: string
  readonly onBlur?: () => void
}) {
  const { id, label, value, onChange, error, type = 'text', inputMode, placeholder, autoComplete = 'off', onBlur } = props
  const errorId = `${id}-error`
  return (
    <div className={error === undefined ? 'field' : 'field field-invalid'}>
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        type={type}
        value={value}
        inputMode={inputMode}
        placeholder={placeholder}
        autoComplete={autoComplete}
        spellCheck={false}
        aria-invalid={error !== undefined}
        aria-describedby={error === undefined ? undefined : errorId}
        onChange={(event) => onChange(event.target.value)}
        onBlur={onBlur}
      />
      {error === undefined ? null : (
        <p id={errorId} className="field-error">
          {error}
        </p>
      )}
    </div>
  )
}

/** A labelled <select> with the same error wiring as TextField. */
export function SelectField<V extends string>(props: {
  readonly id: string
  readonly label: string
  readonly value: V | ''
  readonly options: readonly { readonly value: V; readonly label: string; readonly disabled?: boolean }[]
  readonly onChange: (value: V) => void
  readonly error?: string | undefined
  readonly placeholder?: string
}) {
  const { id, label, value, options, onChange, error, placeholder } = props
  const errorId = `${id}-error`
  return (
    <div className={error === undefined ? 'field' : 'field field-invalid'}>
      <label htmlFor={id}>{label}</label>
      <select
        id={id}
        value={value}
        aria-invalid={error !== undefined}
        aria-describedby={error === undefined ? undefined : errorId}
        onChange={(event) => {
          const picked = options.find((o) => o.value === event.target.value)
          if (picked !== undefined) onChange(picked.value)
        }}
      >
        {placeholder === undefined ? null : (
          <option value="" disabled>
            {placeholder}
          </option>
        )}
        {options.map((o) => (
          <option key={o.value} value={o.value} disabled={o.disabled}>
            {o.label}
          </option>
        ))}
      </select>
      {error === undefined ? null : (
        <p id={errorId} className="field-error">
          {error}
        </p>
      )}
    </div>
  )
}

/** A labelled checkbox (the label wraps it, so clicking the text toggles it). */
export function CheckboxField(props: {
  readonly id: string
  readonly label: string
  readonly checked: boolean
  readonly onChange: (checked: boolean) => void
  readonly disabled?: boolean
  readonly describedBy?: string
}) {
  const { id, label, checked, onChange, disabled, describedBy } = props
  return (
    <div className="field field-check">
      <input
        id={id}
        type="checkbox"
        checked={checked}
        disabled={disabled}
        aria-describedby={describedBy}
        onChange={(event) => onChange(event.target.checked)}
      />
      <label htmlFor={id}>{label}</label>
    </div>
  )
}
