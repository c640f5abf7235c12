/** Small DOM helpers shared by the panels. */

/** The element with this id (the page's HTML has every id the panels use). */
export const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;

/** An <option> with a value and a text. */
export function option(value: string, text: string): HTMLOptionElement {
  const o = document.createElement('option');
  o.value = value;
  o.textContent = text;
  return o;
}

/** The number typed in an input, or null when it is empty or not a number. */
export function numberOrNull(input: HTMLInputElement): number | null {
  if (input.value.trim() === '') return null;
  const v = Number(input.value);
  return Number.isFinite(v) ? v : null;
}

/** Text made safe for innerHTML. */
export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** Offer a blob as a download named `name`. */
export function download(blob: Blob, name: string): void {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}

export const prod = (s: number[]): number => s.reduce((a, b) => a * b, 1);
