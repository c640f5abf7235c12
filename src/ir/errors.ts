/**
 * Why a network cannot be brought into the IR (an op or layer it cannot express). Importers
 * throw it; `loadModel` catches it and keeps the model on its TF.js form with the reason
 * (`ActmaxModel.irReason`).
 *
 * @example
 * throw new IrError('layer "lstm" (LSTM) is recurrent');
 */
export class IrError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IrError';
  }
}
