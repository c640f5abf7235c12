/** Exit codes: 0 ok, 1 bug, 2 a problem the user can fix, 130 interrupted. */
export const EXIT = { ok: 0, bug: 1, usage: 2, interrupted: 130 } as const;
