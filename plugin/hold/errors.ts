// Typed errors of the hold engine: callers match on `code`, never on message text.

export type HoldErrorCode =
  | 'invalid_transition' // a bug: the state machine was asked for a move it does not allow
  | 'unknown_hold'
  | 'not_active' // an operator action on a hold that already finished
  | 'set_incomplete' // operator release of an MPP set that has not arrived in full
  | 'store_version'; // the database was written by a newer schema than this code knows

export class HoldError extends Error {
  override readonly name = 'HoldError';
  constructor(
    readonly code: HoldErrorCode,
    message: string,
  ) {
    super(message);
  }
}
