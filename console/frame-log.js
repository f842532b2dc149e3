// The log of every frame, newest last. Filtering hides entries without dropping
// them; pausing holds new frames back (and counts them) until the user resumes.

/** @typedef {{ direction: 'in' | 'out', text: string, time: Date }} Entry */

/** Oldest entries are dropped past this many, so a busy topic cannot grow the page without end. */
const MAX_ENTRIES = 2000

/**
 * @param {{ list: HTMLOListElement, filter: HTMLInputElement, direction: HTMLSelectElement,
 *   pause: HTMLButtonElement, clear: HTMLButtonElement, held: HTMLOutputElement }} elements
 * @returns {{ add(direction: 'in' | 'out', text: string): void }}
 */
export function createFrameLog({ list, filter, direction, pause, clear, held }) {
  /** @type {Entry[]} */
  let waiting = []
  let paused = false

  /** @param {HTMLElement} item */
  const matches = (item) =>
    (direction.value === '' || item.dataset.direction === direction.value) &&
    (item.textContent ?? '').toLowerCase().includes(filter.value.trim().toLowerCase())

  const applyFilter = () => {
    for (const item of list.children) if (item instanceof HTMLElement) item.hidden = !matches(item)
  }

  /** @param {Entry} entry */
  const show = (entry) => {
    const item = document.createElement('li')
    item.dataset.direction = entry.direction
    const time = document.createElement('time')
    time.dateTime = entry.time.toISOString()
    time.textContent = entry.time.toISOString().slice(11, 23)
    const arrow = document.createElement('span')
    arrow.className = 'direction'
    arrow.textContent = entry.direction === 'out' ? 'sent' : 'received'
    const code = document.createElement('code')
    code.textContent = entry.text
    item.append(time, arrow, code)
    item.hidden = !matches(item)
    const atBottom = list.scrollTop + list.clientHeight >= list.scrollHeight - 4
    list.append(item)
    while (list.children.length > MAX_ENTRIES) list.firstElementChild?.remove()
    if (atBottom) list.scrollTop = list.scrollHeight
  }

  const showHeld = () => {
    held.value = paused ? `${waiting.length} new frame${waiting.length === 1 ? '' : 's'} held` : ''
  }

  filter.addEventListener('input', applyFilter)
  direction.addEventListener('change', applyFilter)
  pause.addEventListener('click', () => {
    paused = !paused
    pause.setAttribute('aria-pressed', String(paused))
    pause.textContent = paused ? 'Resume' : 'Pause'
    if (!paused) {
      for (const entry of waiting) show(entry)
      waiting = []
    }
    showHeld()
  })
  clear.addEventListener('click', () => {
    list.replaceChildren()
    waiting = []
    showHeld()
  })

  return {
    add(direction, text) {
      const entry = { direction, text, time: new Date() }
      if (!paused) return show(entry)
      waiting.push(entry)
      if (waiting.length > MAX_ENTRIES) waiting.shift()
      showHeld()
    },
  }
}
