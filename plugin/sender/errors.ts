// Errors the sender SDK throws before anything is sent, each with a stable code so a wallet can tell
// "choose another hold or mode" from "fix the arguments" from "LND could not build the route".
export type SenderErrorCode =
  | 'hold_budget' // the route cannot carry the hold asked for (LND's timelock cap)
  | 'bad_argument' // an argument is out of range or malformed
  | 'route'; // LND could not build or describe the route

export class SenderError extends Error {
  override readonly name = 'SenderError';
  constructor(
    readonly code: SenderErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export const senderError = (code: SenderErrorCode, message: string): SenderError =>
  new SenderError(code, message);
